"""Ranking and effects models."""
