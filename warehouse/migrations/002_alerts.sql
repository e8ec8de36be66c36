-- 002_alerts: the alerts outbox (alerts/outbox.py writes it, alerts/send.py drains it).
-- A message is written here in the same process and after the deals it is about, then sent; its row
-- records every attempt, so a failed send waits for a later run and a crash never loses or silently
-- repeats a message. Channel URLs are never stored (they may carry secrets): only a hash and a label.

-- One row per message: instant (one deal, one revision) or digest (one run), for one rule and channel.
CREATE TABLE IF NOT EXISTS alert_outbox (
    alert_id        VARCHAR PRIMARY KEY,      -- hash of the message's unique key; also sent as its dedup key
    rule_name       VARCHAR NOT NULL,
    mode            VARCHAR NOT NULL,         -- instant | digest
    kind            VARCHAR NOT NULL,         -- new | update | digest
    channel_id      VARCHAR NOT NULL,         -- sha256 of the channel URL as written in config (with ${VARS})
    channel_label   VARCHAR NOT NULL,         -- scheme and position, e.g. "mailto #1": no host, no secret
    deal_id         VARCHAR,                  -- instant messages: the deal
    revision        INTEGER,                  -- instant messages: the deal revision announced
    run_id          VARCHAR,                  -- run that wrote the message
    title           VARCHAR NOT NULL,
    body_text       VARCHAR NOT NULL,
    body_markdown   VARCHAR NOT NULL,
    body_html       VARCHAR NOT NULL,
    status          VARCHAR NOT NULL DEFAULT 'pending',   -- pending | sending | sent | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      VARCHAR,                  -- redacted: never a URL with credentials or a secret
    created_at      TIMESTAMP NOT NULL,
    not_before      TIMESTAMP NOT NULL,       -- cool-down: the message waits until then
    next_attempt_at TIMESTAMP NOT NULL,       -- not_before, then pushed back after each failure
    last_attempt_at TIMESTAMP,
    sent_at         TIMESTAMP
);

-- The deals each message covers, with the figures it announced (the base of the next "what changed").
CREATE TABLE IF NOT EXISTS alert_outbox_deals (
    alert_id   VARCHAR NOT NULL,
    rule_name  VARCHAR NOT NULL,
    channel_id VARCHAR NOT NULL,
    deal_id    VARCHAR NOT NULL,
    revision   INTEGER NOT NULL,
    kind       VARCHAR NOT NULL,              -- new | update
    status     VARCHAR,
    amount     DOUBLE,
    currency   VARCHAR,
    amount_eur DOUBLE,
    stake_pct  DOUBLE,
    PRIMARY KEY (alert_id, deal_id)
);
