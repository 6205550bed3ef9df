"""The category model on real labelled messages: the Teddy Cup 2020 sample (附件2, 一级分类,
7 classes, 495 rows). Ours must beat the plain char n-gram TF-IDF + LinearSVC baseline on the
same grouped folds, and shuffled labels must fall to chance."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analytics.ingest.categories.evaluate import evaluate
from analytics.ingest.categories.model import _text_frame

SAMPLE = "teddy2020c-sample/附件2_示例数据.xlsx"


@pytest.mark.slow
def test_model_beats_baseline_on_teddy_sample(real_data):
    frame = pd.read_excel(real_data / SAMPLE, engine="calamine").dropna(subset=["一级分类"])
    assert len(frame) == 495
    scores = evaluate(_text_frame(frame["留言主题"], frame["留言详情"]), frame["一级分类"].to_numpy())
    summary = {
        k: scores[k]
        for k in (
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
        )
    }
    print("\nTeddy Cup sample, grouped 5-fold CV:", json.dumps(summary, ensure_ascii=False))
    assert scores["macro_f1"] >= scores["baseline_macro_f1"]
    assert scores["shuffled_macro_f1"] < 0.5 * scores["baseline_macro_f1"]
    assert scores["shuffled_macro_f1"] < scores["chance_macro_f1"] + 0.1
    assert len(scores["per_class"]) == 7
