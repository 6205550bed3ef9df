-- Version 1 of the store. (`at` is a reserved word in DuckDB, so time columns are *_at.) Later versions live in analytics/migrations/NNN_*.sql and are
-- applied in order by analytics.db.migrate(); never edit a released version in place.

CREATE SEQUENCE IF NOT EXISTS seq_batch START 1;
CREATE SEQUENCE IF NOT EXISTS seq_snapshot START 1;
CREATE SEQUENCE IF NOT EXISTS seq_taskforce START 1;
CREATE SEQUENCE IF NOT EXISTS seq_action START 1;
CREATE SEQUENCE IF NOT EXISTS seq_model START 1;

-- key/value settings: caller_salt (created once), demo ('1' for the demo district), ...
CREATE TABLE IF NOT EXISTS settings (
    key VARCHAR PRIMARY KEY,
    value VARCHAR
);

CREATE TABLE IF NOT EXISTS subdistricts (
    subdistrict VARCHAR PRIMARY KEY
);

-- community -> subdistrict tree: a community belongs to exactly one subdistrict
CREATE TABLE IF NOT EXISTS communities (
    community VARCHAR PRIMARY KEY,
    subdistrict VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS compounds (
    compound_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    community VARCHAR,
    subdistrict VARCHAR,
    type VARCHAR,               -- 商开 / 还建 / 家属院 / 混合
    is_old BOOLEAN,
    built_year INTEGER,
    households INTEGER,
    property_company VARCHAR,
    lat DOUBLE,
    lon DOUBLE,
    valid_from DATE,            -- NULL: always (derived from compound_changes, version 8)
    valid_to DATE               -- first day no longer valid; NULL: still valid
);

-- Aliases are rows, not a delimited column: imports, analysts' confirmed matches and the
-- matcher all read and write the same table. source: registry / confirmed / demo
CREATE TABLE IF NOT EXISTS compound_aliases (
    alias VARCHAR NOT NULL,
    compound_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL DEFAULT 'registry',
    PRIMARY KEY (alias, compound_id)
);

-- half-year party-branch star ratings; period like '2023H1'
CREATE TABLE IF NOT EXISTS compound_ratings (
    compound_id VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    stars INTEGER NOT NULL,
    PRIMARY KEY (compound_id, period)
);

-- quarterly property-company evaluation; quarter like '2023Q3'; list: 红榜 / 黑榜 / NULL
CREATE TABLE IF NOT EXISTS property_evaluations (
    company VARCHAR NOT NULL,
    quarter VARCHAR NOT NULL,
    score DOUBLE,
    list VARCHAR,
    PRIMARY KEY (company, quarter)
);

-- ticket_id is unique without an index: an upload classifies every row against the stored ids
-- inside its write transaction (new / changed / unchanged) and keeps the last of a file's
-- repeats, as on a DuckLake, which has no keys. An index on it would cost an upload of a million
-- rows close to a second, a third of its write (built row by row, serialised at each commit), and
-- hold every id in memory, while no query uses it: DuckDB joins and filters by scanning
-- (migration 010 drops it from older stores).
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    due_at TIMESTAMP,
    title VARCHAR,
    content VARCHAR,
    category VARCHAR,            -- district taxonomy (categories.TAXONOMY)
    category_raw VARCHAR,        -- as it came in the upload
    category_source VARCHAR,     -- given / predicted / NULL
    category_confidence DOUBLE,
    address VARCHAR,
    compound_id VARCHAR,
    match_score DOUBLE,
    match_method VARCHAR,        -- id / name / alias / substring / fuzzy / confirmed / NULL
    caller_hash VARCHAR,         -- salted sha256 of the normalised phone number
    satisfaction VARCHAR,        -- normalised label: 满意 / 基本满意 / 不满意 / raw text
    satisfied BOOLEAN,           -- derived from satisfaction; NULL when not asked
    resolved BOOLEAN,
    status VARCHAR,
    handling_unit VARCHAR,
    is_valid BOOLEAN NOT NULL DEFAULT TRUE,
    reopened BOOLEAN NOT NULL DEFAULT FALSE,
    batch_id INTEGER NOT NULL,   -- batch that inserted the ticket
    updated_batch_id INTEGER     -- last batch that changed it (NULL if never updated)
);

-- The version a batch replaced, so `tickets undo` can restore it. Same columns as tickets.
CREATE TABLE IF NOT EXISTS ticket_history (
    replaced_by_batch INTEGER NOT NULL,
    ticket_id VARCHAR NOT NULL,
    created_at TIMESTAMP,
    closed_at TIMESTAMP,
    due_at TIMESTAMP,
    title VARCHAR,
    content VARCHAR,
    category VARCHAR,
    category_raw VARCHAR,
    category_source VARCHAR,
    category_confidence DOUBLE,
    address VARCHAR,
    compound_id VARCHAR,
    match_score DOUBLE,
    match_method VARCHAR,
    caller_hash VARCHAR,
    satisfaction VARCHAR,
    satisfied BOOLEAN,
    resolved BOOLEAN,
    status VARCHAR,
    handling_unit VARCHAR,
    is_valid BOOLEAN,
    reopened BOOLEAN,
    batch_id INTEGER,
    updated_batch_id INTEGER
);

CREATE TABLE IF NOT EXISTS ingest_batches (
    batch_id INTEGER PRIMARY KEY,
    kind VARCHAR NOT NULL DEFAULT 'tickets',   -- tickets / compounds / taskforces / demo
    file_name VARCHAR,
    sha256 VARCHAR,
    "user" VARCHAR,
    loaded_at TIMESTAMP NOT NULL,
    rows_read BIGINT,
    inserted BIGINT,
    updated BIGINT,
    duplicates BIGINT,
    rejected BIGINT,
    unmatched BIGINT,
    mapping VARCHAR,             -- JSON: canonical field -> source header
    encoding VARCHAR,
    sheet VARCHAR,
    status VARCHAR NOT NULL DEFAULT 'committed'  -- committed / undone
);

CREATE TABLE IF NOT EXISTS rejected_rows (
    batch_id INTEGER NOT NULL,
    row_number BIGINT NOT NULL,   -- 1-based data row in the file (header excluded)
    reason VARCHAR NOT NULL,      -- Chinese reason code text, e.g. 缺少工单编号
    raw VARCHAR                   -- JSON object of the row as read (phone numbers masked)
);

-- named header mappings an analyst saved once
CREATE TABLE IF NOT EXISTS mapping_profiles (
    name VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL DEFAULT 'tickets',
    mapping VARCHAR NOT NULL,     -- JSON
    created_by VARCHAR,
    created_at TIMESTAMP
);

-- distinct free-text address -> compound, matched once; the review queue lives here too
-- one row per address without an index, as for tickets: every write de-duplicates (MERGE, or an
-- insert of the addresses not cached yet, under the store's write lock)
CREATE TABLE IF NOT EXISTS address_matches (
    address VARCHAR NOT NULL,
    compound_id VARCHAR,
    match_score DOUBLE,
    match_method VARCHAR,
    status VARCHAR NOT NULL,      -- auto / review / confirmed / rejected / unmatched
    candidates VARCHAR,           -- JSON list of {compound_id, name, score}
    reviewed_by VARCHAR,
    reviewed_at TIMESTAMP
);

-- upload category label -> district taxonomy
CREATE TABLE IF NOT EXISTS category_map (
    source_category VARCHAR PRIMARY KEY,
    category VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS category_models (
    model_id INTEGER PRIMARY KEY,
    trained_at TIMESTAMP NOT NULL,
    n_train BIGINT,
    scores VARCHAR,               -- JSON of the cross-validated evaluation
    model BLOB NOT NULL           -- pickled scikit-learn pipeline
);

-- The centre's category scheme, replaced as a whole on each load (version 9,
-- migrations/009_category_scheme.sql): one row per third-level category, NULL where a row has no
-- second or third level. The category model takes its names as label priors.
CREATE TABLE IF NOT EXISTS category_scheme (
    level_1 VARCHAR NOT NULL,
    level_2 VARCHAR,
    level_3 VARCHAR,
    loaded_at TIMESTAMP NOT NULL,
    "user" VARCHAR
);

CREATE TABLE IF NOT EXISTS ranking_snapshots (
    snapshot_id INTEGER PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    window_start DATE NOT NULL,
    window_end DATE NOT NULL,
    params VARCHAR,               -- JSON: weights, min_count, top, ...
    "user" VARCHAR,
    note VARCHAR
);

CREATE TABLE IF NOT EXISTS ranking_rows (
    snapshot_id INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    compound_id VARCHAR NOT NULL,
    score DOUBLE,
    tickets BIGINT,
    rate_per_100_households DOUBLE,
    rank_low INTEGER,
    rank_high INTEGER,
    p_top DOUBLE,
    components VARCHAR,           -- JSON of component values
    PRIMARY KEY (snapshot_id, compound_id)
);

CREATE TABLE IF NOT EXISTS task_forces (
    taskforce_id INTEGER PRIMARY KEY,
    compound_id VARCHAR NOT NULL,
    leader VARCHAR,               -- 包保领导
    head VARCHAR,                 -- 专班组长 (a username when the head has an account)
    start_date DATE NOT NULL,     -- 进驻日期
    end_date DATE,                -- 撤出日期
    status VARCHAR NOT NULL DEFAULT '进驻',   -- 进驻 / 整改中 / 已转化 / 撤出
    snapshot_id INTEGER,
    selection_start DATE,         -- the ranking window the compound was chosen from
    selection_end DATE,
    target_monthly DOUBLE,        -- exit rule: monthly tickets must stay below this ...
    exit_months INTEGER           -- ... for this many consecutive months
);

CREATE TABLE IF NOT EXISTS taskforce_actions (
    action_id INTEGER PRIMARY KEY,
    taskforce_id INTEGER NOT NULL,
    date DATE NOT NULL,
    action VARCHAR NOT NULL,
    cost DOUBLE,
    "user" VARCHAR,
    logged_at TIMESTAMP
);

CREATE TABLE IF NOT EXISTS users (
    username VARCHAR PRIMARY KEY,
    password_hash VARCHAR NOT NULL,
    role VARCHAR NOT NULL,        -- leader / analyst / taskforce / admin
    compound_scope VARCHAR,       -- comma-separated compound ids for role taskforce
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    created_at TIMESTAMP
);

CREATE TABLE IF NOT EXISTS audit_log (
    logged_at TIMESTAMP NOT NULL,
    "user" VARCHAR,
    action VARCHAR NOT NULL,
    detail VARCHAR
);

-- Registry changes with effective dates (version 8, migrations/008_registry_changes.sql)
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
