"""Predictions from Arrow columns (or lists) of titles and contents: the title-only block once
per distinct title, chunks on a few threads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from analytics.ingest.categories.features import _as_text_array, _feature_blocks, _feature_steps
from analytics.ingest.categories.model import _text_frame
from analytics.ingest.categories.scorer import _scorer

PREDICT_CHUNK = 10_000  # texts per prediction task: small enough to stay in cache
PREDICT_WORKERS = 2  # numpy and scipy release the GIL for most of the work


def predict_arrays(model: Pipeline, titles: Any, contents: Any) -> tuple[np.ndarray, np.ndarray]:
    """(index into model.classes_, confidence rounded to 4 places) of each text.

    Blocks that read the title alone are computed once per distinct title (exports repeat
    titles: a million tickets may carry a few tens of thousands) and their share of the decision
    values gathered per text. Long inputs are cut into chunks predicted on PREDICT_WORKERS
    threads (the decoding, hashing and products release the GIL for most of their work)."""
    titles, contents = _as_text_array(titles), _as_text_array(contents)
    n = len(titles)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    steps = _feature_steps(model)
    scorer = None if steps is None else _scorer(model, steps)
    if scorer is None:  # another pipeline shape: scikit-learn's own path
        proba = model.predict_proba(_text_frame(titles.to_pylist(), contents.to_pylist()))
        best = proba.argmax(axis=1)
        return best, proba[np.arange(n), best].round(4)
    offsets = np.cumsum([0, *(1 << h.n_bits for h, _, _ in steps)])
    by_title = [i for i, (_, _, cols) in enumerate(steps) if cols == ["title"]]
    others = [i for i in range(len(steps)) if i not in by_title]

    def shares(which: list[int], columns: dict[str, pa.Array]) -> np.ndarray:
        blocks = _feature_blocks(model, columns, [steps[i] for i in which])
        total = np.zeros((len(next(iter(columns.values()))), len(scorer.intercept)))
        for i, block in zip(which, blocks or [], strict=True):
            total += scorer.partial(block, int(offsets[i]))
        return total

    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(PREDICT_WORKERS) as pool:

        def chunked(count: int, work: Callable[[int], np.ndarray]) -> list[np.ndarray]:
            starts = range(0, count, PREDICT_CHUNK)
            return [work(0)] if count <= PREDICT_CHUNK else list(pool.map(work, starts))

        title_index, title_shares = None, None
        if by_title:
            encoded = pc.dictionary_encode(pc.fill_null(titles, ""))
            title_index = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            distinct = encoded.dictionary
            title_shares = np.concatenate(
                chunked(
                    len(distinct), lambda s: shares(by_title, {"title": distinct.slice(s, PREDICT_CHUNK)})
                )
            )

        def chunk(start: int) -> np.ndarray:
            end = min(start + PREDICT_CHUNK, n)
            part = {
                "title": titles.slice(start, PREDICT_CHUNK),
                "content": contents.slice(start, PREDICT_CHUNK),
            }
            decision = shares(others, part) if others else np.zeros((end - start, 1))
            if title_shares is not None:
                decision = decision + title_shares[title_index[start:end]]
            proba = scorer.calibrated(decision)
            best = proba.argmax(axis=1)
            return np.stack([best, proba[np.arange(len(best)), best].round(4)], axis=1)

        parts = np.concatenate(chunked(n, chunk))
    return parts[:, 0].astype(np.int64), parts[:, 1]


def predict_frame(model: Pipeline, titles: Iterable[Any], contents: Iterable[Any]) -> pd.DataFrame:
    """category and confidence (probability of that category) for each text."""
    best, confidence = predict_arrays(model, list(titles), list(contents))
    return pd.DataFrame({"category": model.classes_[best], "confidence": confidence})


def predicted_columns(model: Pipeline, titles: Any, contents: Any) -> tuple[pa.Array, pa.Array]:
    """category and confidence of each text as Arrow arrays, for DuckDB."""
    best, confidence = predict_arrays(model, titles, contents)
    names = pa.array([str(c) for c in model.classes_], pa.string())
    return names.take(pa.array(best)), pa.array(confidence, pa.float64())
