#!/usr/bin/env bash
# Run the whole test suite: unit, AppTest page tests and the headless-Chromium smoke test.
source "$(dirname "$0")/_venv.sh" requirements-dev.txt

# The browser test needs Chromium and a font with Chinese glyphs. fc-list's whole answer is read
# into a variable first: piping it into `grep -q` under pipefail fails at random (grep exits at
# the first match, fc-list then dies of SIGPIPE), which would read as "fonts missing".
have_chromium() { command -v chromium >/dev/null 2>&1; }
have_cjk_fonts() {
  local families
  families="$(fc-list :lang=zh family 2>/dev/null)" || return 1
  [ -n "$families" ]
}
if ! have_chromium || ! have_cjk_fonts; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium and CJK fonts for the browser test" >&2
    # no package mirror (offline, firewalled) must not stop the tests: the browser test then
    # skips and says why
    if ! (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk) \
      >/dev/null 2>&1; then
      echo "could not install chromium or CJK fonts: the browser test will be skipped" >&2
    fi
  else
    echo "chromium or CJK fonts missing and not root: the browser test will be skipped" >&2
  fi
fi
export PYTHONHASHSEED=0
# one worker per core (pytest-xdist): the suite is CPU-bound and its tests share nothing but the
# machine; the slowest ones are listed at the end
exec .venv/bin/python -m pytest -q -n auto --durations=15 "$@"
