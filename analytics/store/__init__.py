"""The store: connection, schema and migrations, summaries, stored results, backups."""
