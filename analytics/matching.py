"""Free-text address -> compound.

Public interface used by ingestion (keep these signatures):

- `lookup_compounds(con, values)`: an explicit compound column (id, exact name or alias).
- `match_addresses(con, addresses)`: each distinct address matched once against the registry.

Both return one row per distinct input value with columns
`value|address, compound_id, match_score, match_method`.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pandas as pd

from analytics.db import query_df


def _registry_names(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """compound_id, name, kind ('name' / 'alias') for every name and alias in the registry."""
    return query_df(
        con,
        """
        SELECT compound_id, name, 'name' AS kind FROM compounds
        UNION ALL
        SELECT compound_id, alias AS name, 'alias' AS kind FROM compound_aliases
        """,
    )


def lookup_compounds(con: duckdb.DuckDBPyConnection, values: Iterable[str]) -> pd.DataFrame:
    """Explicit compound values -> compound_id by id, then exact name, then exact alias.

    A name shared by two compounds is ambiguous and left unmatched.
    """
    distinct = sorted({str(v).strip() for v in values if v is not None and str(v).strip()})
    out = pd.DataFrame({"value": distinct})
    if out.empty:
        return out.assign(compound_id=None, match_score=None, match_method=None)
    ids = set(query_df(con, "SELECT compound_id FROM compounds")["compound_id"])
    names = _registry_names(con)
    unique_names = names.drop_duplicates(["name", "compound_id"])
    counts = unique_names.groupby("name")["compound_id"].nunique()
    unambiguous = unique_names[unique_names["name"].map(counts) == 1].set_index("name")
    rows = []
    for value in distinct:
        if value in ids:
            rows.append((value, value, 1.0, "id"))
        elif value in unambiguous.index:
            hit = unambiguous.loc[value]
            rows.append((value, hit["compound_id"], 1.0, str(hit["kind"])))
        else:
            rows.append((value, None, None, None))
    return pd.DataFrame(rows, columns=["value", "compound_id", "match_score", "match_method"])


def match_addresses(con: duckdb.DuckDBPyConnection, addresses: Iterable[str]) -> pd.DataFrame:
    """Distinct addresses -> compound by the longest registry name or alias they contain.

    Unmatched addresses come back with compound_id None. Ties between different compounds on the
    same longest name are left unmatched rather than guessed.
    """
    distinct = sorted({str(a).strip() for a in addresses if a is not None and str(a).strip()})
    names = _registry_names(con).drop_duplicates(["name", "compound_id"])
    names = names[names["name"].str.len() >= 2]
    names = names.assign(length=names["name"].str.len()).sort_values("length", ascending=False)
    pairs = list(names[["name", "compound_id"]].itertuples(index=False, name=None))
    rows = []
    for address in distinct:
        best_len, best = 0, set()
        for name, compound_id in pairs:
            if len(name) < best_len:
                break
            if name in address:
                best_len = len(name)
                best.add(compound_id)
        if len(best) == 1:
            rows.append((address, best.pop(), 1.0, "substring"))
        else:
            rows.append((address, None, None, None))
    return pd.DataFrame(rows, columns=["address", "compound_id", "match_score", "match_method"])
