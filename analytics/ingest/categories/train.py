"""Training: the labelled tickets of the store, evaluated (by their creation times where these
vary), fitted with the label priors of their categories (from the stored category scheme, when
one is loaded, and the district taxonomy) and stored as a new model. The model's scores say
whether a scheme was used, how many rows it had and which labels it named."""

from __future__ import annotations

import io
import json
import pickle
from typing import Any

import duckdb
import pandas as pd
from threadpoolctl import threadpool_limits

from analytics.errors import ValidationError
from analytics.ingest.categories.evaluate import MIN_CLASSES, _stratified_sample, evaluate
from analytics.ingest.categories.model import _text_frame, build_model
from analytics.ingest.categories.priors import Scheme, scheme_labels
from analytics.ingest.categories.scheme import scheme_info, stored_scheme
from analytics.store.db import audit, next_id, query_df, transaction

MIN_LABELLED = 50


MIN_CLASS_COUNT = 5  # rarer labels cannot be cross-validated; they are left out and reported


RARE_REASON = f"少于 {MIN_CLASS_COUNT} 条带此分类的工单 / fewer than {MIN_CLASS_COUNT} labelled tickets"
THIN_REASON = (
    "相近文本太少，无法在交叉验证的每一折里都训练和检验 / too few distinct texts to train and test it "
    "in every cross-validation fold"
)
CV_MAX_ROWS = 5000  # the evaluation uses a stratified sample of at most this many tickets
TRAIN_MAX_ROWS = 300_000  # the stored model is fitted on at most this many (stratified sample)


def _labelled(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return query_df(
        con,
        """
        SELECT title, content, category, created_at FROM tickets
        WHERE category IS NOT NULL AND trim(category) <> '' AND category_source = 'given'
          AND (coalesce(title, '') <> '' OR coalesce(content, '') <> '')
        ORDER BY ticket_id
        """,
    )


def train_model(con: duckdb.DuckDBPyConnection, user: str | None = None) -> dict[str, Any]:
    """Fit, evaluate and store the category model; return its scores (JSON-serialisable)."""
    data = _labelled(con)
    counts = data["category"].value_counts()
    if len(data) < MIN_LABELLED or len(counts) < MIN_CLASSES:
        raise ValidationError(
            f"带分类的工单太少（{len(data)} 条，{len(counts)} 个类别），至少需要 {MIN_LABELLED} 条、"
            f"{MIN_CLASSES} 个类别才能训练分类模型。请先导入带“诉求类型”等分类列的工单。",
            f"Too few labelled tickets ({len(data)} in {len(counts)} categories); training needs at "
            f"least {MIN_LABELLED} tickets in {MIN_CLASSES} categories. Import tickets that carry a "
            "category column first.",
        )
    n_labelled = len(data)
    # A label too small to learn and test is left out and reported rather than refusing the whole
    # model: one rare category must not hold up predictions for the other twelve. Its tickets
    # keep their given category; the model simply never predicts it.
    rare = sorted(counts[counts < MIN_CLASS_COUNT].index.astype(str))
    data = data[~data["category"].isin(rare)].reset_index(drop=True)
    if data["category"].nunique() < MIN_CLASSES:
        raise ValidationError(
            f"每个类别至少需要 {MIN_CLASS_COUNT} 条工单，目前只有一个类别满足。",
            f"Each category needs at least {MIN_CLASS_COUNT} tickets; only one category has enough.",
        )
    frame = _text_frame(data["title"], data["content"])
    labels = data["category"].astype(str)
    scheme = stored_scheme(con)
    sample = _stratified_sample(labels, CV_MAX_ROWS)
    scores = evaluate(
        frame.iloc[sample].reset_index(drop=True),
        labels.iloc[sample].to_numpy(),
        data["created_at"].iloc[sample].to_numpy(),
        scheme,
    )
    thin = scores.pop("left_out_classes")
    if thin:  # what was not evaluated is not trained either, so every predicted label has a score
        kept = ~labels.isin(thin).to_numpy()
        frame, labels = frame[kept].reset_index(drop=True), labels[kept].reset_index(drop=True)
    excluded = {c: RARE_REASON for c in rare} | {c: THIN_REASON for c in thin}
    train = _stratified_sample(labels, TRAIN_MAX_ROWS)
    with threadpool_limits(1, user_api="blas"):
        model = build_model(scheme=scheme).fit(frame.iloc[train], labels.iloc[train].to_numpy())
    scores.update(
        {
            "n_labelled": n_labelled,
            "n_train": len(train),
            "excluded_classes": sorted(excluded),
            "excluded_detail": [
                {"category": c, "tickets": int(counts[c]), "reason": excluded[c]} for c in sorted(excluded)
            ],
            "category_scheme": _scheme_use(con, scheme, labels.unique()),
            "caveat": "Scores are out-of-fold on stored tickets with given categories (folds are "
            "blocks of ticket time when the tickets' times vary; later_macro_f1 is the model fitted "
            "on the earliest 70% and scored on the latest 30%); tickets that arrive without a "
            "category may differ from them, so treat predictions with low confidence as suggestions.",
        }
    )
    blob = io.BytesIO()
    pickle.dump(model, blob, protocol=pickle.HIGHEST_PROTOCOL)
    with transaction(con) as cur:
        model_id = next_id(cur, "seq_model")
        cur.execute(
            "INSERT INTO category_models VALUES (?, now(), ?, ?, ?)",
            [model_id, len(train), json.dumps(scores, ensure_ascii=False), blob.getvalue()],
        )
        audit(
            cur,
            user,
            "train_category_model",
            {
                "model_id": model_id,
                "n_train": len(train),
                "macro_f1": scores["macro_f1"],
                "scheme_rows": scores["category_scheme"]["rows"],
            },
        )
    scores["model_id"] = model_id
    return scores


def _scheme_use(con: duckdb.DuckDBPyConnection, scheme: Scheme, labels: Any) -> dict[str, Any]:
    """What the model took from the stored category scheme: {"used", "rows", "loaded_at",
    "labels_named"} (the training labels the scheme gives priors to)."""
    info = scheme_info(con) if scheme else None
    return {
        "used": bool(scheme),
        "rows": info["rows"] if info else 0,
        "loaded_at": info["loaded_at"] if info else None,
        "labels_named": scheme_labels(labels, scheme),
    }
