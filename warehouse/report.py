"""The analyst's report: one static HTML page with the trend charts and the latest deals with their sources.

Charts are drawn by Plotly (plotly.js is inlined once in the page's head, so the file opens offline and can be
mailed as it is). The figures' data come from the trend views (`report_figures`), without Plotly, so the
nightly run can publish the same figures as Prefect table artifacts cheaply.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from extractors.clock import utc_now_naive as now_utc

# One colour per deal type in every chart (Plotly's default palette, in the types' usual order).
TYPE_COLOURS = {
    "acquisition": "#1f77b4",
    "investment": "#ff7f0e",
    "funding_round": "#2ca02c",
    "partnership": "#9467bd",
    "merger": "#d62728",
    "ipo": "#8c564b",
    "exit": "#e377c2",
}
LATEST_DEALS = 100  # rows of the deals table: a page a browser still opens at once
TOP_N = 15


@dataclass(frozen=True)
class FigureSpec:
    """How one chart is made: the query over a trend view and which columns it draws."""

    key: str  # HTML id and Prefect artifact key
    title: str
    sql: str
    kind: str  # "stacked": bars of `y` per `x`, stacked by `colour`; "bar": one bar per `x`; "hbar": ranked
    x: str
    y: str
    colour: str | None = None
    y_title: str = ""
    hover: tuple[str, ...] = ()  # other columns shown on hover


@dataclass(frozen=True)
class Figure:
    spec: FigureSpec
    columns: list[str]
    rows: list[tuple]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(
        "deals-per-week", "Deals per week by type (latest 52 weeks)",
        "SELECT week, deal_type, n_deals, n_mentions FROM v_deals_per_week "
        "WHERE week > (SELECT max(week) FROM v_deals_per_week) - INTERVAL 52 WEEK ORDER BY week, deal_type",
        "stacked", x="week", y="n_deals", colour="deal_type", y_title="deals", hover=("n_mentions",),
    ),
    FigureSpec(
        "deals-per-month", "Deals per month by type (latest 24 months)",
        "SELECT month, deal_type, n_deals, n_mentions FROM v_deals_per_month "
        "WHERE month > (SELECT max(month) FROM v_deals_per_month) - INTERVAL 24 MONTH "
        "ORDER BY month, deal_type",
        "stacked", x="month", y="n_deals", colour="deal_type", y_title="deals", hover=("n_mentions",),
    ),
    FigureSpec(
        "amount-by-month", "Disclosed amount by month (EUR, latest 24 months)",
        "SELECT month, round(total_amount_eur) AS total_amount_eur, n_with_amount, n_deals, "
        "round(largest_amount_eur) AS largest_amount_eur FROM v_amount_by_month "
        "WHERE month > (SELECT max(month) FROM v_amount_by_month) - INTERVAL 24 MONTH ORDER BY month",
        "bar", x="month", y="total_amount_eur", y_title="EUR",
        hover=("n_with_amount", "n_deals", "largest_amount_eur"),
    ),
    FigureSpec(
        "top-acquirers", f"Most active acquirers (top {TOP_N})",
        "SELECT acquirer, n_deals, round(total_amount_eur) AS total_amount_eur, last_deal "
        f"FROM v_top_acquirers LIMIT {TOP_N}",
        "hbar", x="acquirer", y="n_deals", y_title="deals", hover=("total_amount_eur", "last_deal"),
    ),
    FigureSpec(
        "top-investors", f"Most active investors (top {TOP_N})",
        "SELECT investor, n_deals, round(total_amount_eur) AS total_amount_eur, last_deal "
        f"FROM v_top_investors LIMIT {TOP_N}",
        "hbar", x="investor", y="n_deals", y_title="deals", hover=("total_amount_eur", "last_deal"),
    ),
    FigureSpec(
        "top-funded", f"Most funded companies (top {TOP_N}, EUR raised)",
        "SELECT target, round(total_raised_eur) AS total_raised_eur, n_rounds, last_round "
        f"FROM v_top_funded_targets LIMIT {TOP_N}",
        "hbar", x="target", y="total_raised_eur", y_title="EUR", hover=("n_rounds", "last_round"),
    ),
    FigureSpec(
        "deals-by-sector", "Deals by sector",
        "SELECT sector, n_deals, round(total_amount_eur) AS total_amount_eur, last_deal "
        "FROM v_deals_by_sector",
        "hbar", x="sector", y="n_deals", y_title="deals", hover=("total_amount_eur", "last_deal"),
    ),
)  # fmt: skip
FIGURE_KEYS = tuple(spec.key for spec in FIGURES)


def report_figures(con: duckdb.DuckDBPyConnection, keys: Sequence[str] = FIGURE_KEYS) -> list[Figure]:
    """The data of each chart (no Plotly needed): what the report draws and the nightly run publishes."""
    figures = []
    for spec in FIGURES:
        if spec.key in keys:
            result = con.execute(spec.sql)
            figures.append(Figure(spec, [d[0] for d in result.description], result.fetchall()))
    return figures


def latest_deals(con: duckdb.DuckDBPyConnection, limit: int = LATEST_DEALS) -> list[dict[str, Any]]:
    """The most recently seen deals, each with every article that reported it (newest article first)."""
    result = con.execute(
        """
        WITH latest AS (
            SELECT * FROM deals
            ORDER BY last_seen DESC, deal_id LIMIT $1
        ), sources AS (
            SELECT deal_id, list({'url': article_url, 'site': site, 'title': title, 'published': published_at}
                                 ORDER BY published_at DESC NULLS LAST, article_url) AS sources
            FROM (SELECT DISTINCT deal_id, article_url, site, title, published_at
                  FROM v_deal_mentions WHERE deal_id IN (SELECT deal_id FROM latest))
            GROUP BY deal_id
        )
        SELECT l.deal_id, l.last_seen, l.first_seen, l.deal_type, l.acquirer, l.target, l.amount, l.currency,
               l.amount_eur, l.stake_pct, l.status, l.n_sources, coalesce(s.sources, []) AS sources
        FROM latest l LEFT JOIN sources s USING (deal_id)
        ORDER BY l.last_seen DESC, l.deal_id
        """,
        [limit],
    )
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


# --- Plotly ------------------------------------------------------------------------------------------------


def plotly_figure(figure: Figure) -> Any:
    """A Plotly figure for one chart: bars with hover text, titled axes, a note when there is no data."""
    import plotly.graph_objects as go

    spec, records = figure.spec, figure.records()
    if spec.kind != "hbar":  # periods as labels: a date axis draws two weekly bars as wide as the chart
        records = [{**r, spec.x: _period(r[spec.x], spec.x)} for r in records]
    fig = go.Figure()
    if spec.kind == "stacked":
        types = [t for t in TYPE_COLOURS if any(r[spec.colour] == t for r in records)]
        types += sorted({r[spec.colour] for r in records} - set(types))
        for deal_type in types:
            rows = [r for r in records if r[spec.colour] == deal_type]
            fig.add_bar(
                name=deal_type, x=[r[spec.x] for r in rows], y=[r[spec.y] for r in rows],
                marker_color=TYPE_COLOURS.get(deal_type, "#7f7f7f"),
                customdata=[[r[h] for h in spec.hover] for r in rows],
                hovertemplate=_hover(spec, f"{deal_type}: %{{y}} deals"),
            )  # fmt: skip
        fig.update_layout(barmode="stack", legend_title_text="deal type")
    elif spec.kind == "bar":
        fig.add_bar(
            x=[r[spec.x] for r in records], y=[r[spec.y] for r in records], marker_color="#1f77b4",
            customdata=[[r[h] for h in spec.hover] for r in records],
            hovertemplate=_hover(spec, "%{y:,.0f} EUR"),
        )  # fmt: skip
    else:  # hbar: ranked, the first row on top
        ranked = list(reversed(records))
        fig.add_bar(
            orientation="h", y=[str(r[spec.x]) for r in ranked], x=[r[spec.y] for r in ranked],
            marker_color="#1f77b4", customdata=[[r[h] for h in spec.hover] for r in ranked],
            hovertemplate=_hover(spec, f"%{{x:,}} {spec.y_title}", label="%{y}"),
        )  # fmt: skip
    counts = {}
    if spec.y_title == "deals":  # whole numbers only: no tick at 0.2 deals
        peak = _stack_height(records, spec)
        counts = {"tick0": 0, "dtick": _nice_step(peak / 8), "rangemode": "tozero"}
    if spec.kind == "hbar":
        fig.update_layout(xaxis_title=spec.y_title, height=max(300, 28 * len(records) + 120))
        fig.update_yaxes(automargin=True)
        fig.update_xaxes(**counts)
    else:
        fig.update_layout(yaxis_title=spec.y_title, xaxis_title=spec.x, height=380)
        fig.update_xaxes(type="category", categoryorder="category ascending")
        fig.update_yaxes(**counts)
    if not records:
        fig.add_annotation(text="no deals yet", showarrow=False, font={"size": 16, "color": "#888"})
    fig.update_layout(
        title_text=spec.title, template="plotly_white", margin={"t": 60, "b": 50, "l": 60, "r": 20},
        separators=".,",
    )  # fmt: skip
    return fig


def _nice_step(raw: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50... at least `raw`: whole-number ticks a reader adds up."""
    magnitude = 10 ** max(0, math.floor(math.log10(raw))) if raw > 0 else 1
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def _stack_height(records: Sequence[dict[str, Any]], spec: FigureSpec) -> int:
    totals: dict[object, int] = {}
    for r in records:
        totals[r[spec.x]] = totals.get(r[spec.x], 0) + int(r[spec.y] or 0)
    return max(totals.values(), default=1)


def _period(value: object, unit: str) -> str:
    if isinstance(value, date):
        return f"{value:%Y-%m}" if unit == "month" else f"{value:%Y-%m-%d}"
    return str(value)


def _hover(spec: FigureSpec, value: str, label: str = "%{x}") -> str:
    extra = "".join(f"<br>{name}: %{{customdata[{i}]}}" for i, name in enumerate(spec.hover))
    return f"{label}<br>{value}{extra}<extra></extra>"


def chart_divs(figures: Sequence[Figure]) -> list[str]:
    """Each figure as an HTML <div> plus its drawing script; plotly.js itself is not included."""
    import plotly.io as pio

    config = {"displaylogo": False, "responsive": True}
    return [
        pio.to_html(
            plotly_figure(f), full_html=False, include_plotlyjs=False, div_id=f.spec.key, config=config
        )
        for f in figures
    ]


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


# --- the page ----------------------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em 2em; color: #222; }
h1 { margin-bottom: .2em; } p.meta { color: #666; margin-top: 0; }
nav a { margin-right: 1em; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 1em; }
.chart { border: 1px solid #e3e3e3; border-radius: 4px; padding: .3em; min-height: 300px; }
table.deals { border-collapse: collapse; width: 100%; font-size: 90%; margin-top: .5em; }
table.deals th, table.deals td { border-bottom: 1px solid #ddd; padding: .3em .5em; text-align: left;
  vertical-align: top; }
table.deals th { background: #f4f4f4; position: sticky; top: 0; }
table.deals td.num { text-align: right; white-space: nowrap; }
.status { padding: 0 .4em; border-radius: 3px; background: #eee; white-space: nowrap; }
.status-completed { background: #d4edda; } .status-announced { background: #d6e9f8; }
.status-rumor, .status-rumour { background: #fff3cd; }
ul.sources { margin: 0; padding-left: 1.1em; } ul.sources li { margin: 0; }
"""


def render_report(
    con: duckdb.DuckDBPyConnection, *, limit: int = LATEST_DEALS, generated: datetime | None = None
) -> str:
    """The whole report page as one HTML string (plotly.js inlined: no network needed to open it)."""
    figures = report_figures(con)
    deals = latest_deals(con, limit)
    n_deals, n_articles = con.execute(
        "SELECT (SELECT count(*) FROM deals), (SELECT count(*) FROM articles)"
    ).fetchone() or (0, 0)
    charts = "\n".join(f'<div class="chart">{div}</div>' for div in chart_divs(figures))
    nav = "".join(f'<a href="#{f.spec.key}">{html.escape(f.spec.title)}</a>' for f in figures)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dealradar report</title>
<style>{_STYLE}</style>
<script type="text/javascript">{_plotly_js()}</script>
</head>
<body>
<h1>dealradar: Italian tech deals</h1>
<p class="meta">Generated {(generated or now_utc()):%Y-%m-%d %H:%M} UTC from the dealradar warehouse:
{n_deals} deals from {n_articles} articles. Dates are a deal's first mention; amounts in EUR at the ECB rate
of the deal's year; deals with no disclosed amount count in the charts of deals, not of amounts.</p>
<nav>{nav}<a href="#latest-deals">Latest deals</a></nav>
<section class="charts">
{charts}
</section>
<h2 id="latest-deals">Latest deals ({len(deals)})</h2>
{deals_table(deals)}
</body></html>
"""


def deals_table(deals: Sequence[dict[str, Any]]) -> str:
    """The latest deals as an HTML table: status, amount, and a link to every source article."""
    if not deals:
        return '<table class="deals"><tr><td>No deals yet.</td></tr></table>'
    head = "".join(
        f"<th>{h}</th>"
        for h in ("last seen", "type", "acquirer / investor", "target", "amount", "EUR", "stake", "status",
                  "sources")
    )  # fmt: skip
    body = []
    for deal in deals:
        status = str(deal["status"] or "")
        amount = f"{_number(deal['amount'])} {_e(deal['currency'])}" if deal["amount"] is not None else ""
        stake = f"{deal['stake_pct']:g}%" if deal["stake_pct"] is not None else ""
        body.append(
            f'<tr data-deal-id="{_e(deal["deal_id"])}"><td>{_day(deal["last_seen"])}</td>'
            f"<td>{_e(deal['deal_type'])}</td><td>{_e(deal['acquirer'])}</td><td>{_e(deal['target'])}</td>"
            f'<td class="num">{amount}</td><td class="num">{_number(deal["amount_eur"])}</td>'
            f'<td class="num">{stake}</td>'
            f'<td><span class="status status-{_e(status)}">{_e(status)}</span></td>'
            f"<td>{_sources(deal['sources'])}</td></tr>"
        )
    rows = "\n".join(body)
    return f'<table class="deals"><thead><tr>{head}</tr></thead><tbody>\n{rows}</tbody></table>'


def _sources(sources: Sequence[dict[str, Any]]) -> str:
    items = []
    for source in sources:
        url = str(source.get("url") or "")
        label = _e(source.get("title") or url)
        site = _e(source.get("site") or "")
        when = _day(source.get("published"))
        # Only web links are clickable: a stored URL is canonical http(s), but the page must not trust it.
        link = f'<a href="{_e(url)}">{label}</a>' if url.startswith(("https://", "http://")) else label
        items.append(f"<li>{site} {when}: {link}</li>")
    return f'<ul class="sources">{"".join(items)}</ul>'


def _e(value: object) -> str:
    return "" if value is None else html.escape(str(value), quote=True)


def _number(value: object) -> str:
    return "" if value is None else f"{float(value):,.0f}"  # type: ignore[arg-type]


def _day(value: object) -> str:
    if isinstance(value, datetime | date):
        return f"{value:%Y-%m-%d}"
    return _e(value)


def write_report(con: duckdb.DuckDBPyConnection, path: str | Path, *, limit: int = LATEST_DEALS) -> Path:
    """Write the report page atomically (a reader never sees half a page); returns its path."""
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"report {path}: the report is an HTML page: give a path ending in .html")
    return _write_atomically(target, render_report(con, limit=limit))


def render_chart_page(con: duckdb.DuckDBPyConnection, keys: Sequence[str], title: str) -> str:
    """A page with only some of the report's charts (`dealradar trends --chart`)."""
    figures = report_figures(con, keys)
    charts = "\n".join(f'<div class="chart">{div}</div>' for div in chart_divs(figures))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_STYLE}</style>
<script type="text/javascript">{_plotly_js()}</script>
</head><body>
<h1>{html.escape(title)}</h1>
<p class="meta">Generated {now_utc():%Y-%m-%d %H:%M} UTC from the dealradar warehouse
(deals counted in the month of their first mention).</p>
{charts}
</body></html>
"""


def _write_atomically(target: Path, text: str) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, target)
    return target


def write_chart_page(
    con: duckdb.DuckDBPyConnection, path: str | Path, keys: Sequence[str], title: str
) -> Path:
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"chart {path}: only an .html chart can be written (open it in a browser)")
    return _write_atomically(target, render_chart_page(con, keys, title))
