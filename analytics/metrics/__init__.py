"""Measures over tickets or the compound-month summary: counts, rates, repeats, trends, surges."""
