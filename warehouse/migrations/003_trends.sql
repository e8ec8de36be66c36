-- 003_trends: sector keywords and the trend views analysts query (listed with their columns in README).
-- All views read the deals table (one row per real-world deal); dates are a deal's first_seen (UTC).

-- Sector keywords: a deal belongs to a sector when the title or text of one of its articles matches one of
-- the sector's patterns (RE2 regular expressions; (?i) = case-insensitive). Add rows to extend.
CREATE TABLE IF NOT EXISTS sectors (
    sector  VARCHAR NOT NULL,
    pattern VARCHAR NOT NULL,
    PRIMARY KEY (sector, pattern)
);
INSERT OR IGNORE INTO sectors VALUES
    ('fintech', '(?i)\b(fintech|paytech|insurtech|neobank\w*|open banking|pagamenti digitali|criptovalut\w+|blockchain)\b'),
    ('intelligenza artificiale', '(?i)\b(intelligenza artificiale|machine learning|deep learning|genai|chatbot|llm)\b'),
    ('intelligenza artificiale', '\b(AI|IA)\b'),
    ('cybersecurity', '(?i)\b(cyber ?security|cybersicurezza|sicurezza informatica|ransomware)\b'),
    ('cloud', '(?i)\b(cloud|data ?cent(er|re)|saas)\b'),
    ('semiconduttori', '(?i)\b(semicondutt\w+|chip|microchip|wafer)\b'),
    ('telecomunicazioni', '(?i)\b(telecomunicazion\w+|fibra ottica|5g|tlc|torri di trasmissione|rete mobile)\b'),
    ('e-commerce', '(?i)\b(e-?commerce|marketplace|vendite online)\b'),
    ('mobilità', '(?i)\b(mobilit[aà]|auto elettric\w+|veicoli elettrici|micromobilit|car sharing)'),
    ('energia', '(?i)\b(energi[ae]|energetic\w+|rinnovabil\w+|fotovoltaic\w+|idrogeno|cleantech)\b'),
    ('salute/medtech', '(?i)\b(medtech|healthtech|biotech|medical device|dispositivi medici|telemedicina|sanit)'),
    ('spazio/aerospazio', '(?i)\b(aerospazi\w+|spaziale|satellit\w+|space economy|lanciator\w+)\b'),
    ('media/gaming', '(?i)\b(videogiochi|videogame|gaming|streaming|editoria|esports?)\b'),
    ('robotica', '(?i)\b(robotica|robot|automazione industriale)\b');

-- Sector tags of each deal, computed by the clustering step when a deal changes.
CREATE TABLE IF NOT EXISTS deal_sectors (
    deal_id VARCHAR NOT NULL,
    sector  VARCHAR NOT NULL
);

-- v_deals_per_week(week DATE: Monday, deal_type, n_deals, n_mentions, total_amount_eur)
CREATE OR REPLACE VIEW v_deals_per_week AS
SELECT date_trunc('week', first_seen)::DATE AS week, deal_type,
       count(*) AS n_deals, sum(n_mentions)::BIGINT AS n_mentions, sum(amount_eur) AS total_amount_eur
FROM deals GROUP BY ALL ORDER BY week, deal_type;

-- v_deals_per_month(month DATE: first day, deal_type, n_deals, n_mentions, total_amount_eur)
CREATE OR REPLACE VIEW v_deals_per_month AS
SELECT date_trunc('month', first_seen)::DATE AS month, deal_type,
       count(*) AS n_deals, sum(n_mentions)::BIGINT AS n_mentions, sum(amount_eur) AS total_amount_eur
FROM deals GROUP BY ALL ORDER BY month, deal_type;

-- v_amount_by_month(month DATE, n_deals, n_with_amount, total_amount_eur, largest_amount_eur):
-- disclosed amounts only; n_with_amount says how many deals disclosed one.
CREATE OR REPLACE VIEW v_amount_by_month AS
SELECT date_trunc('month', first_seen)::DATE AS month,
       count(*) AS n_deals, count(amount_eur) AS n_with_amount,
       coalesce(sum(amount_eur), 0) AS total_amount_eur, max(amount_eur) AS largest_amount_eur
FROM deals GROUP BY ALL ORDER BY month;

-- v_top_acquirers(acquirer, n_deals, total_amount_eur, last_deal DATE):
-- buyers in acquisitions, mergers and exits, grouped by normalised name, most deals first.
CREATE OR REPLACE VIEW v_top_acquirers AS
SELECT mode(acquirer) AS acquirer, count(*) AS n_deals, sum(amount_eur) AS total_amount_eur,
       max(first_seen)::DATE AS last_deal
FROM deals
WHERE acquirer_key IS NOT NULL AND deal_type IN ('acquisition', 'merger', 'exit')
GROUP BY acquirer_key ORDER BY n_deals DESC, total_amount_eur DESC NULLS LAST, acquirer;

-- v_top_investors(investor, n_deals, total_amount_eur, last_deal DATE):
-- the named (lead) investor of funding rounds and minority investments, most deals first.
CREATE OR REPLACE VIEW v_top_investors AS
SELECT mode(acquirer) AS investor, count(*) AS n_deals, sum(amount_eur) AS total_amount_eur,
       max(first_seen)::DATE AS last_deal
FROM deals
WHERE acquirer_key IS NOT NULL AND deal_type IN ('funding_round', 'investment')
GROUP BY acquirer_key ORDER BY n_deals DESC, total_amount_eur DESC NULLS LAST, investor;

-- v_top_funded_targets(target, n_rounds, total_raised_eur, last_round DATE):
-- companies receiving funding rounds and investments, largest total first.
CREATE OR REPLACE VIEW v_top_funded_targets AS
SELECT mode(target) AS target, count(*) AS n_rounds, coalesce(sum(amount_eur), 0) AS total_raised_eur,
       max(first_seen)::DATE AS last_round
FROM deals
WHERE target_key IS NOT NULL AND deal_type IN ('funding_round', 'investment')
GROUP BY target_key ORDER BY total_raised_eur DESC, n_rounds DESC, target;

-- v_deals_by_sector(sector, n_deals, total_amount_eur, last_deal DATE):
-- a deal counts in every sector its articles mention (see table sectors).
CREATE OR REPLACE VIEW v_deals_by_sector AS
SELECT s.sector, count(*) AS n_deals, sum(d.amount_eur) AS total_amount_eur, max(d.first_seen)::DATE AS last_deal
FROM deal_sectors s JOIN deals d USING (deal_id)
GROUP BY s.sector ORDER BY n_deals DESC, s.sector;

-- v_new_deals(deal_id, deal_type, acquirer, target, amount, currency, amount_eur, stake_pct, status,
--             first_seen, n_sources, run_id): deals first created by the most recent run.
CREATE OR REPLACE VIEW v_new_deals AS
SELECT deal_id, deal_type, acquirer, target, amount, currency, amount_eur, stake_pct, status, first_seen,
       n_sources, created_run_id AS run_id
FROM deals
WHERE created_run_id = (SELECT run_id FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 1)
ORDER BY amount_eur DESC NULLS LAST, first_seen;

-- v_deal_mentions(deal_id, deal_type, target, published_at, site, article_url, title, evidence, merge_reason):
-- each deal's mentions, to see which articles a deal came from and why they were merged.
CREATE OR REPLACE VIEW v_deal_mentions AS
SELECT e.deal_id, d.deal_type, d.target, e.published_at, e.site, e.article_url, a.title, e.evidence,
       e.merge_reason
FROM deal_events e JOIN deals d USING (deal_id) LEFT JOIN articles a ON a.url = e.article_url
ORDER BY e.deal_id, e.published_at;
