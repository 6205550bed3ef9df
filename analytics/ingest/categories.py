"""Category taxonomy and the trainable category model.

Taxonomy: the district's 13 categories (TAXONOMY). An upload's own category labels are mapped
onto it by `map_category_series`: the analysts' table category_map first, then exact synonyms,
then keywords found in the label. A label that maps to nothing is kept as it came (so labelled
data with another scheme, e.g. the Teddy Cup's 城乡建设 / 环境保护 / ..., stays trainable).

Model: hashed character 1-2-grams of title + content and of the title alone (so the
title counts twice; on the Teddy Cup sample 1-2-grams scored macro-F1 0.842 against 0.827 with
1-3-grams, and they are a third fewer to hash), sublinear TF-IDF, a class-balanced LinearSVC calibrated to probabilities
(CalibratedClassifierCV, one classifier fitted on all the data with sigmoid calibrators fitted on
its cross-validated scores: as good as the three-model ensemble on the Teddy Cup sample and a
third of the work to predict). `train_model` evaluates it against a plain baseline (char 1-3-gram
TF-IDF + LinearSVC on title + content) on the same grouped folds: near-duplicate texts (TF-IDF
cosine > 0.8) share a group, so they never sit on both sides of a split. The hashing featuriser
is vectorised over whole batches (each column's Arrow UTF-8 buffer decoded at once, numpy over
code points, one SIMD sort of 32-bit (row, n-gram) keys builds the sparse matrix); prediction
multiplies the unnormalised tf-idf blocks by the classifiers' non-zero coefficient rows only
(`LinearScorer`, one float32 product), scales each row's decision values by its l2 norm and
applies the calibrators in numpy; the title-only block is computed once per distinct title;
uploads and `predict_missing` predict each distinct text once, which keeps a million tickets in
seconds.
"""

from __future__ import annotations

import io
import json
import pickle
import re
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.special import expit
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV, _SigmoidCalibration
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from analytics import privacy
from analytics.errors import NotFound, ValidationError
from analytics.store.db import audit, next_id, query_df, query_one, transaction

MIN_LABELLED = 50
MIN_CLASSES = 2
MIN_CLASS_COUNT = 5  # rarer labels cannot be cross-validated; they are left out and reported
N_FOLDS = 5
# the model's sigmoid calibrators are fitted on 3-fold scores, so every label needs at least this
# many examples in every training fold; a label whose examples are a few near-duplicate texts can
# fall short even with MIN_CLASS_COUNT of them (the grouped folds keep each text's copies together)
CALIBRATION_FOLDS = 3
RARE_REASON = f"少于 {MIN_CLASS_COUNT} 条带此分类的工单 / fewer than {MIN_CLASS_COUNT} labelled tickets"
THIN_REASON = (
    "相近文本太少，无法在交叉验证的每一折里都训练和检验 / too few distinct texts to train and test it "
    "in every cross-validation fold"
)
CV_MAX_ROWS = 5000  # the evaluation uses a stratified sample of at most this many tickets
TRAIN_MAX_ROWS = 300_000  # the stored model is fitted on at most this many (stratified sample)
NEAR_DUPLICATE_COSINE = 0.8
BOOTSTRAP_REPS = 300
RANDOM_STATE = 0
MAX_TEXT_CHARS = 400  # title + content beyond this adds little and costs time
# 2^19 / 2^17 buckets: collisions cost little accuracy, while a larger space slows the fit
N_HASH_BITS = 19
TITLE_HASH_BITS = 17
PREDICT_CHUNK = 10_000  # texts per prediction task: small enough to stay in cache
PREDICT_WORKERS = 2  # numpy and scipy release the GIL for most of the work
HASH_BLOCK = 4_000  # texts per hashing block: the working arrays stay in cache
LOW_CONFIDENCE = 0.5
WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Category:
    name: str
    en: str
    # upload labels that mean exactly this category (compared case-insensitively)
    synonyms: tuple[str, ...] = ()
    # words that, found inside an upload label, mean this category; specific enough that a
    # label from another scheme (卫生计生, 环境保护, 交通运输) does not hit them by accident
    keywords: tuple[str, ...] = ()


TAXONOMY: tuple[Category, ...] = (
    Category(
        "物业服务",
        "property management",
        ("物业管理", "物业", "物业纠纷", "物业收费", "property management"),
        ("物业", "保安", "门禁"),
    ),
    Category(
        "供暖",
        "heating",
        ("暖气", "集中供热", "供热", "采暖", "HEAT/HOT WATER", "heating", "non-residential heat"),
        ("暖气", "供热", "供暖", "采暖", "heat"),
    ),
    Category(
        "供水",
        "water supply",
        ("自来水", "停水", "水压", "water system", "plumbing", "water leak", "water conservation"),
        ("供水", "自来水", "停水", "水压", "plumbing", "water system"),
    ),
    Category(
        "供电",
        "electricity",
        ("停电", "电力", "electric", "electrical", "street light condition"),
        ("供电", "停电", "电力", "electric"),
    ),
    Category("燃气", "gas", ("天然气", "煤气", "gas"), ("燃气", "天然气", "煤气")),
    Category("电梯", "lifts", ("elevator", "电梯故障"), ("电梯", "elevator")),
    Category(
        "停车",
        "parking",
        ("停车难", "乱停车", "车位", "illegal parking", "blocked driveway", "broken parking meter"),
        ("停车", "车位", "parking", "driveway"),
    ),
    Category(
        "噪音扰民",
        "noise",
        ("噪音", "噪声", "扰民", "noise", "collection truck noise"),
        ("噪音", "噪声", "扰民", "noise"),
    ),
    Category(
        "环境卫生",
        "sanitation",
        (
            "卫生",
            "垃圾",
            "环卫",
            "unsanitary condition",
            "sanitation condition",
            "dirty conditions",
            "missed collection (all materials)",
            "rodent",
            "graffiti",
            "request large bulky item collection",
        ),
        ("垃圾", "环卫", "保洁", "sanitation", "sanitary", "rodent", "graffiti"),
    ),
    Category(
        "违章搭建",
        "illegal construction",
        ("违建", "违法建设", "私搭乱建", "building/use"),
        ("违建", "违章", "私搭", "乱建", "违法建设"),
    ),
    Category(
        "房屋质量",
        "building quality",
        (
            "房屋漏水",
            "墙体开裂",
            "door/window",
            "paint/plaster",
            "flooring/stairs",
            "general construction/plumbing",
        ),
        ("漏水", "渗水", "开裂", "房屋质量", "paint", "plaster"),
    ),
    Category(
        "安全隐患",
        "safety hazards",
        ("消防", "安全", "safety", "hazardous materials", "asbestos", "lead"),
        ("隐患", "消防", "safety", "hazard"),
    ),
    Category("其他", "other", ("其它", "other", "general", "question"), ()),
)
CATEGORY_NAMES = tuple(c.name for c in TAXONOMY)


# --- mapping upload labels ------------------------------------------------------------------


def _norm_label(label: str) -> str:
    return WHITESPACE.sub(" ", str(label)).strip().lower()


def _builtin_map(label: str) -> str:
    """Taxonomy name, exact synonym, keyword inside the label; else the label itself."""
    key = _norm_label(label)
    for category in TAXONOMY:
        if key == category.name or key in (s.lower() for s in category.synonyms):
            return category.name
    for category in TAXONOMY:
        if any(k.lower() in key for k in category.keywords):
            return category.name
    return str(label).strip()


def map_category_series(con: duckdb.DuckDBPyConnection, raw: pd.Series) -> pd.Series:
    """Upload category labels -> district categories, computed once per distinct label.

    Missing / blank labels give None. Same index as `raw`.
    """
    text = raw.astype("string").str.strip()
    distinct = [v for v in text.dropna().unique() if v]
    table = dict(
        query_df(con, "SELECT source_category, category FROM category_map").itertuples(index=False, name=None)
    )
    mapping = {v: table.get(v) or _builtin_map(v) for v in distinct}
    out = text.map(mapping)
    return out.astype(object).where(out.notna(), None)


def set_category_mapping(
    con: duckdb.DuckDBPyConnection, source: str, category: str, user: str | None = None
) -> int:
    """Save `source` label -> `category` and re-map stored tickets that came with that label.
    Returns the number of tickets changed."""
    source, category = str(source).strip(), str(category).strip()
    if not source or not category:
        raise ValidationError(
            "原始分类和目标分类都不能为空。", "Both the source label and the category are required."
        )
    with transaction(con) as cur:
        cur.execute(
            "INSERT INTO category_map VALUES (?, ?) ON CONFLICT (source_category) DO UPDATE SET category = excluded.category",
            [source, category],
        )
        n = cur.execute(
            "UPDATE tickets SET category = ? WHERE trim(category_raw) = ? AND category_source = 'given'",
            [category, source],
        ).fetchone()[0]
        audit(cur, user, "set_category_mapping", {"source": source, "category": category, "tickets": n})
    return int(n)


# --- features -------------------------------------------------------------------------------


# code points dropped before n-grams are taken (ASCII and ideographic whitespace, NBSP)
WHITESPACE_CODES = np.array([9, 10, 11, 12, 13, 32, 0xA0, 0x3000], dtype=np.uint32)
_OFFSET_TYPES = {pa.string(): np.int32, pa.large_string(): np.int64}


def _as_text_array(values: Any) -> pa.Array:
    """A column of texts as one Arrow string array (anything but a string counts as empty)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        values = pa.array([v if isinstance(v, str) else None for v in values], type=pa.string())
    if values.type not in _OFFSET_TYPES:
        values = values.cast(pa.large_string())
    return values


@dataclass(frozen=True)
class ColumnCodes:
    """The characters of one text column: code points of all values concatenated, whitespace
    dropped, and the number each value kept (a missing value has none)."""

    codes: np.ndarray  # uint64
    lengths: np.ndarray  # int64, one per value

    @classmethod
    def of(cls, values: Any) -> ColumnCodes:
        column = _as_text_array(values)
        if column.null_count:
            column = pc.fill_null(column, "")
        n = len(column)
        lengths = np.asarray(pc.utf8_length(column).to_numpy(zero_copy_only=False), dtype=np.int64)
        if n == 0 or not lengths.any():
            return cls(np.zeros(0, dtype=np.uint64), np.zeros(n, dtype=np.int64))
        # the values' UTF-8 bytes lie back to back in the data buffer: one decode for all of them
        offsets = np.frombuffer(
            column.buffers()[1],
            dtype=_OFFSET_TYPES[column.type],
            count=n + 1,
            offset=column.offset * np.dtype(_OFFSET_TYPES[column.type]).itemsize,
        )
        raw = memoryview(column.buffers()[2])[int(offsets[0]) : int(offsets[-1])]
        codes = np.frombuffer(str(raw, "utf-8").encode("utf-32-le"), dtype=np.uint32)
        space = np.isin(codes, WHITESPACE_CODES, kind="table")
        if space.any():
            owner = np.repeat(np.arange(n), lengths)
            lengths = lengths - np.bincount(owner[space], minlength=n)
            codes = codes[~space]
        return cls(codes.astype(np.uint64), lengths)

    def head(self, limits: np.ndarray) -> ColumnCodes:
        """Each value cut to at most `limits` characters."""
        if (self.lengths <= limits).all():
            return self
        starts = np.cumsum(self.lengths) - self.lengths
        owner = np.repeat(np.arange(len(self.lengths)), self.lengths)
        keep = np.arange(len(self.codes)) - starts[owner] < limits[owner]
        return ColumnCodes(self.codes[keep], np.minimum(self.lengths, limits))


class CharNgramHasher(TransformerMixin, BaseEstimator):
    """Counts of hashed character n-grams, computed with numpy over all texts at once.

    Like HashingVectorizer(analyzer='char', alternate_sign=False, norm=None), but an order of
    magnitude faster on large batches: each column's values are decoded in one go from Arrow's
    UTF-8 buffer, whitespace is dropped, each text (its columns one after the other, with a break
    between them) is cut at `max_chars`, and the n-grams of each order are packed into 64-bit
    keys (21 bits per character) and hashed by one multiplication. No n-gram spans two values.
    """

    def __init__(
        self,
        ngram_range: tuple[int, int] = (1, 3),
        n_bits: int = N_HASH_BITS,
        max_chars: int = MAX_TEXT_CHARS,
    ):
        self.ngram_range = ngram_range
        self.n_bits = n_bits
        self.max_chars = max_chars

    def fit(self, X: Any, y: Any = None) -> CharNgramHasher:
        return self

    def transform(self, X: Any) -> sparse.csr_matrix:
        columns = [X.iloc[:, i] for i in range(X.shape[1])] if isinstance(X, pd.DataFrame) else [list(X)]
        arrays = [_as_text_array(c.tolist() if isinstance(c, pd.Series) else c) for c in columns]
        n = len(arrays[0])
        # small blocks keep the working arrays in cache (several times faster than one big block)
        blocks = [
            self.hash_codes([ColumnCodes.of(a.slice(s, HASH_BLOCK)) for a in arrays])
            for s in range(0, n, HASH_BLOCK)
        ]
        if len(blocks) == 1:
            return blocks[0]
        if not blocks:
            return sparse.csr_matrix((0, 1 << self.n_bits))
        return sparse.vstack(blocks, format="csr")

    def hash_codes(self, columns: list[ColumnCodes], dtype: Any = np.float64) -> sparse.csr_matrix:
        """The count matrix of texts made of these columns (each value of the first column, a
        break, the value of the next ...)."""
        n = len(columns[0].lengths)
        # (row, column) keys: 32 bits are enough for a block of a few thousand texts, and sort
        # twice as fast as 64
        key_type = np.uint32 if n << self.n_bits <= 1 << 32 else np.uint64
        used = np.zeros(n, dtype=np.int64)  # characters (and breaks) of each text so far
        keys = []
        shift = np.uint64(64 - self.n_bits)
        lo, hi = self.ngram_range
        for column in columns:
            column = column.head(np.maximum(self.max_chars - used, 0))
            used += column.lengths + 1
            codes = column.codes
            owner = np.repeat(np.arange(n, dtype=key_type), column.lengths) << key_type(self.n_bits)
            for k in range(lo, hi + 1):
                m = len(codes) - k + 1
                if m <= 0:
                    continue
                key = codes[:m]
                for j in range(1, k):
                    key = (key << np.uint64(21)) | codes[j : j + m]
                # Fibonacci hashing: the top bits of key * 2^64/phi spread the keys evenly
                row_col = owner[:m] | ((key * np.uint64(0x9E3779B97F4A7C15)) >> shift).astype(key_type)
                # keep the windows that lie within one value
                keys.append(row_col if k == 1 else row_col[owner[:m] == owner[k - 1 :]])
        # one sort of (row, column) keys gives the canonical CSR arrays and the counts at once
        # (numpy's SIMD sort is an order of magnitude faster than scipy's COO route)
        flat = np.sort(np.concatenate(keys)) if keys else np.zeros(0, dtype=key_type)
        new = np.empty(len(flat), dtype=bool)  # where a new (row, column) starts
        new[:1] = True
        np.not_equal(flat[1:], flat[:-1], out=new[1:])
        first = np.flatnonzero(new)
        unique = flat[first]
        counts = np.diff(first, append=len(flat)).astype(dtype)
        # rows are the high bits of the sorted keys: each row starts where its first key would
        starts = np.searchsorted(unique, np.arange(n, dtype=key_type) << key_type(self.n_bits))
        indptr = np.append(starts, len(unique))
        indices = (unique & key_type((1 << self.n_bits) - 1)).astype(np.int32)
        matrix = sparse.csr_matrix((counts, indices, indptr), shape=(n, 1 << self.n_bits))
        matrix.has_sorted_indices = True
        matrix.has_canonical_format = True
        return matrix


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


# --- evaluation -----------------------------------------------------------------------------


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


# --- store ----------------------------------------------------------------------------------


def _labelled(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return query_df(
        con,
        """
        SELECT title, content, category FROM tickets
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
    sample = _stratified_sample(labels, CV_MAX_ROWS)
    scores = evaluate(frame.iloc[sample].reset_index(drop=True), labels.iloc[sample].to_numpy())
    thin = scores.pop("left_out_classes")
    if thin:  # what was not evaluated is not trained either, so every predicted label has a score
        kept = ~labels.isin(thin).to_numpy()
        frame, labels = frame[kept].reset_index(drop=True), labels[kept].reset_index(drop=True)
    excluded = {c: RARE_REASON for c in rare} | {c: THIN_REASON for c in thin}
    train = _stratified_sample(labels, TRAIN_MAX_ROWS)
    with threadpool_limits(1, user_api="blas"):
        model = build_model().fit(frame.iloc[train], labels.iloc[train].to_numpy())
    scores.update(
        {
            "n_labelled": n_labelled,
            "n_train": len(train),
            "excluded_classes": sorted(excluded),
            "excluded_detail": [
                {"category": c, "tickets": int(counts[c]), "reason": excluded[c]} for c in sorted(excluded)
            ],
            "caveat": "Scores are out-of-fold on stored tickets with given categories; tickets that "
            "arrive without a category may differ from them, so treat predictions with low "
            "confidence as suggestions.",
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
            {"model_id": model_id, "n_train": len(train), "macro_f1": scores["macro_f1"]},
        )
    scores["model_id"] = model_id
    return scores


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
    return pickle.loads(bytes(blob))  # noqa: S301 - our own model, written by train_model


def load_predictor(con: duckdb.DuckDBPyConnection) -> Pipeline | None:
    """The latest model, ready to predict (its compact scorer built by predicting one empty
    text), or None when there is no model. An upload loads it while the file is read."""
    if not has_model(con):
        return None
    model = load_model(con)
    predict_arrays(model, [""], [""])
    return model


@dataclass(frozen=True)
class TfidfBlock:
    """One tf-idf block as an unnormalised matrix and a scale per row: the l2-normalised rows are
    `scale[i] * matrix[i]`. A linear model applies the scale to its n decision values instead of
    to every non-zero entry."""

    matrix: sparse.csr_matrix  # sublinear tf x idf, float32
    scale: np.ndarray  # float64, one per row


_idf32: weakref.WeakKeyDictionary[TfidfTransformer, np.ndarray] = weakref.WeakKeyDictionary()


def _fast_tfidf(counts: sparse.csr_matrix, tfidf: TfidfTransformer) -> TfidfBlock:
    """TfidfTransformer.transform on canonical float32 counts, in place on the data array, for an
    l2 norm or none (`_feature_steps` takes no other).

    Same numbers as scikit-learn (sublinear tf, idf, l2 or no norm) without its diagonal-matrix
    product and copies, which cost more than the hashing itself on large batches."""
    x = counts
    if tfidf.sublinear_tf:
        np.log(x.data, out=x.data)
        x.data += 1.0
    if tfidf.use_idf:
        if tfidf not in _idf32:
            _idf32[tfidf] = tfidf.idf_.astype(np.float32)
        x.data *= _idf32[tfidf][x.indices]
    n = x.shape[0]
    scale = np.ones(n)
    if tfidf.norm == "l2" and x.nnz:
        lengths = np.diff(x.indptr)
        filled = lengths > 0
        squares = np.add.reduceat(np.square(x.data, dtype=np.float64), x.indptr[:-1][filled])
        scale[filled] = 1.0 / np.sqrt(squares)
    return TfidfBlock(x, scale)


FeatureStep = tuple[CharNgramHasher, TfidfTransformer, list[str]]


def _feature_steps(model: Pipeline) -> list[FeatureStep] | None:
    """(hasher, tf-idf, columns) of each ColumnTransformer entry of our own pipeline shape; None
    for any other shape (scikit-learn's own transform is used then)."""
    features = model.named_steps.get("features")
    if not isinstance(features, ColumnTransformer):
        return None
    steps = []
    for _name, step, cols in features.transformers_:
        if isinstance(step, str) and step == "drop":
            continue
        parts = dict(step.steps) if isinstance(step, Pipeline) else {}
        if set(parts) != {"hash", "tfidf"} or not isinstance(parts["hash"], CharNgramHasher):
            return None
        if parts["tfidf"].norm not in ("l2", None):
            return None
        steps.append((parts["hash"], parts["tfidf"], list(cols)))
    return steps


def _feature_blocks(
    model: Pipeline, frame: Any, steps: list[FeatureStep] | None = None
) -> list[TfidfBlock] | None:
    """The tf-idf blocks of `steps` (all of our pipeline's by default), computed directly in
    float32; None for another pipeline shape. `frame` maps column names to texts (a DataFrame,
    or Arrow arrays); each column is decoded once for all the blocks that read it."""
    steps = _feature_steps(model) if steps is None else steps
    if steps is None:
        return None
    names = {c for _, _, cols in steps for c in cols}
    arrays = {
        c: _as_text_array(frame[c].tolist() if isinstance(frame[c], pd.Series) else frame[c]) for c in names
    }
    n = len(next(iter(arrays.values())))
    counts: list[list[sparse.csr_matrix]] = [[] for _ in steps]
    for start in range(0, n, HASH_BLOCK):
        codes = {c: ColumnCodes.of(a.slice(start, HASH_BLOCK)) for c, a in arrays.items()}
        for parts, (hasher, _, cols) in zip(counts, steps, strict=True):
            parts.append(hasher.hash_codes([codes[c] for c in cols], np.float32))
    blocks = []
    for parts, (hasher, tfidf, _) in zip(counts, steps, strict=True):
        if not parts:
            parts = [sparse.csr_matrix((0, 1 << hasher.n_bits), dtype=np.float32)]
        blocks.append(_fast_tfidf(parts[0] if len(parts) == 1 else sparse.vstack(parts, format="csr"), tfidf))
    return blocks


@dataclass(frozen=True)
class LinearScorer:
    """The calibrated linear classifiers of a model as one compact matrix product.

    Only features with a non-zero coefficient in some classifier matter to the decision values;
    they get consecutive rows of `coef` (float32, one column per classifier and class) and every
    other feature points at a final zero row. Probabilities then follow scikit-learn's
    CalibratedClassifierCV exactly: sigmoid per class, normalised per classifier, averaged.
    """

    lookup: np.ndarray  # (n_features,) int32: feature -> row of coef
    coef: np.ndarray  # (n_used + 1, n_members * n_classes) float32
    intercept: np.ndarray  # (n_members * n_classes,) float32
    a: np.ndarray  # sigmoid slope per column
    b: np.ndarray  # sigmoid offset per column
    classes: np.ndarray  # class index of each column
    members: tuple[tuple[int, int], ...]  # each classifier's columns (start, stop)
    n_classes: int

    @classmethod
    def of(cls, classifier: Any, n_features: int) -> LinearScorer | None:
        """The scorer of a fitted multiclass CalibratedClassifierCV over LinearSVC with sigmoid
        calibration; None for anything else (the caller then uses scikit-learn)."""
        if not isinstance(classifier, CalibratedClassifierCV) or len(classifier.classes_) < 3:
            return None
        coefs, intercepts, a, b, classes = [], [], [], [], []
        for member in classifier.calibrated_classifiers_:
            est = member.estimator
            if not isinstance(est, LinearSVC) or est.coef_.shape[1] != n_features:
                return None
            if not all(isinstance(c, _SigmoidCalibration) for c in member.calibrators):
                return None
            if est.coef_.shape[0] != len(est.classes_):
                return None
            coefs.append(est.coef_)
            intercepts.append(est.intercept_)
            a.extend(c.a_ for c in member.calibrators)
            b.extend(c.b_ for c in member.calibrators)
            classes.append(np.searchsorted(classifier.classes_, est.classes_))
        stacked = np.vstack(coefs)  # (columns, n_features)
        bounds = np.cumsum([0, *(len(c) for c in coefs)])
        used = np.flatnonzero(np.any(stacked != 0.0, axis=0))
        lookup = np.full(n_features, len(used), dtype=np.int32)
        lookup[used] = np.arange(len(used), dtype=np.int32)
        coef = np.zeros((len(used) + 1, stacked.shape[0]), dtype=np.float32)
        coef[:-1] = stacked[:, used].T
        return cls(
            lookup=lookup,
            coef=coef,
            intercept=np.concatenate(intercepts).astype(np.float32),
            a=np.array(a, dtype=np.float64),
            b=np.array(b, dtype=np.float64),
            classes=np.concatenate(classes),
            members=tuple(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)),
            n_classes=len(classifier.classes_),
        )

    def predict_proba(self, blocks: list[TfidfBlock]) -> np.ndarray:
        offsets = np.cumsum([0, *(b.matrix.shape[1] for b in blocks)])
        return self.calibrated(sum(self.partial(b, int(o)) for b, o in zip(blocks, offsets, strict=False)))

    def partial(self, block: TfidfBlock, offset: int) -> np.ndarray:
        """One block's share of the decision values (n, columns); the block's features start at
        `offset` of the model's feature space."""
        x = block.matrix
        rows = self.lookup[offset : offset + x.shape[1]][x.indices]
        compact = sparse.csr_matrix(
            (x.data.astype(np.float32, copy=False), rows, x.indptr), shape=(x.shape[0], self.coef.shape[0])
        )
        return (compact @ self.coef) * block.scale[:, None]

    def calibrated(self, shares: np.ndarray) -> np.ndarray:
        """Class probabilities from the summed block shares of the decision values."""
        decision = shares + self.intercept
        n = len(decision)
        p = expit(-(decision * self.a + self.b))
        k = self.n_classes
        total = np.zeros((n, k))
        for start, stop in self.members:
            proba = np.zeros((n, k))
            proba[:, self.classes[start:stop]] = p[:, start:stop]
            denominator = proba.sum(axis=1, keepdims=True)
            proba = np.divide(proba, denominator, out=np.full_like(proba, 1 / k), where=denominator != 0)
            proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
            total += proba
        return total / len(self.members)


_scorers: weakref.WeakKeyDictionary[Pipeline, LinearScorer | None] = weakref.WeakKeyDictionary()


def _scorer(model: Pipeline, steps: list[FeatureStep]) -> LinearScorer | None:
    if model not in _scorers:
        _scorers[model] = LinearScorer.of(model.steps[-1][1], sum(1 << h.n_bits for h, _, _ in steps))
    return _scorers[model]


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


# whitespace the hasher drops anyway: texts that differ only here get the same prediction
_NORMALISE_SQL = "regexp_replace(coalesce({col}, ''), '[\\t\\n\\x0b\\x0c\\r \u00a0\u3000]+', '', 'g')"


def predict_missing(
    con: duckdb.DuckDBPyConnection, batch_id: int | None = None, user: str | None = None
) -> int:
    """Fill category (category_source 'predicted', category_confidence) for tickets without one,
    optionally only those of one batch. Returns the number of tickets filled.

    Exports repeat the same texts many times, so each distinct text (whitespace removed, which
    the features ignore) is predicted once and the result joined back inside DuckDB; the rows
    are addressed by rowid, so nothing but the distinct texts and their predictions crosses
    into Python. One transaction: the tickets read are exactly the tickets written.
    """
    model = load_model(con)
    title, content = _NORMALISE_SQL.format(col="title"), _NORMALISE_SQL.format(col="content")
    with transaction(con) as cur:
        cur.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _predict_todo AS
            SELECT rowid AS row_id, {title} AS title, {content} AS content FROM tickets
            WHERE (category IS NULL OR trim(category) = '') AND (? IS NULL OR batch_id = ?)
            """,  # noqa: S608 - fixed SQL fragments
            [batch_id, batch_id],
        )
        n = int(cur.execute("SELECT count(*) FROM _predict_todo").fetchone()[0])
        if n == 0:
            cur.execute("DROP TABLE _predict_todo")
            return 0
        texts = cur.execute("SELECT DISTINCT title, content FROM _predict_todo").fetch_arrow_table()
        category, confidence = predicted_columns(model, texts["title"], texts["content"])
        cur.register(
            "_predicted_texts",
            texts.append_column("category", category).append_column("confidence", confidence),
        )
        cur.execute(
            """
            UPDATE tickets SET category = p.category, category_source = 'predicted',
                category_confidence = p.confidence
            FROM (SELECT d.row_id, t.category, t.confidence
                  FROM _predict_todo d JOIN _predicted_texts t USING (title, content)) p
            WHERE tickets.rowid = p.row_id
            """
        )
        cur.unregister("_predicted_texts")
        cur.execute("DROP TABLE _predict_todo")
        audit(
            cur,
            user,
            "predict_categories",
            {"tickets": n, "distinct_texts": texts.num_rows, "batch_id": batch_id},
        )
    return n


def review_queue(
    con: duckdb.DuckDBPyConnection, threshold: float = LOW_CONFIDENCE, limit: int = 200
) -> pd.DataFrame:
    """Predicted categories the model was least sure of, least sure first (text masked)."""
    return query_df(
        con,
        f"""
        SELECT ticket_id, created_at, {privacy.sql_mask_personal("title")} AS title,
               {privacy.sql_mask_personal("content")} AS content, category, category_confidence
        FROM tickets
        WHERE category_source = 'predicted' AND category_confidence < ?
        ORDER BY category_confidence, ticket_id
        LIMIT ?
        """,  # noqa: S608 - the masking expression is built from constants
        [float(threshold), int(limit)],
    )


def set_ticket_category(
    con: duckdb.DuckDBPyConnection, ticket_id: str, category: str, user: str | None = None
) -> None:
    """An analyst's correction: the ticket's category becomes `category` (source 'given')."""
    category = str(category).strip()
    if not category:
        raise ValidationError("分类不能为空。", "The category must not be empty.")
    if not query_one(con, "SELECT count(*) FROM tickets WHERE ticket_id = ?", [ticket_id]):
        raise NotFound(f"工单 {ticket_id} 不存在。", f"Ticket {ticket_id} does not exist.")
    with transaction(con) as cur:
        old = cur.execute(
            "SELECT category, category_source FROM tickets WHERE ticket_id = ?", [ticket_id]
        ).fetchone()
        cur.execute(
            "UPDATE tickets SET category = ?, category_source = 'given', category_confidence = NULL WHERE ticket_id = ?",
            [category, ticket_id],
        )
        audit(
            cur, user, "set_ticket_category", {"ticket_id": ticket_id, "category": category, "was": list(old)}
        )
