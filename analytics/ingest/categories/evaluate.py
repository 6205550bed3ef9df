"""Cross-validation of the model against the baseline on the same folds, and a forward check on
the latest tickets.

Groups: near-duplicate texts (char 3-gram TF-IDF cosine > NEAR_DUPLICATE_COSINE, connected
components) share a group, so they never sit on both sides of a split.

Folds: with ticket times (at least MIN_DISTINCT_TIMES distinct ones, none missing), the groups
are ordered by the time of their earliest ticket and cut into N_FOLDS contiguous blocks of about
equal size (time-blocked CV: each block is predicted by a model fitted on the other blocks).
Complaint topics drift over the years, and a random split lets a ticket be predicted by its
contemporaries; on the Teddy Cup sample random grouped folds scored the model 0.848 and
time-blocked folds 0.812, and messages from outside the sample scored 0.791. Without times the
folds are stratified random group folds (StratifiedGroupKFold).

Forward check (with times): fitted on the earliest LATER_TRAIN_SHARE of the groups by time and
scored on the rest, the closest estimate this data gives of how the model does on messages
that arrive after it was trained.

Every fit sees only its training rows: features, idf weights, calibrators and label priors are
all fitted inside the fold; the model's hyperparameters are fixed constants. The category scheme
(`scheme`, when given) is label-free: every fold's model gets the priors of the same scheme, as
the stored model will.

Intervals: 95% percentile bootstrap of the pooled out-of-fold macro-F1 (and of the difference
model - baseline, on the same draws), resampling groups (BOOTSTRAP_REPS draws).

Shuffled-label check: the model fitted on permuted labels, without label priors (the priors
would teach it the real meaning of the label names); it must fall to chance.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
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
from analytics.ingest.categories.priors import Scheme, as_scheme

MIN_CLASSES = 2


N_FOLDS = 5
MIN_DISTINCT_TIMES = 2 * N_FOLDS  # fewer distinct ticket times: random group folds instead
LATER_TRAIN_SHARE = 0.7


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


def evaluate(frame: pd.DataFrame, y: np.ndarray, times: Any = None, scheme: Scheme = ()) -> dict[str, Any]:
    """Cross-validation of our model and the baseline on the same folds, with a shuffled-label
    check and, given `times` (one per row), time-blocked folds and a forward check on the latest
    tickets. `frame` has columns title, content; `y` the labels; `scheme` the category scheme
    whose names the model's label priors use (none: the district taxonomy's alone)."""
    make_model = partial(build_model, scheme=as_scheme(scheme))
    # the calibrators' many tiny L-BFGS problems crawl when BLAS spins threads on a busy machine
    with threadpool_limits(1, user_api="blas"):
        return _evaluate(frame, y, _usable_times(times, len(frame)), make_model)


def _usable_times(times: Any, n: int) -> np.ndarray | None:
    """The times as int64 nanoseconds, or None when there are none, some are missing, or too
    few are distinct to order the tickets by."""
    if times is None:
        return None
    stamps = pd.to_datetime(pd.Series(np.asarray(times)).reset_index(drop=True), errors="coerce")
    if len(stamps) != n or stamps.isna().any() or stamps.nunique() < MIN_DISTINCT_TIMES:
        return None
    return stamps.astype("datetime64[ns]").to_numpy().astype(np.int64)


def _time_order(groups: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Rank of each row's group when the groups are ordered by their earliest time."""
    first = pd.Series(times).groupby(groups).min()
    rank = pd.Series(np.arange(len(first)), index=first.sort_values(kind="stable").index)
    return rank.reindex(groups).to_numpy()


def _time_blocks(groups: np.ndarray, times: np.ndarray, n_blocks: int) -> np.ndarray:
    """Block (0 = earliest) of each row: groups in time order cut into n_blocks of about equal
    row counts."""
    rank = _time_order(groups, times)
    rows_before = np.cumsum(np.bincount(rank)) - np.bincount(rank)
    return np.minimum((rows_before[rank] * n_blocks) // len(groups), n_blocks - 1)


def _folds(
    frame: pd.DataFrame, y: np.ndarray, groups: np.ndarray, times: np.ndarray | None = None
) -> tuple[list[Any], list[str]]:
    """Time-blocked folds (given times) or grouped, stratified folds, and the labels some
    training fold holds too few of to learn."""
    n_folds = min(N_FOLDS, len(np.unique(groups)))
    if n_folds < 2:
        raise ValidationError(
            "带分类的工单文本几乎完全相同，无法做交叉验证。请导入更多样的带分类工单。",
            "The labelled tickets are near-duplicates of each other; cross-validation is impossible. "
            "Import more varied labelled tickets.",
        )
    classes, y_idx = np.unique(y, return_inverse=True)
    if times is not None:
        block = _time_blocks(groups, times, n_folds)
        folds = [(np.flatnonzero(block != b), np.flatnonzero(block == b)) for b in range(n_folds)]
    else:
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
    make: Callable[[], Pipeline],
    train: pd.DataFrame,
    target: np.ndarray,
    test: pd.DataFrame,
    classes: np.ndarray,
) -> np.ndarray:
    """Fit on the rows of labels with enough examples to calibrate (by their names, which the
    label priors match), predict `test` as indices into `classes`. Only the shuffled-label check
    and the forward check can meet a short label here."""
    keep = np.bincount(target)[target] >= CALIBRATION_FOLDS
    if len(np.unique(target[keep])) < MIN_CLASSES:
        return np.full(len(test), np.bincount(target).argmax(), dtype=np.int64)
    predicted = make().fit(train[keep], classes[target[keep]]).predict(test)
    return np.searchsorted(classes, predicted)


def _no_priors() -> Pipeline:
    return build_model(priors=False)


def _forward(
    frame: pd.DataFrame,
    y_idx: np.ndarray,
    groups: np.ndarray,
    times: np.ndarray,
    classes: np.ndarray,
    make_model: Callable[[], Pipeline],
) -> dict[str, Any]:
    """Fit on the earliest LATER_TRAIN_SHARE of the groups by time, score the rest."""
    rank = _time_order(groups, times)
    rows_before = np.cumsum(np.bincount(rank)) - np.bincount(rank)
    early = rows_before[rank] < LATER_TRAIN_SHARE * len(groups)
    train, test = np.flatnonzero(early), np.flatnonzero(~early)
    out: dict[str, Any] = {"later_n_train": len(train), "later_n_test": len(test)}
    for name, make in (("later_macro_f1", make_model), ("baseline_later_macro_f1", build_baseline)):
        pred = _fit_predict(make, frame.iloc[train], y_idx[train], frame.iloc[test], classes)
        out[name] = round(_macro_f1(y_idx[test], pred, len(classes)), 4)
    return out


def _evaluate(
    frame: pd.DataFrame, y: np.ndarray, times: np.ndarray | None, make_model: Callable[[], Pipeline]
) -> dict[str, Any]:
    y = np.asarray(y)
    groups = near_duplicate_groups(_joined(frame).tolist())
    folds, short = _folds(frame, y, groups, times)
    left_out: list[str] = []
    while short:  # leaving labels out changes the folds; repeat until every label fits every fold
        left_out += short
        keep = ~np.isin(y.astype(str), short)
        frame, y, groups = frame[keep].reset_index(drop=True), y[keep], groups[keep]
        times = None if times is None else times[keep]
        if len(np.unique(y)) < MIN_CLASSES:
            raise _too_few_classes(len(np.unique(y)), sorted(left_out))
        folds, short = _folds(frame, y, groups, times)
    classes, y_idx = np.unique(y, return_inverse=True)
    k = len(classes)
    n_folds = len(folds)
    shuffled = np.random.default_rng(RANDOM_STATE).permutation(y_idx)
    preds = {name: np.empty(len(y_idx), dtype=np.int64) for name in ("model", "baseline", "shuffled")}
    for train, test in folds:
        for name, make, target in (
            ("model", make_model, y_idx),
            ("baseline", build_baseline, y_idx),
            ("shuffled", _no_priors, shuffled),
        ):
            preds[name][test] = _fit_predict(
                make, frame.iloc[train], target[train], frame.iloc[test], classes
            )
    fold_f1 = {
        name: [round(_macro_f1(y_idx[test], preds[name][test], k), 4) for _, test in folds]
        for name in ("model", "baseline")
    }
    precision, recall, f1, support = precision_recall_fscore_support(
        y_idx, preds["model"], labels=np.arange(k), zero_division=0
    )
    intervals = _bootstrap(y_idx, {"model": preds["model"], "baseline": preds["baseline"]}, groups, k)
    priors = np.bincount(y_idx, minlength=k) / len(y_idx)
    forward = {} if times is None else _forward(frame, y_idx, groups, times, classes, make_model)
    return {
        "n_evaluated": len(y_idx),
        "n_groups": int(len(np.unique(groups))),
        "folds": n_folds,
        "grouping": f"near-duplicates (char 3-gram TF-IDF cosine > {NEAR_DUPLICATE_COSINE}) share a fold"
        + ("; folds are contiguous blocks of ticket time" if times is not None else "; random folds"),
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
        "class-balanced LinearSVC with sigmoid calibration, label priors from the category scheme "
        "(when one is loaded) and the district taxonomy",
        # labels left out because some training fold would hold fewer than CALIBRATION_FOLDS
        "left_out_classes": sorted(left_out),
        # with times: fitted on the earliest 70% of the tickets, scored on the latest 30%
        **forward,
    }
