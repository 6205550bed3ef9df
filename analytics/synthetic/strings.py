"""Arrow string columns for vectorised ticket text: pick from a pool, join, choose, mask."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NULL_STRING = pa.scalar(None, pa.string())


def pool(values, idx: np.ndarray) -> pa.Array:
    """values[idx] as an Arrow string array."""
    return pa.array(list(values), pa.string()).take(pa.array(idx))


def join(*parts) -> pa.Array:
    """Element-wise concatenation of Arrow string arrays and plain strings."""
    return pc.binary_join_element_wise(*parts, "")


def digits(values: np.ndarray) -> pa.Array:
    return pa.array(values).cast(pa.string())


def choose(kind: np.ndarray, options: list[pa.Array]) -> pa.Array:
    return pc.choose(pa.array(kind.astype(np.int8)), *options)


def where(mask: np.ndarray, a, b) -> pa.Array:
    return pc.if_else(pa.array(mask), a, b)
