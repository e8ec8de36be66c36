-- 001_core: the core tables of the warehouse (docs/ARCHITECTURE.md, "Core tables").
-- Timestamps are TIMESTAMP in UTC (naive), so that any DuckDB client reads them the same way.
-- No foreign keys and no secondary indexes: DuckDB restricts updates of indexed/referenced rows, and
-- clustering updates deal_events.deal_id; zone maps make the scans fast enough.

-- One row per pipeline run (nightly run, demo, re-extraction). stats: the run's summary counters.
CREATE TABLE IF NOT EXISTS runs (
    run_id      VARCHAR PRIMARY KEY,
    kind        VARCHAR NOT NULL,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    status      VARCHAR NOT NULL DEFAULT 'running',   -- running | ok | partial | failed
    stats       JSON
);

-- Conditional-GET validators and the health of each feed.
CREATE TABLE IF NOT EXISTS feed_state (
    feed_url        VARCHAR PRIMARY KEY,
    feed_name       VARCHAR,
    etag            VARCHAR,
    last_modified   VARCHAR,
    last_status     VARCHAR,                            -- fetched | not_modified | failed
    last_error      VARCHAR,
    last_fetched_at TIMESTAMP,
    last_ok_at      TIMESTAMP
);

-- One row per canonical article URL, including skipped ones (skip_reason says why) so they are not refetched.
CREATE TABLE IF NOT EXISTS articles (
    url          VARCHAR PRIMARY KEY,
    final_url    VARCHAR,
    site         VARCHAR,
    feed_name    VARCHAR,
    feed_url     VARCHAR,
    title        VARCHAR,
    author       VARCHAR,
    published_at TIMESTAMP,
    fetched_at   TIMESTAMP,
    language     VARCHAR,
    extraction   VARCHAR,                               -- page | feed | none
    skip_reason  VARCHAR,
    text         VARCHAR,
    run_id       VARCHAR,
    extractor_version VARCHAR                           -- version that extracted its events (NULL: not extracted)
);

-- One row per deal event found in an article (a mention of a deal). deal_id links it to its deal once
-- clustered; merge_reason says why it joined that deal (or why it was left out of deals).
CREATE TABLE IF NOT EXISTS deal_events (
    event_id          VARCHAR PRIMARY KEY,              -- hash of article url + extractor version + index
    article_url       VARCHAR NOT NULL,
    deal_id           VARCHAR,
    site              VARCHAR,
    published_at      TIMESTAMP,                        -- the article's date (fetch time when unknown)
    deal_type         VARCHAR NOT NULL,
    acquirer          VARCHAR,
    target            VARCHAR,
    parties           VARCHAR[],
    amount            DOUBLE,
    currency          VARCHAR,
    amount_eur        DOUBLE,
    stake_pct         DOUBLE,
    valuation         DOUBLE,
    valuation_eur     DOUBLE,
    status            VARCHAR,                          -- rumor | announced | completed
    evidence          VARCHAR,
    confidence        DOUBLE,
    background        BOOLEAN DEFAULT false,
    flags             VARCHAR[],
    extractor_version VARCHAR,
    extracted_at      TIMESTAMP,
    run_id            VARCHAR,
    merge_reason      VARCHAR
);

-- One row per real-world deal; its mentions are the deal_events with this deal_id.
-- revision starts at 1 and increments when status or amount changes (alerts key on deal_id + revision).
CREATE TABLE IF NOT EXISTS deals (
    deal_id        VARCHAR PRIMARY KEY,
    deal_type      VARCHAR NOT NULL,
    acquirer       VARCHAR,
    target         VARCHAR,
    parties        VARCHAR[],
    amount         DOUBLE,
    currency       VARCHAR,
    amount_eur     DOUBLE,
    stake_pct      DOUBLE,
    valuation      DOUBLE,
    valuation_eur  DOUBLE,
    status         VARCHAR,
    first_seen     TIMESTAMP,
    last_seen      TIMESTAMP,
    n_mentions     INTEGER,
    n_sources      INTEGER,
    revision       INTEGER NOT NULL DEFAULT 1,
    created_run_id VARCHAR,
    updated_run_id VARCHAR,
    updated_at     TIMESTAMP,
    name_keys      VARCHAR[],                           -- normalised party names, for candidate lookup
    acquirer_key   VARCHAR,                             -- normalised acquirer/target ("satispay"), to group by
    target_key     VARCHAR
);
