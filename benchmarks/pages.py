"""Time every page: server-side (AppTest, caches cold and warm) and first chart in a browser.

    .venv/bin/python -m benchmarks.pages                       # demo district (+ city if its store exists)
    .venv/bin/python -m benchmarks.pages --db /tmp/city.duckdb # a city-scale store
    .venv/bin/python -m benchmarks.pages --skip-city --skip-browser

Stores: the demo district at --demo-db (built with `python -m analytics --db PATH demo` when
missing) and a city-scale store at --db (default benchmarks/out/city.duckdb from
benchmarks/city.py); without one, pass --skip-city. A store without the demo accounts gets one
administrator account for the benchmark (BENCH_USER), recorded in its audit log.

Server side: for each page, a fresh AppTest logs in as an administrator (who may open every
page), then `st.cache_data` is cleared and the switch to the page is timed (cold: every cached
read recomputed, as after an upload), then the same page is run again (warm). The median of
--repeats cold runs is reported. The DuckDB connection stays open, as in a running server.

Browser: a real `streamlit run` server and headless system Chromium; after logging in, the
time from clicking the page in the menu to the first drawn plotly chart (`.js-plotly-plot
.main-svg` outside stale elements), and to the end of the script run. First visit after the
server started (cold) and a second visit (warm).

The effects page reads the effects model's result stored in the store (analytics.store.results) while
it is fresh: `effects` is timed with it fresh (as after any write from the app, which rebuilds
it), `effects_stale_store` with the page's row deleted before each cold run (the page then fits
the model itself and stores the result).

Targets, caches cold: every page under 1 s server-side at district scale, under 3 s at city
scale. Prints a table and writes benchmarks/out/pages.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures import live_server  # noqa: E402

OUT_DIR = ROOT / "benchmarks" / "out"
DEMO_DB = OUT_DIR / "demo.duckdb"
CITY_DB = OUT_DIR / "city.duckdb"
TARGET_S = {"district": 1.0, "city": 3.0}
ADMIN_DEMO = ("demo_admin", "demo1234")
BENCH_USER = ("bench_admin", "bench-admin-pass-1")
# url path, script, Chinese menu title (as dashboard.PAGES and ui.i18n define them)
PAGES: tuple[tuple[str, str, str], ...] = (
    ("overview", "pages/overview.py", "总览"),
    ("ranking", "pages/ranking.py", "重点小区排名"),
    ("taskforces", "pages/taskforces.py", "专班跟踪"),
    ("effects", "pages/effects.py", "整治成效"),
    ("profile", "pages/profile.py", "小区档案"),
    ("upload", "pages/upload.py", "数据上传"),
    ("admin", "pages/admin.py", "管理"),
)
# server-side runs besides PAGES, (key, script), with the page's stored result deleted first.
# `effects` itself is timed with its stored result fresh, the normal case after any write from
# the app (ui.store.invalidate rebuilds it); this variant deletes the row first, as when the
# store was changed outside the app, so the page fits the model itself.
STALE_VARIANTS: tuple[tuple[str, str], ...] = (("effects_stale_store", "pages/effects.py"),)
APPTEST_TIMEOUT_S = 300
PAGE_TIMEOUT_MS = 120_000
RUN_DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
FRESH_CHART = '[data-testid="stElementContainer"]:not([data-stale="true"]) .js-plotly-plot .main-svg'


# ------------------------------------------------------------------ a live server (also for benchmarks.load)


def running_server(
    path: Path, log_path: Path, extra_env: dict[str, str] | None = None
) -> contextlib.AbstractContextManager[str]:
    """The dashboard serving the store at `path`, uploads up to 2 GB (the load run sends 68 MB)."""
    return live_server.running_server(path, log_path, ("--server.maxUploadSize", "2000"), extra_env)


def log_in(page: Any, base: str, username: str, password: str, path: str = "", wait: bool = True) -> None:
    """Fill the login form and submit; with `wait`, until the menu is there and the run ended."""
    from tests.fixtures.live_server import wait_for_run

    page.goto(f"{base}/{path}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    if wait:
        page.wait_for_selector(live_server.MENU_LINK, timeout=PAGE_TIMEOUT_MS)
        wait_for_run(page)


def ensure_demo(path: Path) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"building the demo district at {path} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "analytics", "--db", str(path), "demo"], cwd=ROOT, check=True)


def admin_account(path: Path) -> tuple[str, str]:
    """The demo administrator, or a benchmark administrator added to a store without one."""
    from analytics.services import auth
    from analytics.store import db

    con = db.connect(path)
    try:
        if auth.get_user(con, ADMIN_DEMO[0]) is not None:
            return ADMIN_DEMO
        if auth.get_user(con, BENCH_USER[0]) is None:
            auth.add_user(con, BENCH_USER[0], BENCH_USER[1], "admin", user="benchmarks.pages")
        else:
            auth.reset_password(con, BENCH_USER[0], BENCH_USER[1], user="benchmarks.pages")
        return BENCH_USER
    finally:
        con.close()


# ------------------------------------------------------------------ server side (AppTest)


def server_side(path: Path, account: tuple[str, str], repeats: int) -> dict[str, dict[str, Any]]:
    """Run `measure_server` in a child process: its connection must not hold the store's file
    lock when the browser part starts a server on the same store."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.pages", "--server-child", str(path), *account, str(repeats)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure_server(path: Path, account: tuple[str, str], repeats: int) -> dict[str, dict[str, Any]]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from analytics.services import effects
    from analytics.store import db
    from analytics.store import results as stored
    from tests.fixtures.apptest import errors_of, login

    os.environ["HOTLINE_DB"] = str(path)
    # same process and path as the pages' connection: DuckDB shares one database between them
    con = db.connect(Path(path).resolve())
    runs = [(key, script, False) for key, script, _title in PAGES]
    runs += [(key, script, True) for key, script in STALE_VARIANTS]
    results: dict[str, dict[str, Any]] = {}
    for key, script, stale in runs:
        cold: list[float] = []
        warm: list[float] = []
        errors: list[str] = []
        for _ in range(repeats):
            at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=APPTEST_TIMEOUT_S)
            login(at, *account)
            # what a write from the app leaves behind (a few ms when nothing changed) ...
            effects.refresh_stored(con)
            if stale:  # ... or, for the variant, no stored result for this page
                stored.forget(con, effects.STORED_NAME, effects.stored_args())
            st.cache_data.clear()
            t0 = time.perf_counter()
            at.switch_page(script).run()
            cold.append(time.perf_counter() - t0)
            errors += errors_of(at)
            t0 = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - t0)
            errors += errors_of(at)
        results[key] = {
            "cold_s": round(statistics.median(cold), 3),
            "cold_max_s": round(max(cold), 3),
            "warm_s": round(statistics.median(warm), 3),
            "errors": sorted(set(errors)),
        }
        print(f"  server {key:<19} cold {results[key]['cold_s']:6.2f} s  warm {results[key]['warm_s']:6.2f} s",
              file=sys.stderr)  # fmt: skip
    con.close()
    return results


# ------------------------------------------------------------------ browser


def browser_side(path: Path, account: tuple[str, str]) -> dict[str, dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    from tests.fixtures.live_server import CHROMIUM, CHROMIUM_ARGS, ERROR_SELECTOR, wait_for_run

    results: dict[str, dict[str, Any]] = {}
    with running_server(path, OUT_DIR / f"pages_server_{path.stem}.log") as base, sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            # the landing page (the overview) is timed from the login click
            t0 = time.perf_counter()
            log_in(page, base, *account, wait=False)
            results["overview"] = {"cold": visit(page, "总览", t0, ERROR_SELECTOR)}
            nav = page.locator(live_server.SIDEBAR)
            for visit_kind in ("cold", "warm"):
                for key, _script, title in PAGES:
                    if visit_kind == "cold" and key == "overview":
                        continue
                    t0 = time.perf_counter()
                    nav.get_by_role("link", name=title).click()
                    results.setdefault(key, {})[visit_kind] = visit(page, title, t0, ERROR_SELECTOR)
                    wait_for_run(page)
                    r = results[key][visit_kind]
                    print(f"  browser {key:<11} {visit_kind}: first chart {r['first_chart_s']} s, "
                          f"done {r['done_s']} s", file=sys.stderr)  # fmt: skip
            context.close()
        finally:
            chromium.close()
    return results


def visit(page: Any, title: str, t0: float, error_selector: str) -> dict[str, Any]:
    """Seconds from t0 to the page's title, its first fresh chart (if it has any) and the end
    of the run; plus the number of charts and error boxes."""
    page.wait_for_function(
        "t => [...document.querySelectorAll('h1')].some(h => h.innerText.trim() === t)", arg=title
    )
    t_title = time.perf_counter() - t0
    # a chart or the end of the run, whichever comes first (upload and admin draw no chart)
    page.wait_for_function(
        "sel => document.querySelector(sel) || document.querySelector("
        '\'[data-testid="stApp"][data-test-script-state="notRunning"]\')',
        arg=FRESH_CHART,
    )
    if page.locator('[data-testid="stPlotlyChart"]').count():
        page.wait_for_selector(FRESH_CHART, state="attached")  # drawn just after the run ended
    t_chart = time.perf_counter() - t0 if page.query_selector(FRESH_CHART) else None
    page.wait_for_selector(RUN_DONE)  # the run started before the title was drawn
    t_done = time.perf_counter() - t0
    return {
        "title_s": round(t_title, 3),
        "first_chart_s": None if t_chart is None else round(t_chart, 3),
        "done_s": round(t_done, 3),
        "charts": page.locator(".js-plotly-plot").count(),
        "errors": [e.inner_text() for e in page.query_selector_all(error_selector)],
    }


# ------------------------------------------------------------------ report


def secs(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def table(name: str, scale: str, server: dict, browser: dict | None) -> list[str]:
    target = TARGET_S[scale]
    lines = [
        f"\n{name} ({scale}; target: every page under {target:.0f} s server-side, caches cold)",
        f"{'page':<19} {'cold s':>7} {'warm s':>7} {'target':>7} {'chart cold':>11} {'chart warm':>11} {'errors':>7}",
    ]
    for key in [k for k, _script, _title in PAGES] + [k for k, _script in STALE_VARIANTS]:
        s = server.get(key, {})
        b = (browser or {}).get(key, {})
        chart = {k: secs((b.get(k) or {}).get("first_chart_s")) for k in ("cold", "warm")}
        errs = len(s.get("errors", [])) + sum(
            len((b.get(k) or {}).get("errors", [])) for k in ("cold", "warm")
        )
        ok = "ok" if s.get("cold_s", 99) < target else "MISS"
        lines.append(
            f"{key:<19} {secs(s.get('cold_s')):>7} {secs(s.get('warm_s')):>7} {ok:>7} "
            f"{chart['cold']:>11} {chart['warm']:>11} {errs:>7}"
        )
    return lines


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--demo-db", type=Path, default=DEMO_DB)
    parser.add_argument(
        "--db", type=Path, default=None, help="city-scale store (default benchmarks/out/city.duckdb)"
    )
    parser.add_argument("--skip-city", action="store_true")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--repeats", type=int, default=3, help="cold runs per page (median reported)")
    parser.add_argument("--out", type=Path, default=OUT_DIR / "pages.json")
    parser.add_argument("--server-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.server_child:
        path, user, password, repeats = args.server_child
        print(json.dumps(measure_server(Path(path), (user, password), int(repeats))))
        return 0

    ensure_demo(args.demo_db)
    stores = [("demo district", "district", args.demo_db)]
    city = args.db or CITY_DB
    if not args.skip_city:
        if not city.exists():
            parser.error(
                f"no city-scale store at {city}: run benchmarks/city.py --keep, give --db, or --skip-city"
            )
        stores.append(("city", "city", city))

    report: dict[str, Any] = {"machine_before": machine(), "stores": {}}
    lines: list[str] = []
    for name, scale, path in stores:
        print(f"{name}: {path}", file=sys.stderr)
        account = admin_account(path)
        server = server_side(path, account, args.repeats)
        browser = None if args.skip_browser else browser_side(path, account)
        slow = [k for k, v in server.items() if v["cold_s"] >= TARGET_S[scale]]
        stale_keys = {k for k, _script in STALE_VARIANTS}
        misses = [k for k in slow if k not in stale_keys]
        report["stores"][name] = {
            "path": str(path),
            "scale": scale,
            "target_s": TARGET_S[scale],
            "server": server,
            "browser": browser,
            "misses": misses,
            "misses_stale_store": [k for k in slow if k in stale_keys],
        }
        lines += table(name, scale, server, browser)
    report["machine_after"] = machine()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print("\n".join(lines))
    print(f"\nload {report['machine_before']['load_1min']} -> {report['machine_after']['load_1min']} "
          f"on {report['machine_before']['cpus']} cpus; wrote {args.out}")  # fmt: skip
    errors = any(v["errors"] for s in report["stores"].values() for v in s["server"].values())
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
