#!/usr/bin/env bash
# Run the whole test suite: unit, AppTest page tests and the headless-Chromium smoke test.
source "$(dirname "$0")/_venv.sh" requirements-dev.txt
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
  if [ "$(id -u)" = "0" ]; then
    echo "installing chromium and CJK fonts for the browser test" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk) >/dev/null
  else
    echo "chromium or CJK fonts missing and not root: the browser test will be skipped" >&2
  fi
fi
export PYTHONHASHSEED=0
exec .venv/bin/python -m pytest -q "$@"
