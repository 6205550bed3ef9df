-- Version 8: registry changes with effective dates (rename, split, merge).
--
-- A compound is valid on day d when (valid_from IS NULL OR valid_from <= d) AND (valid_to IS NULL
-- OR d < valid_to): NULL is unbounded, so every compound stored before this version is valid
-- always. Both columns are derived from compound_changes (analytics.ingest.registry.changes):
-- a predecessor that does not continue ends on the change date, a successor that was not itself
-- a predecessor starts on it.
ALTER TABLE compounds ADD COLUMN IF NOT EXISTS valid_from DATE;
ALTER TABLE compounds ADD COLUMN IF NOT EXISTS valid_to DATE;

-- An alias's period (no row, or NULL, = always): a compound renamed in place keeps its former
-- name as an alias (source 'former') valid until the change date. A table beside
-- compound_aliases rather than two more columns of it: code and data files that insert aliases
-- positionally (alias, compound_id, source) keep working.
CREATE TABLE IF NOT EXISTS compound_alias_periods (
    alias VARCHAR NOT NULL,
    compound_id VARCHAR NOT NULL,
    valid_from DATE,
    valid_to DATE,
    change_id INTEGER,              -- the change that made the name former
    PRIMARY KEY (alias, compound_id)
);

-- One row per (change, predecessor, successor): a rename has one row, a split one per successor,
-- a merge one per predecessor. A compound on both sides of a change continues through it (a
-- rename in place, a merge into an existing compound). Names are as they were at the change.
CREATE TABLE IF NOT EXISTS compound_changes (
    change_id INTEGER NOT NULL,
    kind VARCHAR NOT NULL,          -- rename / split / merge
    change_date DATE NOT NULL,      -- first day under the successor(s)
    from_compound VARCHAR NOT NULL,
    to_compound VARCHAR NOT NULL,
    from_name VARCHAR,
    to_name VARCHAR,
    batch_id INTEGER,               -- the registry import that stated it (NULL: recorded directly)
    recorded_at TIMESTAMP NOT NULL,
    "user" VARCHAR,
    PRIMARY KEY (change_id, from_compound, to_compound)
);

-- The stored tickets a change moved (ticket, compound before, compound after), so undoing the
-- change puts them back.
CREATE TABLE IF NOT EXISTS compound_change_moves (
    change_id INTEGER NOT NULL,
    ticket_id VARCHAR NOT NULL,
    from_compound VARCHAR,
    to_compound VARCHAR
);

-- An analyst's answer for an address whose tickets a split left on the predecessor ("split,
-- successor unknown"): from the split's date on, that address belongs to this successor.
CREATE TABLE IF NOT EXISTS split_settlements (
    change_id INTEGER NOT NULL,
    address VARCHAR NOT NULL,
    compound_id VARCHAR NOT NULL,
    "user" VARCHAR,
    settled_at TIMESTAMP NOT NULL,
    PRIMARY KEY (change_id, address)
);
