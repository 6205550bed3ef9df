-- Version 6: the compound registry's history, and where a ticket file's header sat.
--
-- registry_versions: one row per change of a compound (an edit on the upload page or a registry
-- file import), numbered per compound, with who, when and each changed field as [old, new]; the
-- audit log says the same in one line, this table is what the compound's history view reads.
CREATE TABLE IF NOT EXISTS registry_versions (
    compound_id VARCHAR NOT NULL,
    version INTEGER NOT NULL,       -- 1, 2, ... per compound
    changed_at TIMESTAMP NOT NULL,
    "user" VARCHAR,
    source VARCHAR NOT NULL,        -- edit / import
    batch_id INTEGER,               -- the registry import that made the change (source import)
    changes VARCHAR NOT NULL,       -- JSON: {field: [old, new]}
    PRIMARY KEY (compound_id, version)
);

-- The header's row in the uploaded file (1 when it is the first): rejected_rows.row_number counts
-- data rows, and header_row + row_number is the row the analyst sees in Excel. NULL for older
-- batches, which read as a header in the first row.
ALTER TABLE ingest_batches ADD COLUMN IF NOT EXISTS header_row INTEGER;
