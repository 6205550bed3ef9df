"""The candidate index: every name and alias of the registry parsed once, a character 1-2-gram
TF-IDF matrix over their cores, and the nearest keys of a batch of address cores (one sparse
matrix product per chunk of addresses).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from analytics.ingest.matching.normalise import AdminNames, parse_address
from analytics.store.db import query_df

# candidates per address from the TF-IDF stage, and candidates kept for review
N_NEIGHBOURS = 10
N_REVIEW_CANDIDATES = 3
# addresses per sparse product (memory: chunk x registry keys dense floats)
CHUNK = 4096


@dataclass
class Registry:
    """Every name and alias of the registry, parsed once, with the TF-IDF index over them."""

    keys: pd.DataFrame  # compound_id, text, kind, core, stem, generic, phase, sub_code, com_code
    compound_names: dict[str, str]
    admin: AdminNames
    sub_codes: dict[str, int]
    com_codes: dict[str, int]
    vectorizer: TfidfVectorizer | None
    matrix: object  # sparse (n_keys x n_features), L2-normalised rows


def _code(values: Iterable[str | None], codes: dict[str, int]) -> np.ndarray:
    return np.array([codes.get(v, -1) if v else -1 for v in values], dtype=np.int64)


def load_registry(con: duckdb.DuckDBPyConnection) -> Registry:
    compounds = query_df(con, "SELECT compound_id, name, community, subdistrict FROM compounds")
    aliases = query_df(con, "SELECT compound_id, alias FROM compound_aliases")
    admin_sub = query_df(
        con, "SELECT subdistrict FROM subdistricts UNION SELECT subdistrict FROM communities"
    )["subdistrict"]
    admin_com = query_df(con, "SELECT community FROM communities")["community"]
    subdistricts = sorted({*compounds["subdistrict"].dropna(), *admin_sub.dropna()})
    communities = sorted({*compounds["community"].dropna(), *admin_com.dropna()})
    admin = AdminNames(subdistricts, communities)
    sub_codes = {name: i for i, name in enumerate(subdistricts)}
    com_codes = {name: i for i, name in enumerate(communities)}
    keys = pd.concat(
        [
            compounds[["compound_id", "name"]].rename(columns={"name": "text"}).assign(kind="name"),
            aliases.rename(columns={"alias": "text"}).assign(kind="alias"),
        ],
        ignore_index=True,
    )
    keys = keys[keys["text"].notna()].drop_duplicates(["compound_id", "text"]).reset_index(drop=True)
    # registry names are parsed without admin stripping by known names: a compound may be called
    # after its community
    parsed = [parse_address(t) for t in keys["text"]]
    keys["core"] = [p.core for p in parsed]
    keys["stem"] = [p.stem for p in parsed]
    keys["generic"] = [p.generic for p in parsed]
    keys["phase"] = np.array([p.phase for p in parsed], dtype=np.int64)
    info = compounds.set_index("compound_id")
    keys["sub_code"] = _code(keys["compound_id"].map(info["subdistrict"]), sub_codes)
    keys["com_code"] = _code(keys["compound_id"].map(info["community"]), com_codes)
    keys = keys[keys["core"].str.len() > 0].reset_index(drop=True)
    vectorizer, matrix = None, None
    if len(keys):
        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True, lowercase=False)
        matrix = vectorizer.fit_transform(keys["core"])
    return Registry(
        keys=keys,
        compound_names=dict(zip(compounds["compound_id"], compounds["name"], strict=True)),
        admin=admin,
        sub_codes=sub_codes,
        com_codes=com_codes,
        vectorizer=vectorizer,
        matrix=matrix,
    )


def _neighbours(reg: Registry, cores: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(address index, key index) pairs: the N_NEIGHBOURS nearest keys by TF-IDF cosine."""
    n_keys = len(reg.keys)
    k = min(N_NEIGHBOURS, n_keys)
    rows, cols = [], []
    matrix_t = reg.matrix.T.tocsc()  # type: ignore[union-attr]
    for start in range(0, len(cores), CHUNK):
        block = reg.vectorizer.transform(cores[start : start + CHUNK])  # type: ignore[union-attr]
        sims = (block @ matrix_t).toarray()
        if k < n_keys:
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        else:
            top = np.tile(np.arange(n_keys), (len(sims), 1))
        hit = np.take_along_axis(sims, top, axis=1) > 0
        r = np.repeat(np.arange(start, start + len(sims)), k).reshape(len(sims), k)
        rows.append(r[hit])
        cols.append(top[hit])
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(rows), np.concatenate(cols)
