"""The category model on real labelled messages: the Teddy Cup 2020 sample (附件2, 一级分类,
7 classes, 495 rows, 2011-2020), trained in a store that holds the problem's own category scheme
(附件1, 517 rows), loaded from its file as an analyst would. Folds are contiguous blocks of
message time (topics drift over the years; random folds flatter the model). Ours must beat the
plain char n-gram TF-IDF + LinearSVC baseline on the same folds and on the latest 30% of the
messages when fitted on the earliest 70%, and shuffled labels must fall to chance."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analytics.ingest.categories.scheme import load_scheme
from analytics.ingest.categories.store import latest_model_info
from analytics.ingest.categories.train import train_model

SAMPLE = "teddy2020c-sample/附件2_示例数据.xlsx"
SCHEME = "teddy2020c-sample/附件1.xlsx"
SUMMARY = (
    "n_evaluated",
    "n_groups",
    "macro_f1",
    "macro_f1_ci95",
    "accuracy",
    "baseline_macro_f1",
    "baseline_macro_f1_ci95",
    "baseline_accuracy",
    "difference_ci95",
    "shuffled_macro_f1",
    "chance_macro_f1",
    "later_macro_f1",
    "baseline_later_macro_f1",
    "later_n_test",
    "category_scheme",
)


def _store_messages(con, frame: pd.DataFrame) -> None:
    """The labelled messages as stored tickets with their given category and message time (the
    sample repeats some 留言编号, so the ticket ids are row numbers, in the file's order)."""
    rows = pd.DataFrame(
        {
            "ticket_id": [f"T{i:04d}" for i in range(len(frame))],
            "created_at": pd.to_datetime(frame["留言时间"], format="mixed"),
            "title": frame["留言主题"],
            "content": frame["留言详情"],
            "category": frame["一级分类"],
        }
    )
    con.register("rows", rows)
    con.execute(
        "INSERT INTO tickets (ticket_id, created_at, title, content, category, category_raw, category_source, "
        "batch_id) SELECT ticket_id, created_at, title, content, category, category, 'given', 1 FROM rows"
    )
    con.unregister("rows")


@pytest.mark.slow
def test_model_with_the_loaded_scheme_beats_baseline_on_teddy_sample(store, real_data):
    loaded = load_scheme(store, real_data / SCHEME, user="analyst")
    assert loaded["rows"] == 517 and len(loaded["level_1"]) == 15
    frame = pd.read_excel(real_data / SAMPLE, engine="calamine").dropna(subset=["一级分类"])
    assert len(frame) == 495
    _store_messages(store, frame)

    scores = train_model(store, user="analyst")
    summary = {k: scores[k] for k in SUMMARY}
    print("\nTeddy Cup sample, time-blocked grouped 5-fold CV:", json.dumps(summary, ensure_ascii=False))
    assert scores["category_scheme"]["used"] and scores["category_scheme"]["rows"] == 517
    assert set(scores["category_scheme"]["labels_named"]) == set(frame["一级分类"])
    assert latest_model_info(store)["scores"]["category_scheme"]["rows"] == 517
    assert "contiguous blocks of ticket time" in scores["grouping"]
    assert scores["difference_ci95"][0] > 0
    assert scores["later_n_test"] == 148
    # measured 0.86 and 0.69; without the scheme the model falls to 0.75 (only the training
    # years' topics)
    assert scores["later_macro_f1"] >= 0.8 > scores["baseline_later_macro_f1"]
    assert scores["shuffled_macro_f1"] < 0.5 * scores["baseline_macro_f1"]
    assert scores["shuffled_macro_f1"] < scores["chance_macro_f1"] + 0.1
    assert len(scores["per_class"]) == 7
