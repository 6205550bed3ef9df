-- Version 2: a derived, rebuildable summary table read by trends, surges and ranking.
-- Derived, rebuildable summary of tickets per (compound, month, category): analytics.summaries.
-- Read only while the settings key summary_version matches the tickets' fingerprint.
CREATE TABLE IF NOT EXISTS compound_month (
    compound_id VARCHAR, month TIMESTAMP, category VARCHAR,
    tickets BIGINT, valid BIGINT, n_response BIGINT, responded BIGINT, n_resolution BIGINT,
    resolved BIGINT, unresolved BIGINT, n_satisfaction BIGINT, satisfied BIGINT,
    unsatisfied BIGINT, n_on_time BIGINT, on_time BIGINT, reopened BIGINT, n_caller BIGINT,
    repeats BIGINT
);
