"""A bounded load run on loopback: 20 leaders browse while an analyst uploads a large export.

    .venv/bin/python -m benchmarks.load [--users 20] [--browsers 4] [--rounds 3] [--rows 200000] [--deadline 540]

1. A private copy of the demo store (benchmarks/out/demo.duckdb, built when missing) and a
   generated export of --rows tickets (benchmarks/gen_tickets.py) for the demo's compounds,
   with a 小区 column as the district's exports carry it, ticket numbers prefixed LOAD.
2. One `streamlit run` server on 127.0.0.1 serving that copy.
3. --browsers headless system Chromium processes (each composites all its pages in one GPU
   process, which one browser for twenty users turns into the bottleneck), with --users + 1
   contexts spread over them (async playwright):
   - each leader context logs in as demo_leader (landing on the overview) and opens the ranking
     page, --rounds times (a fresh login each round); a page's time runs from the click (login
     or menu) until its script run has ended and every plotly chart on it is drawn;
   - at the same time the analyst context logs in as demo_analyst, opens 数据上传, hands the file
     to the file uploader (set_input_files), validates, then clicks 确认导入 and waits for the
     result message.
4. Errors: every stException or red error box on any page (finished or not), and any page that
   did not finish (its screenshot is saved as benchmarks/out/load_unfinished_*.png). CPU
   seconds of the server and of Chromium are sampled every second.
   The upload landed whole when the store afterwards holds exactly --rows LOAD tickets and one
   batch with inserted == --rows.

Everything stops by itself: each page waits at most PAGE_TIMEOUT_S, the whole run at most
--deadline seconds. Prints a table and writes benchmarks/out/load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.pages import DEMO_DB, OUT_DIR, ensure_demo, running_server  # noqa: E402
from tests.fixtures.live_server import MENU_LINK, SIDEBAR  # noqa: E402

LEADER = ("demo_leader", "demo1234")
ANALYST = ("demo_analyst", "demo1234")
PREFIX = "LOAD"
PAGE_TIMEOUT_S = 240
UPLOAD_TIMEOUT_S = 480
ERROR_SELECTOR = '[data-testid="stException"], [data-testid="stAlertContentError"]'
RUN_DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
RUN_BUSY = '[data-testid="stApp"][data-test-script-state="running"]'
FRESH_CHART = '[data-testid="stElementContainer"]:not([data-stale="true"]) .js-plotly-plot .main-svg'
ADDRESS_COMPOUND = r"^\D+\d+号(.+?)\d+号楼$"
TITLES = {"overview": "总览", "ranking": "重点小区排名", "upload": "数据上传"}


@dataclass
class Visit:
    user: int
    round: int
    page: str
    seconds: float | None
    title_s: float | None = None
    charts: int = 0
    errors: list[str] = field(default_factory=list)  # error boxes and exceptions on the page
    unfinished: str | None = None  # why the page never finished (a timeout)


@dataclass
class Upload:
    started_s: float | None = None
    file_given_s: float | None = None
    validated_s: float | None = None
    committed_s: float | None = None
    message: str | None = None
    errors: list[str] = field(default_factory=list)


def export_file(store: Path, rows: int, out: Path) -> Path:
    """`rows` generated tickets for the store's own compounds, with a 小区 column."""
    from analytics.store import db
    from benchmarks.gen_tickets import make_tickets, write_csv

    con = db.connect(store)  # writable: migrates a copy of an older demo store first
    try:
        compounds = db.query_df(con, "SELECT compound_id, name FROM compounds ORDER BY compound_id")
    finally:
        con.close()
    frame = make_tickets(rows, compounds, seed=42)
    frame["工单编号"] = PREFIX + frame["工单编号"]
    # the compound name as the export's 小区 column: the generator writes it into the address
    # (road, number, 号, compound, building, 号楼); a name that cannot be told apart stays blank
    named = frame["诉求地址"].str.extract(ADDRESS_COMPOUND, expand=False)
    frame["小区"] = named.where(named.isin(set(compounds["name"])), "")
    return write_csv(frame, out)


async def wait_for_run(page: Any, timeout_s: float = PAGE_TIMEOUT_S) -> None:
    """Until the run the last interaction started has ended (and a rerun right after it)."""
    with contextlib.suppress(Exception):  # the run may be over already, or not yet started
        await page.wait_for_selector(RUN_BUSY, timeout=2000)
    await page.wait_for_selector(RUN_DONE, timeout=timeout_s * 1000)
    await page.wait_for_timeout(300)
    await page.wait_for_selector(RUN_DONE, timeout=timeout_s * 1000)


async def page_loaded(page: Any, title: str, t0: float = 0.0) -> tuple[int, list[str], float]:
    """Wait for the page's title, the end of its run and all its charts; (charts, errors,
    seconds from t0 to the title)."""
    await page.wait_for_function(
        "t => [...document.querySelectorAll('h1')].some(h => h.innerText.trim() === t)",
        arg=title,
        timeout=PAGE_TIMEOUT_S * 1000,
    )
    t_title = time.perf_counter() - t0
    await wait_for_run(page)
    charts = await page.locator('[data-testid="stPlotlyChart"]').count()
    if charts:
        await page.wait_for_function(
            "([sel, n]) => document.querySelectorAll(sel).length >= n",
            arg=[FRESH_CHART, charts],
            timeout=PAGE_TIMEOUT_S * 1000,
        )
    errors = [await e.inner_text() for e in await page.query_selector_all(ERROR_SELECTOR)]
    return charts, errors, t_title


async def log_in(page: Any, base: str, account: tuple[str, str]) -> None:
    await page.goto(base, timeout=PAGE_TIMEOUT_S * 1000)
    # as a person would: type once the login form is there and its script run has ended (a click
    # on a form the starved renderer has drawn but not yet connected is lost)
    await page.get_by_role("button", name="登录").wait_for(timeout=PAGE_TIMEOUT_S * 1000)
    await page.wait_for_selector(RUN_DONE, timeout=PAGE_TIMEOUT_S * 1000)
    await page.get_by_label("用户名").fill(account[0], timeout=PAGE_TIMEOUT_S * 1000)
    await page.get_by_label("密码").fill(account[1])
    await page.get_by_role("button", name="登录").click()


async def leader(browser: Any, base: str, user: int, rounds: int, visits: list[Visit]) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    # 21 pages share 2 cores with the server: clicks wait for a starved renderer too
    context.set_default_timeout(PAGE_TIMEOUT_S * 1000)
    page = await context.new_page()
    try:
        for rnd in range(rounds):
            for step in ("overview", "ranking"):
                t0 = time.perf_counter()
                try:
                    if step == "overview":
                        await log_in(page, base, LEADER)  # a fresh session lands on the overview
                    else:
                        nav = page.locator(SIDEBAR)
                        await nav.get_by_role("link", name=TITLES["ranking"]).click()
                    charts, errors, t_title = await page_loaded(page, TITLES[step], t0)
                    visits.append(Visit(user, rnd, step, time.perf_counter() - t0, t_title, charts, errors))
                except Exception as exc:  # a page that never finished is an error, and the run goes on
                    visits.append(
                        Visit(user, rnd, step, None, unfinished=f"{type(exc).__name__}: {exc}"[:300])
                    )
                    with contextlib.suppress(Exception):  # what the user was looking at
                        await page.screenshot(path=str(OUT_DIR / f"load_unfinished_{user}_{rnd}_{step}.png"))
                        visits[-1].errors = [
                            await e.inner_text() for e in await page.query_selector_all(ERROR_SELECTOR)
                        ]
    finally:
        await context.close()


async def analyst(browser: Any, base: str, file: Path, t_start: float, upload: Upload) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    # 21 pages share 2 cores with the server: clicks wait for a starved renderer too
    context.set_default_timeout(PAGE_TIMEOUT_S * 1000)
    page = await context.new_page()
    try:
        await log_in(page, base, ANALYST)
        await page.wait_for_selector(MENU_LINK, timeout=PAGE_TIMEOUT_S * 1000)
        await wait_for_run(page)
        nav = page.locator(SIDEBAR)
        await nav.get_by_role("link", name=TITLES["upload"]).click()
        await page_loaded(page, TITLES["upload"])
        upload.started_s = time.perf_counter() - t_start
        uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]').first
        await uploader.set_input_files(str(file), timeout=UPLOAD_TIMEOUT_S * 1000)
        validate = page.get_by_role("button", name="校验（不写入数据库）")
        await validate.wait_for(timeout=UPLOAD_TIMEOUT_S * 1000)
        await wait_for_run(page, UPLOAD_TIMEOUT_S)
        upload.file_given_s = time.perf_counter() - t_start
        await validate.click()
        commit = page.get_by_role("button", name="确认导入")
        await commit.wait_for(timeout=UPLOAD_TIMEOUT_S * 1000)
        await wait_for_run(page, UPLOAD_TIMEOUT_S)
        upload.validated_s = time.perf_counter() - t_start
        await commit.click()
        done = page.locator('[data-testid="stAlertContentSuccess"]', has_text="导入完成")
        await done.wait_for(timeout=UPLOAD_TIMEOUT_S * 1000)
        upload.committed_s = time.perf_counter() - t_start
        upload.message = await done.inner_text()
        upload.errors = [await e.inner_text() for e in await page.query_selector_all(ERROR_SELECTOR)]
        await page.screenshot(path=str(OUT_DIR / "load_upload.png"), full_page=True)
    except Exception as exc:
        upload.errors.append(f"{type(exc).__name__}: {exc}"[:500])
        await page.screenshot(path=str(OUT_DIR / "load_upload_failed.png"), full_page=True)
    finally:
        await context.close()


async def drive(
    base: str, file: Path, users: int, rounds: int, deadline_s: float, browsers: int = 1
) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    from tests.fixtures.live_server import CHROMIUM, CHROMIUM_ARGS

    visits: list[Visit] = []
    upload = Upload()
    async with async_playwright() as p:
        # each Chromium composites all its pages in one GPU process: several browsers share the load
        pool = [
            await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for _ in range(max(browsers, 1))
        ]
        t0 = time.perf_counter()
        tasks = [
            asyncio.create_task(leader(pool[i % len(pool)], base, i, rounds, visits)) for i in range(users)
        ]
        tasks.append(asyncio.create_task(analyst(pool[users % len(pool)], base, file, t0, upload)))
        done, pending = await asyncio.wait(tasks, timeout=deadline_s)
        for task in pending:  # past the deadline: stop, and count what did not finish
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        wall = time.perf_counter() - t0
        for browser in pool:
            await browser.close()
    return {"visits": visits, "upload": upload, "wall_s": wall, "cut_at_deadline": len(pending)}


class CpuSampler:
    """CPU seconds used by the dashboard server and by Chromium, sampled every second over all
    their processes (a renderer that exits keeps its last sample), and the busiest moments."""

    def __init__(self) -> None:
        self.last: dict[int, tuple[str, float]] = {}  # pid -> (kind, cpu seconds at last sample)
        self.start: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, first: bool = False) -> None:
        import psutil

        for proc in psutil.process_iter(["name", "cmdline", "cpu_times"]):
            try:
                cmd = " ".join(proc.info["cmdline"] or [])
                times = proc.info["cpu_times"]
            except (psutil.Error, TypeError):
                continue
            if times is None:
                continue
            kind = (
                "server"
                if "streamlit run dashboard.py" in cmd
                else "chromium"
                if "chrom" in (proc.info["name"] or "").lower()
                else None
            )
            if kind:
                used = times.user + times.system
                # a process already running at the first sample counts from there, a later one from 0
                self.start.setdefault(proc.pid, used if first else 0.0)
                self.last[proc.pid] = (kind, used)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self._sample()

    def __enter__(self) -> CpuSampler:
        self._sample(first=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def totals(self) -> dict[str, float]:
        out = {"server": 0.0, "chromium": 0.0}
        for pid, (kind, used) in self.last.items():
            out[kind] += used - self.start.get(pid, 0.0)
        return {k: round(v, 1) for k, v in out.items()}


def upload_landed(store: Path, rows: int) -> dict[str, Any]:
    from analytics.store import db

    con = db.connect(store, read_only=True)
    try:
        stored = int(
            db.query_one(con, "SELECT count(*) FROM tickets WHERE starts_with(ticket_id, ?)", [PREFIX])
        )
        batches = db.query_df(
            con,
            "SELECT batch_id, rows_read, inserted, rejected, unmatched FROM ingest_batches "
            "WHERE kind = 'tickets' AND \"user\" = ? ORDER BY batch_id",
            [ANALYST[0]],
        )
    finally:
        con.close()
    whole = stored == rows and len(batches) == 1 and int(batches["inserted"].iloc[0]) == rows
    return {"stored": stored, "batches": batches.to_dict("records"), "whole": whole}


def quantiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "median_s": None, "p95_s": None, "max_s": None}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {
        "n": len(values),
        "median_s": round(statistics.median(values), 2),
        "p95_s": round(p95, 2),
        "max_s": round(ordered[-1], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--browsers", type=int, default=4, help="Chromium processes the users share")
    parser.add_argument("--deadline", type=float, default=540.0, help="seconds before everything stops")
    parser.add_argument("--demo-db", type=Path, default=DEMO_DB)
    parser.add_argument("--out", type=Path, default=OUT_DIR / "load.json")
    args = parser.parse_args(argv)

    ensure_demo(args.demo_db)
    store = OUT_DIR / "load.duckdb"
    shutil.copy(args.demo_db, store)  # the upload lands in a copy: the demo store stays as built
    t = time.perf_counter()
    file = export_file(store, args.rows, OUT_DIR / "load_tickets.csv")
    print(f"export: {args.rows} rows, {file.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t:.1f} s",
          file=sys.stderr)  # fmt: skip
    load_before = os.getloadavg()[0]
    with running_server(store, OUT_DIR / "load_server.log") as base, CpuSampler() as cpu:
        result = asyncio.run(drive(base, file, args.users, args.rounds, args.deadline, args.browsers))
    landed = upload_landed(store, args.rows)

    visits: list[Visit] = result["visits"]
    upload: Upload = result["upload"]
    page_errors = [v for v in visits if v.errors]
    unfinished = [v for v in visits if v.unfinished]
    expected = args.users * args.rounds * 2
    report = {
        "machine": {"cpus": os.cpu_count(), "load_1min_before": round(load_before, 2),
                    "load_1min_after": round(os.getloadavg()[0], 2)},
        "users": args.users, "browsers": args.browsers, "rounds": args.rounds, "rows": args.rows, "wall_s": round(result["wall_s"], 1),
        "visits_expected": expected, "visits_done": sum(v.seconds is not None for v in visits),
        "cut_at_deadline": result["cut_at_deadline"],
        # where the two cores went: the server (pages and the upload) or the browsers drawing them
        "cpu_s": {**cpu.totals(), "available": round(result["wall_s"] * (os.cpu_count() or 1), 1)},
        # error boxes or exceptions a user saw, and pages that did not finish within PAGE_TIMEOUT_S
        "errors": len(page_errors) + len(upload.errors),
        "unfinished": len(unfinished),
        "pages": {
            "all": quantiles([v.seconds for v in visits if v.seconds is not None]),
            **{name: quantiles([v.seconds for v in visits if v.page == name and v.seconds is not None])
               for name in ("overview", "ranking")},
        },
        # the page's title drawn: the server has answered, charts may still be rendering
        "titles": quantiles([v.title_s for v in visits if v.title_s is not None]),
        "upload": {**asdict(upload), **landed},
        "visits": [asdict(v) for v in visits],
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")

    print(f"\n{args.users} leaders x {args.rounds} rounds (overview + ranking) while {ANALYST[0]} uploads "
          f"{args.rows:,} rows; wall {report['wall_s']} s, load {report['machine']['load_1min_before']} -> "
          f"{report['machine']['load_1min_after']} on {report['machine']['cpus']} cpus")  # fmt: skip
    print(f"{'page':<10} {'n':>4} {'median s':>9} {'p95 s':>7} {'max s':>7}")
    for name, q in report["pages"].items():
        print(
            f"{name:<10} {q['n']:>4} {q['median_s'] or '—':>9} {q['p95_s'] or '—':>7} {q['max_s'] or '—':>7}"
        )
    t = report["titles"]
    print(
        f"{'title only':<10} {t['n']:>4} {t['median_s'] or '—':>9} {t['p95_s'] or '—':>7} {t['max_s'] or '—':>7}"
    )
    print(f"CPU seconds: server {report['cpu_s']['server']}, Chromium {report['cpu_s']['chromium']} "
          f"of {report['cpu_s']['available']} available")  # fmt: skip
    print(f"visits done {report['visits_done']}/{expected}; error boxes/exceptions {report['errors']}; "
          f"pages not finished within {PAGE_TIMEOUT_S} s {report['unfinished']}; "
          f"cut at the deadline {report['cut_at_deadline']} users")  # fmt: skip
    print(f"upload: given {upload.file_given_s and round(upload.file_given_s, 1)} s, validated "
          f"{upload.validated_s and round(upload.validated_s, 1)} s, committed "
          f"{upload.committed_s and round(upload.committed_s, 1)} s after start; stored {landed['stored']:,} "
          f"of {args.rows:,}; whole: {landed['whole']}")  # fmt: skip
    print(f"wrote {args.out}")
    complete = report["visits_done"] == expected and not unfinished
    return 0 if report["errors"] == 0 and landed["whole"] and complete else 1


if __name__ == "__main__":
    raise SystemExit(main())
