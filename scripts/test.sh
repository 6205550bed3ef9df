#!/usr/bin/env bash
# Run the whole test suite: unit, AppTest page tests and the headless-Chromium smoke test.
source "$(dirname "$0")/_venv.sh" requirements-dev.txt

# The browser test needs Chromium and a font with Chinese glyphs; the DuckLake backend's tests
# need PostgreSQL's server binaries (the tests start a server of their own on a unix socket and
# stop it). fc-list's whole answer is read into a variable first: piping it into `grep -q` under
# pipefail fails at random (grep exits at the first match, fc-list then dies of SIGPIPE), which
# would read as "fonts missing".
have_chromium() { command -v chromium >/dev/null 2>&1; }
have_cjk_fonts() {
  local families
  families="$(fc-list :lang=zh family 2>/dev/null)" || return 1
  [ -n "$families" ]
}
have_postgres() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1; }
missing=()
have_chromium || missing+=(chromium)
have_cjk_fonts || missing+=(fonts-noto-cjk)
have_postgres || missing+=(postgresql)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]} for the browser and DuckLake tests" >&2
    # no package mirror (offline, firewalled) must not stop the tests: those tests then skip
    # and say why
    if ! (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") \
      >/dev/null 2>&1; then
      echo "could not install ${missing[*]}: the tests that need them will be skipped" >&2
    fi
  else
    echo "${missing[*]} missing and not root: the tests that need them will be skipped" >&2
  fi
fi
export PYTHONHASHSEED=0
# one worker per core (pytest-xdist): the suite is CPU-bound and its tests share nothing but the
# machine; the slowest ones are listed at the end
exec .venv/bin/python -m pytest -q -n auto --durations=15 "$@"
