"""Grouped cross-validation of the model against the baseline on the same folds: near-duplicate
texts (TF-IDF cosine > NEAR_DUPLICATE_COSINE) share a group, so they never sit on both sides
of a split; bootstrap intervals resample groups; a shuffled-label check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from analytics.errors import ValidationError
from analytics.ingest.categories.model import CALIBRATION_FOLDS, _joined, build_baseline, build_model

MIN_CLASSES = 2


N_FOLDS = 5


NEAR_DUPLICATE_COSINE = 0.8
BOOTSTRAP_REPS = 300
RANDOM_STATE = 0


def near_duplicate_groups(texts: list[str], threshold: float = NEAR_DUPLICATE_COSINE) -> np.ndarray:
    """Group id per text: connected components of char 3-gram TF-IDF cosine > threshold."""
    if not texts:
        return np.zeros(0, dtype=np.int64)
    vectors = TfidfVectorizer(analyzer="char", ngram_range=(3, 3)).fit_transform(texts)
    similar = (vectors @ vectors.T).tocsr()
    similar.data = (similar.data > threshold).astype(np.int8)
    similar.eliminate_zeros()
    _, groups = connected_components(similar, directed=False)
    return groups.astype(np.int64)


def _macro_f1(y: np.ndarray, pred: np.ndarray, n_classes: int) -> float:
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y, pred), 1)
    tp = np.diag(cm).astype(float)
    denom = cm.sum(axis=0) + cm.sum(axis=1)
    present = cm.sum(axis=1) > 0
    f1 = np.divide(2 * tp, denom, out=np.zeros(n_classes), where=denom > 0)
    return float(f1[present].mean())


def _bootstrap(
    y: np.ndarray, preds: dict[str, np.ndarray], groups: np.ndarray, n_classes: int
) -> dict[str, list[float]]:
    """95% intervals of macro-F1 (and of the difference ours - baseline), resampling groups."""
    rng = np.random.default_rng(RANDOM_STATE)
    unique, inverse = np.unique(groups, return_inverse=True)
    members = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[members], np.arange(len(unique) + 1))
    draws: dict[str, list[float]] = {k: [] for k in [*preds, "difference"]}
    for _ in range(BOOTSTRAP_REPS):
        picked = rng.integers(0, len(unique), len(unique))
        idx = np.concatenate([members[bounds[g] : bounds[g + 1]] for g in picked])
        scores = {k: _macro_f1(y[idx], p[idx], n_classes) for k, p in preds.items()}
        for k, v in scores.items():
            draws[k].append(v)
        draws["difference"].append(scores["model"] - scores["baseline"])
    return {
        k: [round(float(np.percentile(v, 2.5)), 4), round(float(np.percentile(v, 97.5)), 4)]
        for k, v in draws.items()
    }


def _stratified_sample(labels: pd.Series, n: int) -> np.ndarray:
    """Positions of a stratified sample of at most n rows (every class keeps >= its share)."""
    if len(labels) <= n:
        return np.arange(len(labels))
    frac = n / len(labels)
    picked = (
        labels.reset_index(drop=True)
        .groupby(labels.to_numpy())
        .sample(frac=frac, random_state=RANDOM_STATE)
        .index.to_numpy()
    )
    return np.sort(picked)


def evaluate(frame: pd.DataFrame, y: np.ndarray) -> dict[str, Any]:
    """Grouped cross-validation of our model and the baseline on the same folds, with a
    shuffled-label check. `frame` has columns title, content; `y` the labels."""
    # the calibrators' many tiny L-BFGS problems crawl when BLAS spins threads on a busy machine
    with threadpool_limits(1, user_api="blas"):
        return _evaluate(frame, y)


def _folds(frame: pd.DataFrame, y: np.ndarray, groups: np.ndarray) -> tuple[list[Any], list[str]]:
    """Grouped, stratified folds, and the labels some training fold holds too few of to learn."""
    n_folds = min(N_FOLDS, len(np.unique(groups)))
    if n_folds < 2:
        raise ValidationError(
            "带分类的工单文本几乎完全相同，无法做交叉验证。请导入更多样的带分类工单。",
            "The labelled tickets are near-duplicates of each other; cross-validation is impossible. "
            "Import more varied labelled tickets.",
        )
    classes, y_idx = np.unique(y, return_inverse=True)
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=RANDOM_STATE)
    folds = list(splitter.split(frame, y_idx, groups))
    short = np.zeros(len(classes), dtype=bool)
    for train, _ in folds:
        short |= np.bincount(y_idx[train], minlength=len(classes)) < CALIBRATION_FOLDS
    return folds, [str(c) for c in classes[short]]


def _too_few_classes(kept: int, left_out: list[str]) -> ValidationError:
    return ValidationError(
        f"排除样本太少的类别（{'、'.join(left_out)}）后只剩 {kept} 个类别，至少需要 {MIN_CLASSES} 个才能训练。"
        "请为这些类别补充带分类的工单，或在分类映射中把它们并入相近的类别。",
        f"After leaving out the categories with too few examples ({', '.join(left_out)}), {kept} "
        f"category is left; training needs at least {MIN_CLASSES}. Add labelled tickets for them, or "
        "merge them into a similar category in the category mapping.",
    )


def _fit_predict(
    make: Callable[[], Pipeline], train: pd.DataFrame, target: np.ndarray, test: pd.DataFrame
) -> np.ndarray:
    """Fit on the rows of labels with enough examples to calibrate, predict `test`. Only the
    shuffled-label check can meet a short label here (its labels land anywhere)."""
    keep = np.bincount(target)[target] >= CALIBRATION_FOLDS
    if len(np.unique(target[keep])) < MIN_CLASSES:
        return np.full(len(test), np.bincount(target).argmax(), dtype=np.int64)
    return make().fit(train[keep], target[keep]).predict(test)


def _evaluate(frame: pd.DataFrame, y: np.ndarray) -> dict[str, Any]:
    y = np.asarray(y)
    groups = near_duplicate_groups(_joined(frame).tolist())
    folds, short = _folds(frame, y, groups)
    left_out: list[str] = []
    while short:  # leaving labels out changes the folds; repeat until every label fits every fold
        left_out += short
        keep = ~np.isin(y.astype(str), short)
        frame, y, groups = frame[keep].reset_index(drop=True), y[keep], groups[keep]
        if len(np.unique(y)) < MIN_CLASSES:
            raise _too_few_classes(len(np.unique(y)), sorted(left_out))
        folds, short = _folds(frame, y, groups)
    classes, y_idx = np.unique(y, return_inverse=True)
    k = len(classes)
    n_folds = len(folds)
    shuffled = np.random.default_rng(RANDOM_STATE).permutation(y_idx)
    preds = {name: np.empty(len(y_idx), dtype=np.int64) for name in ("model", "baseline", "shuffled")}
    for train, test in folds:
        for name, make, target in (
            ("model", build_model, y_idx),
            ("baseline", build_baseline, y_idx),
            ("shuffled", build_model, shuffled),
        ):
            preds[name][test] = _fit_predict(make, frame.iloc[train], target[train], frame.iloc[test])
    fold_f1 = {
        name: [round(_macro_f1(y_idx[test], preds[name][test], k), 4) for _, test in folds]
        for name in ("model", "baseline")
    }
    precision, recall, f1, support = precision_recall_fscore_support(
        y_idx, preds["model"], labels=np.arange(k), zero_division=0
    )
    intervals = _bootstrap(y_idx, {"model": preds["model"], "baseline": preds["baseline"]}, groups, k)
    priors = np.bincount(y_idx, minlength=k) / len(y_idx)
    return {
        "n_evaluated": len(y_idx),
        "n_groups": int(len(np.unique(groups))),
        "folds": n_folds,
        "grouping": f"near-duplicates (char 3-gram TF-IDF cosine > {NEAR_DUPLICATE_COSINE}) share a fold",
        "classes": [str(c) for c in classes],
        "macro_f1": round(_macro_f1(y_idx, preds["model"], k), 4),
        "macro_f1_ci95": intervals["model"],
        "accuracy": round(float((preds["model"] == y_idx).mean()), 4),
        "baseline_macro_f1": round(_macro_f1(y_idx, preds["baseline"], k), 4),
        "baseline_macro_f1_ci95": intervals["baseline"],
        "baseline_accuracy": round(float((preds["baseline"] == y_idx).mean()), 4),
        "difference_ci95": intervals["difference"],
        "fold_macro_f1": fold_f1["model"],
        "baseline_fold_macro_f1": fold_f1["baseline"],
        "shuffled_macro_f1": round(_macro_f1(shuffled, preds["shuffled"], k), 4),
        # expected macro-F1 of guessing with the class priors
        "chance_macro_f1": round(float(priors.mean()), 4),
        "per_class": {
            str(c): {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(s),
            }
            for c, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)
        },
        "confusion_matrix": confusion_matrix(y_idx, preds["model"], labels=np.arange(k)).tolist(),
        "baseline": "char 1-3-gram TF-IDF (title + content) + LinearSVC",
        "model": "hashed char 1-2-grams (title + content) + title 1-2-grams, sublinear TF-IDF, "
        "class-balanced LinearSVC with sigmoid calibration",
        # labels left out because some training fold would hold fewer than CALIBRATION_FOLDS
        "left_out_classes": sorted(left_out),
    }
