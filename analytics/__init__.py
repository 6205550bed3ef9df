"""Hotline compound analytics: store, ingestion and statistics. Never imports streamlit."""
