"""Label priors: short pseudo-tickets that describe what a category covers, added to the
training data of every label they name.

A few hundred labelled tickets never cover all the sub-topics of a broad category; tickets that
arrive later raise sub-topics the labelled ones never mention (on the Teddy Cup 2020 sample, a
model trained on the earliest 70% of the messages by date loses several points of macro-F1 on
the latest 30% against a random split). A classification scheme names those sub-topics, and its
names are cheap, label-free evidence of what each category covers.

Sources of priors, matched to a training label by exact name:

- a category scheme (`Scheme`): the centre's own three-level classification (一级分类 /
  二级分类 / 三级分类), one (level_1, level_2, level_3) row per third-level category, '' for a
  level the row does not have. The analyst loads it from a file (`scheme.load_scheme`); nothing
  of any scheme is part of the code. A first-level label gets one pseudo-ticket per row below
  it (title: the third-level name, or the second-level name where the third is 其他 or absent;
  content: second-level name + third-level name, each left out where it is 其他 or absent); a
  second-level label that occurs under exactly one first-level category gets those of its own
  subtree. A subtree whose second-level name is itself a training label is left to that label.
  Rows without a second level, and rows that are 其他 at both lower levels, say nothing and give
  none. The rows are de-duplicated and sorted first, so the model does not depend on the order
  of the file.
- the district taxonomy (`taxonomy.TAXONOMY`): each synonym and keyword of a category is one
  pseudo-ticket (title and content the word) of that category.

Labels that name nothing here get no priors, so the model is unchanged for labels no scheme
knows. Pseudo-tickets are only ever training data: evaluation never scores them.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from analytics.ingest.categories.taxonomy import TAXONOMY

OTHER = "其他"
LEVELS = ("level_1", "level_2", "level_3")

# (level_1, level_2, level_3) per row of a category scheme; '' where the row has no such level
Scheme = tuple[tuple[str, str, str], ...]


def as_scheme(rows: Iterable[Iterable[object]]) -> Scheme:
    """Rows of three names (None / NaN -> '') as a de-duplicated, sorted `Scheme`."""
    out = set()
    for row in rows:
        names = tuple("" if v is None or v != v else str(v).strip() for v in row)
        if len(names) != len(LEVELS):
            raise ValueError(f"a scheme row has {len(LEVELS)} levels, not {len(names)}: {names}")
        out.add(names)
    return tuple(sorted(out))


def _scheme_frame(scheme: Scheme) -> pd.DataFrame:
    return pd.DataFrame(list(as_scheme(scheme)), columns=list(LEVELS), dtype=object)


def _pseudo_tickets(rows: pd.DataFrame) -> pd.DataFrame:
    """title and content of the pseudo-ticket of each scheme row (rows that name nothing below
    the first level dropped)."""
    level2 = rows["level_2"].where(rows["level_2"] != OTHER, "")
    leaf_other = rows["level_3"].isin([OTHER, ""])
    level3 = rows["level_3"].where(~leaf_other, "")
    named = (rows["level_2"] != "") & ((level2 != "") | (level3 != ""))
    title = level3.where(~leaf_other, level2)[named]
    content = (level2 + level3)[named]
    return pd.DataFrame({"title": title.to_numpy(), "content": content.to_numpy()})


def _subtrees(rows: pd.DataFrame, labels: set[str]) -> dict[str, pd.DataFrame]:
    """The scheme rows each label gets its priors from (labels the scheme does not name: none)."""
    parents = rows[rows["level_2"] != ""].groupby("level_2")["level_1"].nunique()
    single_parent = set(parents[parents == 1].index) - {OTHER}
    first_level = set(rows["level_1"])
    out = {}
    for label in sorted(labels):
        if label in first_level:
            out[label] = rows[(rows["level_1"] == label) & ~rows["level_2"].isin(labels)]
        elif label in single_parent:
            out[label] = rows[rows["level_2"] == label]
    return out


def _scheme_priors(labels: set[str], scheme: Scheme) -> list[pd.DataFrame]:
    if not scheme:
        return []
    frames = [
        _pseudo_tickets(rows).assign(label=label)
        for label, rows in _subtrees(_scheme_frame(scheme), labels).items()
    ]
    return [f for f in frames if not f.empty]


def scheme_labels(labels: Iterable[object], scheme: Scheme) -> list[str]:
    """The labels among `labels` that get pseudo-tickets from `scheme` (sorted)."""
    names = {str(label) for label in labels}
    return sorted({str(f["label"].iloc[0]) for f in _scheme_priors(names, scheme)})


def _taxonomy_priors(labels: set[str]) -> list[pd.DataFrame]:
    frames = []
    for category in TAXONOMY:
        if category.name in labels:
            words = list(dict.fromkeys((*category.synonyms, *category.keywords)))
            frames.append(pd.DataFrame({"title": words, "content": words, "label": category.name}))
    return frames


def prior_tickets(labels: Iterable[object], scheme: Scheme = ()) -> pd.DataFrame:
    """Pseudo-tickets (columns title, content, label) for the labels among `labels` that the
    scheme or the district taxonomy names; empty (same columns) when none does."""
    names = {str(label) for label in labels}
    frames = _scheme_priors(names, scheme) + _taxonomy_priors(names)
    if not frames:
        return pd.DataFrame({"title": [], "content": [], "label": []}, dtype=object)
    return pd.concat(frames, ignore_index=True)
