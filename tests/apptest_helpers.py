"""Shared helpers for the page tests: a small fixture store, logging in, running the app.

The fixture store is built through the real import paths (registry import, ticket ingest,
user creation), so the page tests see exactly what an analyst's uploads would produce:

- 5 compounds C001..C005 in 2 communities;
- 319 ticket rows in one CSV: 300 matched through the 小区 column (C001 120, C002 80, C003 50,
  C004 30, C005 20, spread over 2024), 10 with only an address that matches no compound, 6 with
  a misspelt compound name in the address (left for the analyst's review: 锦秀花园东门 x4 looks
  like C001, 翠湖名院5号楼 x2 like C003), and 3 without a ticket number (rejected);
- a ranking snapshot of 2024 and one task force (C001, head tf1, from 2024-07-01);
- one user per role, all with the password `PASSWORD`; the task-force head `tf1` is scoped to
  C001 and C002.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from analytics import auth, callerkey, db, ingest, ranking, registry, taskforces

ROOT = Path(__file__).resolve().parents[1]
ENTRY = ROOT / "dashboard.py"
TIMEOUT_S = 60
PASSWORD = "fixture-pass-1"
USERS: dict[str, tuple[str, list[str] | None]] = {
    "leader1": ("leader", None),
    "analyst1": ("analyst", None),
    "tf1": ("taskforce", ["C001", "C002"]),
    "admin1": ("admin", None),
}
COMPOUNDS: tuple[tuple[str, str, str, int], ...] = (
    # id, name, community, tickets in the fixture CSV
    ("C001", "锦绣花园", "银河社区", 120),
    ("C002", "阳光家园", "银河社区", 80),
    ("C003", "翠湖名苑", "沂河社区", 50),
    ("C004", "凤凰新村", "沂河社区", 30),
    ("C005", "书香雅居", "沂河社区", 20),
)
TICKETS_MATCHED = sum(c[3] for c in COMPOUNDS)  # 300
TICKETS_UNMATCHED = 10
TICKETS_REJECTED = 3
REVIEW_ADDRESSES = (("锦秀花园东门", "C001", 4), ("翠湖名院5号楼", "C003", 2))
TICKETS_REVIEW = sum(r[2] for r in REVIEW_ADDRESSES)  # 6
TICKETS_STORED = TICKETS_MATCHED + TICKETS_UNMATCHED + TICKETS_REVIEW  # 316
TASKFORCE_COMPOUND = "C001"
CATEGORIES = ("物业管理", "供暖", "噪音扰民", "停车管理")
PHONE = "13812345678"  # appears in some ticket texts; must never be shown unmasked
TICKET_HEADERS = ["工单编号", "受理时间", "诉求内容", "诉求类型", "诉求地址", "小区", "来电号码"]


@dataclass(frozen=True)
class Fixture:
    path: Path
    tickets: int = TICKETS_STORED
    compounds: int = len(COMPOUNDS)


# the registry export's headers as analysts' files carry them
REGISTRY_HEADERS = [
    "小区编号",
    "小区名称",
    "别名",
    "所属社区",
    "所属街道",
    "小区类型",
    "建成年份",
    "户数",
    "物业公司",
]


def write_registry_csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(REGISTRY_HEADERS)
        for i, (cid, name, community, _) in enumerate(COMPOUNDS):
            w.writerow(
                [
                    cid,
                    name,
                    f"{name}小区",
                    community,
                    "兰山街道",
                    "商开",
                    1995 + 5 * i,
                    400 + 100 * i,
                    "安居物业",
                ]
            )
    return path


def ticket_rows(prefix: str = "T", start: datetime = datetime(2024, 1, 1)) -> list[list[str]]:
    """The fixture's ticket rows (deterministic): matched, unmatched, then rejected."""
    rows: list[list[str]] = []
    n = 0
    for cid, name, _, count in COMPOUNDS:
        for j in range(count):
            when = start + timedelta(days=(j * 7 + int(cid[-1])) % 360, hours=9)
            text = (
                f"{name}{CATEGORIES[j % 4]}问题，请回电{PHONE}"
                if j % 10 == 0
                else f"{name}{CATEGORIES[j % 4]}问题"
            )
            rows.append(
                [
                    f"{prefix}{n:05d}",
                    when.strftime("%Y-%m-%d %H:%M"),
                    text,
                    CATEGORIES[j % 4],
                    f"{name}{j % 9 + 1}号楼",
                    name,
                    PHONE,
                ]
            )
            n += 1
    for j in range(TICKETS_UNMATCHED):
        rows.append(
            [f"{prefix}{n:05d}", "2024-06-01 10:00", "路灯不亮", "市政设施", f"解放路{j + 1}号", "", ""]
        )
        n += 1
    for address, _, count in REVIEW_ADDRESSES:
        for _ in range(count):
            rows.append([f"{prefix}{n:05d}", "2024-08-01 10:00", "楼道堆物", "物业管理", address, "", ""])
            n += 1
    for _ in range(TICKETS_REJECTED):
        rows.append(["", "2024-06-02 10:00", "没有编号", "其他", "解放路", "", ""])
    return rows


def write_tickets_csv(path: Path, prefix: str = "T", encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(TICKET_HEADERS)
        w.writerows(ticket_rows(prefix))
    return path


def write_taskforces_csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["小区编号", "包保领导", "专班组长", "进驻日期", "选定窗口"])
        w.writerow([TASKFORCE_COMPOUND, "王区长", "tf1", "2024-07-01", "2024-01:2024-06"])
    return path


def build_fixture_store(folder: Path, with_tickets: bool = True) -> Fixture:
    """Build the fixture store in `folder` through the real import functions and close it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fixture.duckdb"
    con = db.connect(path)
    try:
        registry.import_compounds(con, write_registry_csv(folder / "registry.csv"), user="fixture")
        if with_tickets:
            ingest.ingest_file(con, write_tickets_csv(folder / "tickets.csv"), user="fixture")
            window = (date(2024, 1, 1), date(2024, 12, 31))
            ranked = ranking.rank_compounds(con, window=window, min_tickets=1, n_draws=200)
            ranking.save_snapshot(con, ranked, *window, params={"fixture": True}, user="fixture")
            taskforces.import_taskforces(con, write_taskforces_csv(folder / "taskforces.csv"), user="fixture")
        for name, (role, scope) in USERS.items():
            auth.add_user(con, name, PASSWORD, role, compounds=scope)
    finally:
        con.close()
    return Fixture(path=path, tickets=TICKETS_STORED if with_tickets else 0)


def copy_store_file(source: Path, target: Path) -> Path:
    """A copy of a store file with its caller key, as any copy meant to take uploads needs
    (analytics.callerkey); the key file keeps its owner-only mode."""
    shutil.copy(source, target)
    key = Path(callerkey.key_file(str(source)))
    if key.exists():
        shutil.copy(key, callerkey.key_file(str(target)))
    return target


def copy_store(fixture: Fixture, folder: Path) -> Path:
    """A private copy for a test that writes (the shared fixture stays pristine)."""
    folder.mkdir(parents=True, exist_ok=True)
    return copy_store_file(fixture.path, folder / "store.duckdb")


def _run_entry_script(main_script_path: str) -> None:
    code = compile(Path(main_script_path).read_text(encoding="utf-8"), main_script_path, "exec")
    exec(code, {"__name__": "__main__", "__file__": main_script_path})  # noqa: S102


@pytest.fixture(autouse=True)
def entry_navigation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run dashboard.py on every AppTest rerun, as a live server does.

    AppTest forgets before each run that st.navigation is in use, and because a `pages/` folder
    sits beside dashboard.py it would then treat the app as an old-style multipage app and run
    the current page script alone on reruns (no shell, no sidebar). A live server remembers
    after the first run; this fixture gives AppTest the same behaviour. Import it into a test
    module to use it.
    """
    monkeypatch.setattr(script_runner, "_mpa_v1", _run_entry_script)


def new_app() -> AppTest:
    return AppTest.from_file(str(ENTRY), default_timeout=TIMEOUT_S)


def login(at: AppTest, username: str, password: str = PASSWORD) -> AppTest:
    """Fill and submit the login form, then run the page the user lands on."""
    at.run()
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.form_submit_button[0].click()
    return at.run()


def open_as(at: AppTest, username: str, script: str) -> AppTest:
    """Log in as `username`, then open the page `script` (e.g. 'pages/ranking.py')."""
    login(at, username)
    at.switch_page(script)
    return at.run()


def table_with(at: AppTest, column: str):
    """The first table that has `column` (tables carry no key in AppTest)."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


def errors_of(at: AppTest) -> list[str]:
    """Everything that went wrong in the last run: exceptions and red error boxes."""
    return [e.value for e in at.exception] + [e.value for e in at.error]


def menu_pages(at: AppTest) -> list[str]:
    """The page scripts the navigation offered in the last run (relative to the project)."""
    pages = at._registered_pages.values()  # noqa: SLF001 - AppTest keeps what st.navigation registered
    scripts = (Path(str(p["script_path"])) for p in pages if p.get("script_path"))
    return sorted(s.relative_to(ROOT).as_posix() for s in scripts if s != ENTRY)
