"""What `dealradar trends` and `dealradar deals` show: trend tables, a static chart, deal listings."""

from __future__ import annotations

import html
import os
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
_TYPE_COLOURS = {
    "acquisition": "#1f77b4",
    "investment": "#ff7f0e",
    "funding_round": "#2ca02c",
    "partnership": "#9467bd",
    "merger": "#d62728",
    "ipo": "#8c564b",
    "exit": "#e377c2",
}


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
    """Write a self-contained HTML page with an SVG stacked bar chart of deals per month by type.

    No scripts and no network: the page opens offline in any browser. Written atomically. Only HTML is
    written (a PNG would need a plotting library the project does not depend on).
    """
    if Path(path).suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"chart {path}: only an .html chart can be written (open it in a browser)")
    rows = con.execute("SELECT month, deal_type, n_deals FROM v_deals_per_month ORDER BY month").fetchall()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    partial.write_text(_chart_page(rows), encoding="utf-8")
    os.replace(partial, target)
    return target


def _chart_page(rows: Sequence[tuple[date, str, int]]) -> str:
    months = sorted({r[0] for r in rows})
    types = [t for t in _TYPE_COLOURS if any(r[1] == t for r in rows)]
    types += sorted({r[1] for r in rows} - set(types))
    counts = {(r[0], r[1]): r[2] for r in rows}
    svg = _svg(months, types, counts) if months else "<p>No deals yet.</p>"
    legend = "".join(f'<li><span style="background:{_colour(t)}"></span>{html.escape(t)}</li>' for t in types)
    table_rows = "".join(
        "<tr><td>{}</td>{}</tr>".format(
            m.strftime("%Y-%m"), "".join(f"<td>{counts.get((m, t), 0)}</td>" for t in types)
        )
        for m in months
    )
    head = "".join(f"<th>{html.escape(t)}</th>" for t in types)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dealradar: deals per month by type</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
ul.legend {{ list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1em; }}
ul.legend span {{ display: inline-block; width: 1em; height: 1em; margin-right: .3em; }}
table {{ border-collapse: collapse; margin-top: 2em; }}
td, th {{ border: 1px solid #ccc; padding: .2em .6em; }}
td {{ text-align: right; }}
</style></head>
<body><h1>Deals per month by type</h1>
<p>Generated {now_utc():%Y-%m-%d %H:%M} UTC from the dealradar warehouse
(deals counted in the month of their first mention).</p>
{svg}
<ul class="legend">{legend}</ul>
<table><tr><th>month</th>{head}</tr>{table_rows}</table>
</body></html>
"""


def _colour(deal_type: str) -> str:
    return _TYPE_COLOURS.get(deal_type, "#7f7f7f")


def _svg(months: Sequence[date], types: Sequence[str], counts: dict[tuple[date, str], int]) -> str:
    width, height, left, bottom, top = 900, 360, 40, 40, 10
    totals = [sum(counts.get((m, t), 0) for t in types) for m in months]
    peak = max(totals) or 1
    slot = (width - left - 10) / len(months)
    bar = max(slot * 0.8, 1)
    scale = (height - bottom - top) / peak
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    parts.append(
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="#999"/>'
    )
    parts.append(f'<text x="{left - 5}" y="{top + 10}" text-anchor="end" font-size="11">{peak}</text>')
    for i, month in enumerate(months):
        x = left + i * slot + (slot - bar) / 2
        y = height - bottom
        for deal_type in types:
            n = counts.get((month, deal_type), 0)
            if not n:
                continue
            h = n * scale
            y -= h
            label = html.escape(f"{month:%Y-%m} {deal_type}: {n}")
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{_colour(deal_type)}"><title>{label}</title></rect>'
            )
        if len(months) <= 24 or i % max(len(months) // 12, 1) == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 15}" text-anchor="middle" '
                f'font-size="10">{month:%Y-%m}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
