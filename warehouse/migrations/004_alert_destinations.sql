-- 004_alert_destinations: one alert per deal revision and channel, and a record of deals held back as
-- backfill (written by alerts/outbox.py).
--
-- Until 003 the outbox owed one message per (rule, channel, deal, revision): two rules sharing a channel sent
-- the same deal twice. From now on a channel gets one message per deal revision (instant) or one digest per
-- run, naming every rule that matched. Messages already queued keep their ids and are delivered as before;
-- instant messages queued twice for the same channel, deal and revision by different rules are folded into
-- one here: the one already sent (or being sent, or the oldest) stays, the others become 'merged' (kept,
-- never sent, not listed as pending). Nothing pending is lost: every deal revision still has its message.

UPDATE alert_outbox AS o
SET status = 'merged',
    last_error = 'same deal revision to the same channel as alert ' || k.keep_id
                 || ' (folded into it on upgrade: one message per deal and channel)'
FROM (
    SELECT alert_id,
           first_value(alert_id) OVER same_destination AS keep_id,
           row_number() OVER same_destination AS n
    FROM alert_outbox
    WHERE mode = 'instant' AND deal_id IS NOT NULL AND status <> 'merged'
    WINDOW same_destination AS (
        PARTITION BY channel_id, deal_id, revision
        ORDER BY CASE status WHEN 'sent' THEN 0 WHEN 'sending' THEN 1 WHEN 'pending' THEN 2 ELSE 3 END,
                 created_at, alert_id)
) AS k
WHERE o.alert_id = k.alert_id AND k.n > 1 AND o.status <> 'sent';

-- Deals a run found but did not alert, because their news was older than alerts.max_age_days or the run was
-- a first run with alerts.first_run: none. The deals themselves are stored as usual; a later run alerts on
-- the deal when fresh news about it arrives. The nightly summary counts them.
CREATE TABLE IF NOT EXISTS alert_held_back (
    run_id   VARCHAR NOT NULL,
    deal_id  VARCHAR NOT NULL,
    revision INTEGER NOT NULL,
    reason   VARCHAR NOT NULL,               -- old_news | first_run
    news_at  TIMESTAMP,                      -- newest article date judged (publication date, else fetch time)
    held_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, deal_id, revision)
);
