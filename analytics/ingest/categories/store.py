"""The stored category model: whether there is one, what it scored, and loading it."""

from __future__ import annotations

import io
import json
import pickle
from typing import Any

import duckdb
import pandas as pd
from sklearn.pipeline import Pipeline

from analytics.errors import NotFound
from analytics.ingest.categories import features, model, predict, scorer, taxonomy
from analytics.ingest.categories.predict import predict_arrays
from analytics.store.db import query_df, query_one

# Where the classes and functions a stored model refers to live now. A model pickled by an
# earlier version names them by their module of then (analytics.categories, before the package
# was laid out by layer); they are looked up here by name instead, so an upgrade does not leave
# a store with a model no upload can load.
_MODEL_MODULES = (features, model, scorer, predict, taxonomy)
_OLD_MODULES = frozenset({"analytics.categories"})


class _ModelUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module in _OLD_MODULES or module.startswith("analytics.ingest.categories"):
            for owner in _MODEL_MODULES:
                if hasattr(owner, name):
                    return getattr(owner, name)
        return super().find_class(module, name)


def has_model(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(query_one(con, "SELECT count(*) FROM category_models"))


def latest_model_info(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """model_id, trained_at (ISO text), n_train and scores of the newest model, or None."""
    row = query_df(
        con,
        "SELECT model_id, trained_at, n_train, scores FROM category_models ORDER BY model_id DESC LIMIT 1",
    )
    if row.empty:
        return None
    r = row.iloc[0]
    return {
        "model_id": int(r["model_id"]),
        "trained_at": pd.Timestamp(r["trained_at"]).isoformat(),
        "n_train": int(r["n_train"]),
        "scores": json.loads(r["scores"]) if r["scores"] else {},
    }


def load_model(con: duckdb.DuckDBPyConnection) -> Pipeline:
    blob = query_one(con, "SELECT model FROM category_models ORDER BY model_id DESC LIMIT 1")
    if blob is None:
        raise NotFound(
            "还没有分类模型：请先运行“categories train”（需要带分类的工单）。",
            "There is no category model yet: run `categories train` first (needs labelled tickets).",
        )
    return _ModelUnpickler(io.BytesIO(bytes(blob))).load()  # our own model, written by train_model


def load_predictor(con: duckdb.DuckDBPyConnection) -> Pipeline | None:
    """The latest model, ready to predict (its compact scorer built by predicting one empty
    text), or None when there is no model. An upload loads it while the file is read."""
    if not has_model(con):
        return None
    model = load_model(con)
    predict_arrays(model, [""], [""])
    return model
