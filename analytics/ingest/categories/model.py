"""The category model and the plain baseline it is measured against.

Model: hashed character 1-2-grams of title + content and of the title alone (so the title
counts twice; on the Teddy Cup sample 1-2-grams scored higher than 1-3-grams, and they are
fewer to hash), sublinear TF-IDF, a class-balanced LinearSVC calibrated to probabilities
(CalibratedClassifierCV, one classifier fitted on all the data with sigmoid calibrators fitted on
its cross-validated scores: as good as the three-model ensemble on the Teddy Cup sample, and less
work to predict). Training evaluates it against the baseline (char 1-3-gram TF-IDF + LinearSVC on
title + content) on the same grouped folds (`evaluate`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC

from analytics.ingest.categories.features import TITLE_HASH_BITS, CharNgramHasher

# the model's sigmoid calibrators are fitted on 3-fold scores, so every label needs at least this
# many examples in every training fold; a label whose examples are a few near-duplicate texts can
# fall short even with MIN_CLASS_COUNT of them (the grouped folds keep each text's copies together)
CALIBRATION_FOLDS = 3


def _text_frame(titles: Iterable[Any], contents: Iterable[Any]) -> pd.DataFrame:
    """The model's input: one row per ticket with title and content (missing -> '')."""
    title = pd.Series(list(titles), dtype=object)
    content = pd.Series(list(contents), dtype=object)
    return pd.DataFrame(
        {
            "title": title.where(title.notna(), "").to_numpy(),
            "content": content.where(content.notna(), "").to_numpy(),
        }
    )


def _joined(frame: pd.DataFrame) -> pd.Series:
    return frame["title"].astype(str) + "。" + frame["content"].astype(str)


def build_model() -> Pipeline:
    """Our model (see the module docstring for why each piece is there)."""
    features = ColumnTransformer(
        [
            (
                "text",
                Pipeline([("hash", CharNgramHasher((1, 2))), ("tfidf", TfidfTransformer(sublinear_tf=True))]),
                ["title", "content"],
            ),
            (
                "title",
                Pipeline(
                    [
                        ("hash", CharNgramHasher((1, 2), TITLE_HASH_BITS)),
                        ("tfidf", TfidfTransformer(sublinear_tf=True)),
                    ]
                ),
                ["title"],
            ),
        ]
    )
    classifier = CalibratedClassifierCV(
        LinearSVC(C=0.5, class_weight="balanced"), method="sigmoid", cv=CALIBRATION_FOLDS, ensemble=False
    )
    return Pipeline([("features", features), ("classifier", classifier)])


def build_baseline() -> Pipeline:
    """The plain reference: char 1-3-gram TF-IDF of title + content, LinearSVC defaults."""
    return Pipeline(
        [
            ("join", FunctionTransformer(_joined)),
            ("tfidf", TfidfVectorizer(analyzer="char", ngram_range=(1, 3))),
            ("classifier", LinearSVC()),
        ]
    )
