"""The public real files ingest with a mapping and every row is accounted for."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.ingest import pipeline as ingest
from analytics.store import db

TEDDY_MAPPING = {"ticket_id": "留言编号", "created_at": "留言时间", "caller_phone": "留言用户"}

# (folder/file, mapping, rows_read, inserted, rejected); row counts from each SOURCE.md
CASES = [
    # 495 rows; 留言编号 37042 appears twice (different categories): the later row wins
    ("teddy2020c-sample/附件2_示例数据.xlsx", TEDDY_MAPPING, 495, 494, 0),
    ("teddy2020c-sample/附件2_示例数据.csv", TEDDY_MAPPING, 495, 494, 0),
    # 10 NYC requests were closed before they were created (a known quirk of the export)
    ("nyc311-mixed-1000/311_Service_Requests.csv", None, 1000, 990, 10),
    ("baltimore311-sample/311_sample.csv", {"ticket_id": "ServiceRequestNum"}, 10_000, 10_000, 0),
]


@pytest.mark.parametrize(("name", "mapping", "rows_read", "inserted", "rejected"), CASES)
def test_real_files_ingest_and_balance(store, real_data, name, mapping, rows_read, inserted, rejected):
    r = ingest.ingest_file(store, real_data / name, mapping=mapping)
    j = r.as_json()
    assert (r.rows_read, r.inserted, r.rejected) == (rows_read, inserted, rejected)
    assert j["rows_read"] == j["inserted"] + j["duplicates"] + j["rejected"]
    assert db.query_one(store, "SELECT count(*) FROM tickets") == inserted
    assert db.query_one(store, "SELECT count(*) FROM tickets WHERE created_at IS NULL") == 0


def test_teddy_text_is_cleaned_and_xlsx_equals_csv(store, real_data):
    folder = real_data / "teddy2020c-sample"
    ingest.ingest_file(store, folder / "附件2_示例数据.xlsx", mapping=TEDDY_MAPPING)
    again = ingest.ingest_file(store, folder / "附件2_示例数据.csv", mapping=TEDDY_MAPPING)
    # the CSV conversion carries _x000D_ escapes and stray tabs; cleaned, it is the same data
    assert (again.inserted, again.updated, again.duplicates) == (0, 0, 495)
    t = db.query_df(store, "SELECT * FROM tickets")
    assert not t["content"].str.contains(r"[\t\n]|_x000D_|  ").any()
    assert t["category"].nunique() == 7 and (t["category_source"] == "given").all()
    assert t["created_at"].min() == pd.Timestamp("2011-05-02 15:00:19")
    assert t["created_at"].max() == pd.Timestamp("2020-01-07 21:31:53")


def test_nyc_us_dates_and_baltimore_years(store, real_data):
    ingest.ingest_file(store, real_data / "nyc311-mixed-1000" / "311_Service_Requests.csv")
    years = db.query_df(
        store, "SELECT year(created_at) AS y, count(*) AS n FROM tickets GROUP BY 1 ORDER BY 1"
    )
    # SOURCE.md: 2014: 14, 2017: 24, 2018: 602, 2019: 360 (minus the 10 rejected rows)
    assert years["y"].tolist() == [2014, 2017, 2018, 2019]
    assert years["n"].sum() == 990
