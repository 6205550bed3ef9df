#!/usr/bin/env bash
# Run the dashboard. On a store with no data it builds the demo district first.
source "$(dirname "$0")/_venv.sh" requirements.txt
exec .venv/bin/streamlit run dashboard.py "$@"
