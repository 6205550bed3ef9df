"""The model's features: hashed character n-gram counts and their tf-idf blocks.

The hashing featuriser is vectorised over whole batches: each column's Arrow UTF-8 buffer is
decoded at once, numpy works over code points, and one SIMD sort of 32-bit (row, n-gram) keys
builds the sparse matrix. For prediction, the tf-idf blocks of a fitted model are computed
directly in float32 and left unnormalised, with a scale per row (`TfidfBlock`).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.pipeline import Pipeline

MAX_TEXT_CHARS = 400  # title + content beyond this adds little and costs time
# 2^19 / 2^17 buckets: collisions cost little accuracy, while a larger space slows the fit
N_HASH_BITS = 19
TITLE_HASH_BITS = 17


HASH_BLOCK = 4_000  # texts per hashing block: the working arrays stay in cache


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

    Like HashingVectorizer(analyzer='char', alternate_sign=False, norm=None), but much
    faster on large batches: each column's values are decoded in one go from Arrow's
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
