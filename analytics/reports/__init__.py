"""What users read: charts, the briefing, exports."""
