"""Registry changes with effective dates: a compound renamed, split or merged from a day on.

Real stores, the real registry reader and real ticket uploads (analytics.ingest.pipeline), in both
orders: tickets before a change keep their compound, tickets after it go to the successor (the one
a split's address names; otherwise they stay on the predecessor and are listed as unsettled), no
ticket loses its compound, the lineage's monthly counts never fall to zero at the change, each
change is reported in plain words and listed as an event, and undoing a change restores the
tickets.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from analytics.errors import ValidationError
from analytics.ingest import pipeline
from analytics.ingest.registry import changes, compounds
from analytics.store import db

pytestmark = pytest.mark.backends

HEADERS = ["小区编号", "小区名称", "所属社区", "所属街道", "户数", "前身", "生效日期"]
CHANGE_DAY = pd.Timestamp("2024-01-01")
# compounds before the change (id, name); 青松苑 and 锦绣花园 never change
BEFORE = [
    ("LS001", "翠华苑"), ("LS002", "阳光家园"), ("LS003", "银雀小区"), ("LS004", "沂河家园"),
    ("LS005", "青松苑"), ("LS006", "锦绣花园"),
]  # fmt: skip
# successors: (id, name, predecessor as the file writes it)
AFTER = [
    ("LS011", "翠华苑东区", "LS001"), ("LS012", "翠华苑西区", "翠华苑"),  # split (by id and by name)
    ("LS021", "阳光新城", "LS002"),  # rename
    ("LS034", "银雀沂河苑", "LS003；LS004"),  # merge
]  # fmt: skip
# addresses tickets use before / after the change, per compound of BEFORE
ADDRESSES_BEFORE = {cid: [f"{name}{{n}}号楼"] for cid, name in BEFORE}
ADDRESSES_AFTER = {
    "LS001": ["翠华苑东区{n}号楼", "翠华苑西区{n}号楼", "翠华苑{n}号楼"],
    "LS002": ["阳光新城{n}号楼", "阳光家园{n}号楼"],
    "LS003": ["银雀沂河苑{n}号楼", "银雀小区{n}号楼"],
    "LS004": ["沂河家园{n}号楼"],
    "LS005": ["青松苑{n}号楼"],
    "LS006": ["锦绣花园{n}号楼"],
}
# where a ticket after the change belongs, by the address's first words
EXPECTED_AFTER = {
    "翠华苑东区": "LS011", "翠华苑西区": "LS012", "翠华苑": "LS001", "阳光新城": "LS021", "阳光家园": "LS021",
    "银雀沂河苑": "LS034", "银雀小区": "LS034", "沂河家园": "LS034", "青松苑": "LS005", "锦绣花园": "LS006",
}  # fmt: skip
MONTHS = pd.date_range("2023-07-01", "2024-06-01", freq="MS")


def write_registry(path: Path, with_changes: bool) -> Path:
    rows = [[cid, name, "柳青社区", "柳青街道", "500", "", ""] for cid, name in BEFORE]
    if with_changes:
        rows += [[cid, name, "柳青社区", "柳青街道", "250", pred, "2024-01"] for cid, name, pred in AFTER]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    return path


def ticket_frame(months: pd.DatetimeIndex, per_month: int = 6) -> pd.DataFrame:
    """per_month tickets a month for each compound of BEFORE, cycling through its addresses."""
    rows = []
    for m in months:
        for cid, _ in BEFORE:
            forms = ADDRESSES_BEFORE[cid] if m < CHANGE_DAY else ADDRESSES_AFTER[cid]
            for k in range(per_month):
                address = forms[k % len(forms)].format(n=k + 1)
                when = m + pd.Timedelta(days=k * 4, hours=9)
                rows.append((f"T{cid}{m:%Y%m}{k:02d}", f"{when:%Y-%m-%d %H:%M:%S}", address, "楼道灯坏了"))
    return pd.DataFrame(rows, columns=["工单编号", "受理时间", "诉求地址", "诉求内容"])


def upload(con, path: Path, frame: pd.DataFrame):
    frame.to_csv(path, index=False, encoding="utf-8")
    return pipeline.ingest_file(con, path, user="analyst")


def stored(con) -> pd.DataFrame:
    return db.query_df(
        con, "SELECT ticket_id, created_at, address, compound_id FROM tickets ORDER BY ticket_id"
    )


def expected_compound(row) -> str:
    if row.created_at < CHANGE_DAY:
        return next(cid for cid, name in BEFORE if row.address.startswith(name))
    head = max((k for k in EXPECTED_AFTER if row.address.startswith(k)), key=len)
    return EXPECTED_AFTER[head]


def assert_placed(con) -> None:
    tickets = stored(con)
    assert tickets["compound_id"].notna().all(), tickets[tickets["compound_id"].isna()]
    tickets["want"] = [expected_compound(r) for r in tickets.itertuples(index=False)]
    wrong = tickets[tickets["compound_id"] != tickets["want"]]
    assert wrong.empty, wrong


def lineage_months(con) -> pd.DataFrame:
    """Tickets per (root compound, month)."""
    tickets = stored(con).merge(changes.lineage(con), on="compound_id", how="left")
    tickets["month"] = tickets["created_at"].dt.to_period("M")
    return tickets.groupby(["root_id", "month"]).size().unstack(fill_value=0)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "old": write_registry(tmp_path / "registry_2023.csv", with_changes=False),
        "new": write_registry(tmp_path / "registry_2024.csv", with_changes=True),
    }


def test_tickets_first_then_the_registry_with_changes(store, files, tmp_path):
    compounds.import_compounds(store, files["old"], user="analyst")
    upload(store, tmp_path / "tickets.csv", ticket_frame(MONTHS))
    result = compounds.import_compounds(store, files["new"], user="analyst")

    # each change reported once, in Chinese with English beside
    reported = result.compound_changes.set_index("kind")
    assert sorted(reported.index) == ["merge", "rename", "split"]
    assert "拆分为翠华苑东区（LS011）、翠华苑西区（LS012）" in reported.loc["split", "message_zh"]
    assert "is split into" in reported.loc["split", "message_en"]
    assert reported.loc["split", "unsettled"] == 6 * 2  # 翠华苑{n}号楼 after the split, 2 of 6 a month
    assert result.rejected == 0 and result.as_json()["compound_changes"][0]["date"] == "2024-01-01"

    assert_placed(store)
    counts = lineage_months(store)
    assert (counts.loc[["LS001", "LS002", "LS003"]] > 0).all().all()  # no month falls to zero
    assert (counts.loc["LS001"] == 6).all() and (counts.loc["LS003"] == 12).all()

    unsettled = changes.unsettled_splits(store)
    assert len(unsettled) == 12 and set(unsettled["compound_id"]) == {"LS001"}
    assert set(unsettled["successors"]) == {"LS011；LS012"}

    validity = db.query_df(store, "SELECT compound_id, valid_from, valid_to FROM compounds").set_index(
        "compound_id"
    )
    assert validity.loc["LS001", "valid_to"] == CHANGE_DAY and pd.isna(validity.loc["LS001", "valid_from"])
    assert validity.loc["LS011", "valid_from"] == CHANGE_DAY and pd.isna(validity.loc["LS005", "valid_to"])


# Tickets uploaded after a change is recorded are placed by the upload pipeline, which calls
# changes.resolve_dated on its staged rows.


def test_registry_first_then_tickets_before_and_after(store, files, tmp_path):
    compounds.import_compounds(store, files["new"], user="analyst")
    upload(store, tmp_path / "before.csv", ticket_frame(MONTHS[MONTHS < CHANGE_DAY]))
    upload(store, tmp_path / "after.csv", ticket_frame(MONTHS[MONTHS >= CHANGE_DAY]))
    assert_placed(store)
    assert (lineage_months(store).loc[["LS001", "LS002", "LS003"]] > 0).all().all()


def test_tickets_around_a_change_recorded_through_the_function(store, files, tmp_path):
    compounds.import_compounds(store, files["old"], user="analyst")
    upload(store, tmp_path / "before.csv", ticket_frame(MONTHS[MONTHS < CHANGE_DAY]))
    plain = write_registry(tmp_path / "plain.csv", with_changes=True)
    frame = pd.read_csv(plain, dtype=str).drop(columns=["前身", "生效日期"])
    compounds.import_compounds(store, frame, user="analyst")  # successors registered, no change stated
    made = [
        changes.record_change(store, "split", "2024-01-01", ["LS001"], ["LS011", "LS012"], user="analyst"),
        changes.record_change(store, "rename", "2024-01", ["LS002"], ["LS021"], user="analyst"),
        changes.record_change(store, "merge", "2024年1月", ["LS003", "LS004"], ["LS034"], user="analyst"),
    ]
    assert [c.kind for c in made] == ["split", "rename", "merge"]
    upload(store, tmp_path / "after.csv", ticket_frame(MONTHS[MONTHS >= CHANGE_DAY]))
    assert_placed(store)


def test_events_and_lineage_for_the_pages(store, files):
    compounds.import_compounds(store, files["old"])
    compounds.import_compounds(store, files["new"])
    events = changes.registry_events(store)
    assert set(events.columns) >= {"compound_id", "date", "kind", "detail_zh", "detail_en"}
    by_compound = events.groupby("compound_id")["kind"].first().to_dict()
    assert by_compound == {
        "LS001": "split", "LS011": "split", "LS012": "split", "LS002": "rename", "LS021": "rename",
        "LS003": "merge", "LS004": "merge", "LS034": "merge",
    }  # fmt: skip
    assert (events["date"] == CHANGE_DAY).all()
    roots = changes.lineage(store).set_index("compound_id")["root_id"].to_dict()
    assert roots["LS011"] == roots["LS012"] == "LS001" and roots["LS021"] == "LS002"
    assert roots["LS034"] == roots["LS004"] == "LS003" and roots["LS005"] == "LS005"


def test_importing_the_same_registry_again_records_nothing_new(store, files):
    compounds.import_compounds(store, files["old"])
    compounds.import_compounds(store, files["new"])
    again = compounds.import_compounds(store, files["new"])
    assert again.compound_changes.empty and again.rejected == 0
    assert db.query_one(store, "SELECT count(DISTINCT change_id) FROM compound_changes") == 3


def test_undoing_a_change_restores_the_tickets(store, files, tmp_path):
    compounds.import_compounds(store, files["old"])
    upload(store, tmp_path / "tickets.csv", ticket_frame(MONTHS))
    before = stored(store)
    result = compounds.import_compounds(store, files["new"])
    assert not stored(store).equals(before)
    # newest first: a change is undone only after the later ones that touch the same compounds
    for change_id in sorted(result.compound_changes["change_id"], reverse=True):
        changes.undo_change(store, change_id, user="analyst")
    pd.testing.assert_frame_equal(stored(store), before)
    assert db.query_one(store, "SELECT count(*) FROM compound_changes") == 0
    assert db.query_one(store, "SELECT count(*) FROM compounds WHERE valid_to IS NOT NULL") == 0
    assert changes.registry_events(store).empty


def test_settling_an_address_moves_its_tickets_after_the_split(store, files, tmp_path):
    compounds.import_compounds(store, files["old"])
    upload(store, tmp_path / "tickets.csv", ticket_frame(MONTHS))
    result = compounds.import_compounds(store, files["new"])
    split = int(result.compound_changes.set_index("kind").loc["split", "change_id"])
    moved = changes.settle_split(store, split, "翠华苑3号楼", "LS012", user="analyst")
    assert moved == 6  # one a month after the split; before it the address stays 翠华苑's
    assert len(changes.unsettled_splits(store)) == 6
    with pytest.raises(ValidationError):
        changes.settle_split(store, split, "翠华苑6号楼", "LS005")


@pytest.mark.parametrize(
    "rows, reason",
    [
        # a predecessor nobody registered
        ([["LS011", "翠华苑东区", "柳青社区", "柳青街道", "", "LS999", "2024-01"]], "前身“LS999”不是已登记"),
        # a predecessor without a date
        ([["LS011", "翠华苑东区", "柳青社区", "柳青街道", "", "LS001", ""]], "缺少生效日期"),
        # a date that is not one
        ([["LS011", "翠华苑东区", "柳青社区", "柳青街道", "", "LS001", "明年"]], "生效日期无效"),
    ],
)
def test_a_change_that_does_not_fit_refuses_its_row(store, files, tmp_path, rows, reason):
    compounds.import_compounds(store, files["old"])
    path = tmp_path / "bad.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([HEADERS, *rows])
    result = compounds.import_compounds(store, path)
    assert result.rejected == 1 and reason in result.rejected_rows["reason"].iloc[0]
    assert result.compound_changes.empty


def test_a_rename_in_place_keeps_the_former_name_as_an_alias(store, files, tmp_path):
    compounds.import_compounds(store, files["old"])
    frame = pd.DataFrame([{"小区编号": "LS005", "小区名称": "青松新苑", "生效日期": "2024-03-01"}])
    result = compounds.import_compounds(store, frame)
    assert "青松苑（LS005）更名为青松新苑" in result.compound_changes["message_zh"].iloc[0]
    aliases = db.query_df(store, "SELECT alias, source FROM compound_aliases WHERE compound_id = 'LS005'")
    assert ("青松苑", "former") in set(map(tuple, aliases.to_numpy()))
    period = db.query_df(store, "SELECT valid_to FROM compound_alias_periods WHERE alias = '青松苑'")
    assert period["valid_to"].iloc[0] == pd.Timestamp("2024-03-01")


def test_resolve_dated_places_staged_rows_of_another_catalog(store, files):
    """The upload pipeline's case: rows staged in a database attached beside the store, read
    through a cursor whose default catalog is that database."""
    compounds.import_compounds(store, files["old"])
    compounds.import_compounds(store, files["new"])
    staged = ticket_frame(MONTHS, per_month=3).rename(
        columns={"工单编号": "ticket_id", "受理时间": "created_at", "诉求地址": "address"}
    )
    staged["created_at"] = pd.to_datetime(staged["created_at"])
    # what the matcher gives: the compound whose name starts the address; a split's successors
    # read as the same core as the predecessor, so those addresses come back unmatched
    names = {name: cid for cid, name in BEFORE} | {name: cid for cid, name, _ in AFTER}
    staged["compound_id"] = [
        None if a.startswith("翠华苑") else names[max((n for n in names if a.startswith(n)), key=len)]
        for a in staged["address"]
    ]
    cur = store.cursor()
    cur.execute("ATTACH ':memory:' AS stg_test")
    cur.execute("USE stg_test")
    cur.register("staged_frame", staged.drop(columns=["诉求内容"]))
    cur.execute("CREATE TABLE final AS SELECT * FROM staged_frame")
    assert changes.resolve_dated(cur, "final") > 0
    placed = cur.execute("SELECT ticket_id, created_at, address, compound_id FROM final ORDER BY 1").df()
    assert placed["compound_id"].notna().all()
    assert [expected_compound(r) for r in placed.itertuples(index=False)] == placed["compound_id"].tolist()
    assert db.query_one(store, "SELECT count(*) FROM tickets") == 0  # the store's tickets untouched


def test_the_effects_panel_follows_a_split_compound_as_one_unit(store, files, tmp_path):
    """The treated unit's series goes on through its split: successors' tickets count for it, and
    the change is listed among the integrity alarms without leaving the compound out."""
    from analytics.models.effects.integrity import integrity_flags
    from analytics.models.effects.panel import Cohort
    from analytics.services import effects

    compounds.import_compounds(store, files["old"], user="analyst")
    upload(store, tmp_path / "tickets.csv", ticket_frame(MONTHS))
    compounds.import_compounds(store, files["new"], user="analyst")
    panel, _ = effects._load_panel(store)
    assert not {"LS011", "LS012", "LS021", "LS034"} & set(panel.compound_ids)
    row = panel.compound_ids.index("LS001")
    assert (panel.counts[row] == 6).all()  # the split compound's six a month, before and after
    assert (panel.counts[panel.compound_ids.index("LS003")] == 12).all()  # the merged pair
    events = changes.registry_events(store).assign(followed=True)
    cohort = Cohort(panel.first_month, panel.first_month + 5, panel.first_month + 6, MONTHS[6].date(), [row])
    flags = integrity_flags(panel, [cohort], events)
    ours = flags[flags["compound_id"] == "LS001"]
    assert ours["kind"].tolist() == ["registry_followed"] and not ours["exclude"].any()


def test_a_compound_series_marks_its_registry_change(store, files, tmp_path):
    from analytics.reports import charts

    compounds.import_compounds(store, files["old"], user="analyst")
    compounds.import_compounds(store, files["new"], user="analyst")
    events = changes.registry_events(store)
    mine = events[events["compound_id"] == "LS001"].assign(detail=lambda e: e["detail_zh"])
    monthly = pd.DataFrame({"month": MONTHS[:6], "tickets": [6] * 6})
    fig = charts.trend_figure(monthly, events=mine)
    lines = [s for s in fig.layout.shapes if s.name == "registry_event"]
    assert [pd.Timestamp(s.x0) for s in lines] == [CHANGE_DAY]
    labels = {a.text: a.hovertext for a in fig.layout.annotations}
    assert "名录拆分" in labels and "翠华苑东区" in labels["名录拆分"]
