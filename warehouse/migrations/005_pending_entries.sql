-- 005_pending_entries: feed entries a run could not fetch and keeps for the next one (written by
-- warehouse/pending.py). Until 004 such entries were dropped (over fetch.max_entries_per_feed) or only
-- found again if the feed still carried them; now each waits here, with why, until a run stores it or it
-- is older than fetch.defer_horizon_days.
CREATE TABLE IF NOT EXISTS pending_entries (
    url VARCHAR PRIMARY KEY,            -- canonical article URL
    feed_name VARCHAR,
    feed_url VARCHAR,
    link VARCHAR,                       -- as the feed wrote it
    title VARCHAR,
    summary VARCHAR,                    -- the feed's own text: the fallback when the page fails
    content VARCHAR,
    published_at TIMESTAMP,
    author VARCHAR,
    guid VARCHAR,
    reason VARCHAR NOT NULL,            -- over_max_entries, run_deadline, fetch_failed:time_budget, ...
    first_deferred_at TIMESTAMP NOT NULL,
    last_deferred_at TIMESTAMP NOT NULL,
    deferrals INTEGER NOT NULL DEFAULT 1,
    run_id VARCHAR                      -- the run that deferred it last
);
