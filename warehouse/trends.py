"""What `dealradar trends` and `dealradar deals` show: trend tables, a chart page, deal listings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from warehouse.load import now_utc

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
DEAL_COLUMNS = (
    "first_seen::DATE AS first_seen, last_seen::DATE AS last_seen, deal_type, acquirer, target, amount, "
    "currency, round(amount_eur) AS amount_eur, stake_pct, status, n_sources, n_mentions, deal_id"
)


def trend_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, list[str], list[tuple]]]:
    """The main trend views as (title, columns, rows), ready for `format_table`."""
    tables = []
    for title, view, limit in TREND_VIEWS:
        if view == "v_deals_per_month":
            sql = (
                f"SELECT * FROM {view} WHERE month > (SELECT max(month) FROM {view}) - INTERVAL {limit} MONTH"
            )
        elif view == "v_amount_by_month":
            sql = f"SELECT * FROM (SELECT * FROM {view} ORDER BY month DESC LIMIT {limit}) ORDER BY month"
        else:
            sql = f"SELECT * FROM {view} LIMIT {limit}"
        result = con.execute(sql)
        tables.append((title, [d[0] for d in result.description], result.fetchall()))
    return tables


def parse_since(text: str) -> timedelta | date:
    """ "7d", "2w", "12h", "3m" (30-day months) -> timedelta; "2025-01-01" -> date."""
    value = text.strip().lower()
    match = re.fullmatch(r"(\d+)\s*([hdwm])", value)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        hours = {"h": 1, "d": 24, "w": 24 * 7, "m": 24 * 30}[unit]
        return timedelta(hours=amount * hours)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"--since {text!r}: use a duration like 7d, 2w, 12h, 3m or a date like 2025-01-01"
        ) from None


def list_deals(
    con: duckdb.DuckDBPyConnection,
    since: timedelta | date | None = None,
    types: Sequence[str] | None = None,
    min_amount_eur: float | None = None,
    *,
    deal_type: str | None = None,
) -> tuple[list[str], list[tuple]]:
    """Deals with a mention since `since` (all when None), of the given types, at least `min_amount_eur`.

    `deal_type` is a one-type shorthand for `types` (the CLI's --type). Newest mention first.
    """
    if deal_type:
        types = [*(types or []), deal_type]
    where, params = ["TRUE"], []
    if since is not None:
        where.append("last_seen >= ?")
        params.append(_cutoff(since))
    if types:
        where.append("deal_type IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(types))
    if min_amount_eur is not None:
        where.append("amount_eur >= ?")
        params.append(float(min_amount_eur))
    result = con.execute(
        f"SELECT {DEAL_COLUMNS} FROM deals WHERE {' AND '.join(where)} ORDER BY last_seen DESC, deal_id",
        params,
    )
    return [d[0] for d in result.description], result.fetchall()


def _cutoff(since: timedelta | date) -> datetime:
    if isinstance(since, timedelta):
        return now_utc() - since
    if isinstance(since, datetime):
        return since.replace(tzinfo=None)
    return datetime.combine(since, datetime.min.time())


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], max_width: int = 40) -> str:
    """A plain-text table for the terminal; cells longer than `max_width` end in "…"."""
    cells = [[_cell(v, max_width) for v in row] for row in rows]
    header = [_cell(c, max_width) for c in columns]
    widths = [max([len(header[i]), *(len(r[i]) for r in cells)]) for i in range(len(header))]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in rows) for i in range(len(header))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in cells)
    if not rows:
        out.append("(no rows)")
    return "\n".join(out)


def _cell(value: Any, max_width: int) -> str:
    if value is None:
        text = ""
    elif isinstance(value, float):
        text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"
    elif isinstance(value, list):
        text = ", ".join(str(v) for v in value)
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= max_width else text[: max_width - 1] + "…"


# --- chart -------------------------------------------------------------------------------------------------


def write_trend_chart(con: duckdb.DuckDBPyConnection, path: str | Path) -> Path:
    """Write a self-contained HTML page with the report's chart of deals per month by type (Plotly, its
    JavaScript inlined: the page opens offline). Written atomically; only .html paths."""
    from warehouse.report import write_chart_page

    return write_chart_page(con, path, ["deals-per-month", "amount-by-month"], "Deals per month by type")
