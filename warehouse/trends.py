"""What `dealradar trends` and `dealradar deals` show: trend tables, a chart page, deal listings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from extractors.clock import utc_now_naive as now_utc
from warehouse.views import TREND_VIEW_TITLES, TREND_VIEWS  # noqa: F401  (TREND_VIEWS: re-exported)

DEAL_COLUMNS = (
    "first_seen::DATE AS first_seen, last_seen::DATE AS last_seen, deal_type, acquirer, target, amount, "
    "currency, round(amount_eur) AS amount_eur, stake_pct, status, n_sources, n_mentions, deal_id"
)


def trend_tables(
    con: duckdb.DuckDBPyConnection, *, views: Sequence[str] | None = None, limit: int | None = None
) -> list[tuple[str, list[str], list[tuple]]]:
    """The main trend views as (title, columns, rows), ready for `format_table`."""
    results = trend_results(con, views=views, limit=limit)
    return [(title, columns, rows) for _, title, columns, rows in results]


def trend_results(
    con: duckdb.DuckDBPyConnection, *, views: Sequence[str] | None = None, limit: int | None = None
) -> list[tuple[str, str, list[str], list[tuple]]]:
    """(view, title, columns, rows) of the trend views (all, or `views`), each cut at its usual number of
    rows or at `limit`; the monthly views keep their latest rows, in date order."""
    tables = []
    for view, (title, limit_rows) in TREND_VIEW_TITLES.items():
        if views and view not in views:
            continue
        n = limit_rows if limit is None else limit
        if view == "v_deals_per_month":
            sql = f"SELECT * FROM {view} WHERE month > (SELECT max(month) FROM {view}) - INTERVAL {n} MONTH"
        elif view == "v_amount_by_month":
            sql = f"SELECT * FROM (SELECT * FROM {view} ORDER BY month DESC LIMIT {n}) ORDER BY month"
        else:
            sql = f"SELECT * FROM {view} LIMIT {n}"
        result = con.execute(sql)
        rows = result.fetchall()
        if limit is not None:  # a month of deals per type is several rows: keep the latest `limit`
            rows = rows[len(rows) - limit :] if limit else []
        tables.append((view, title, [d[0] for d in result.description], rows))
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
    limit: int | None = None,
) -> tuple[list[str], list[tuple]]:
    """Deals with a mention since `since` (all when None), of the given types, at least `min_amount_eur`.

    `deal_type` is a one-type shorthand for `types` (the CLI's --type). Newest mention first; at most
    `limit` deals.
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
        f"SELECT {DEAL_COLUMNS} FROM deals WHERE {' AND '.join(where)} ORDER BY last_seen DESC, deal_id"
        + ("" if limit is None else f" LIMIT {int(limit)}"),
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
