"""Glue between models and the store; task forces; users and access."""
