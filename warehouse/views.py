"""Names of the trend views the CLI offers, without importing DuckDB (`dealradar --help` stays instant).

The views themselves are SQL (warehouse/migrations/003_trends.sql); their columns are listed in README.md.
"""

from __future__ import annotations

# (title, view, row limit) of the tables `dealradar trends` prints.
TREND_VIEWS: list[tuple[str, str, int]] = [
    ("Deals per month by type (latest 12 months)", "v_deals_per_month", 12),
    ("Disclosed amount by month (EUR)", "v_amount_by_month", 12),
    ("Most active acquirers", "v_top_acquirers", 10),
    ("Most active investors", "v_top_investors", 10),
    ("Most funded targets", "v_top_funded_targets", 10),
    ("Deals by sector", "v_deals_by_sector", 20),
    ("New deals in the last run", "v_new_deals", 20),
]
TREND_VIEW_TITLES = {view: (title, limit) for title, view, limit in TREND_VIEWS}
TREND_VIEW_NAMES = tuple(TREND_VIEW_TITLES)
