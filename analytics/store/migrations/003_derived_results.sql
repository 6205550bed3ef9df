-- Version 3: stored derived results (analytics.results), e.g. the effects model's output.
-- Rebuildable: a row is read only while its version equals results.store_version() of the
-- store now; backups skip the table and a restore empties it.
CREATE TABLE IF NOT EXISTS derived_results (
    name VARCHAR NOT NULL,        -- what was computed, e.g. 'effects'
    args VARCHAR NOT NULL,        -- its arguments as canonical JSON
    version VARCHAR NOT NULL,     -- the store fingerprint it was computed from
    payload VARCHAR NOT NULL,     -- the result as JSON (never pickle: a store can come from files)
    built_at TIMESTAMP NOT NULL,
    seconds DOUBLE,               -- how long the computation took
    PRIMARY KEY (name, args)
);
