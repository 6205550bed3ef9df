-- Version 9: the centre's category scheme (一级分类 / 二级分类 / 三级分类), loaded from the
-- analyst's file and replaced as a whole on each load (analytics.ingest.categories.scheme). The
-- category model takes its names as label priors. One row per third-level category; a row
-- without a second or third level has NULL there.
CREATE TABLE IF NOT EXISTS category_scheme (
    level_1 VARCHAR NOT NULL,
    level_2 VARCHAR,
    level_3 VARCHAR,
    loaded_at TIMESTAMP NOT NULL,
    "user" VARCHAR
);
