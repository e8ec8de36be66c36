"""Trend views, `dealradar trends`/`deals` helpers, the chart and the Parquet export, on a known dataset."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest
from support.browser import Page
from test_warehouse_support import article, event, load_dataset, store_and_cluster

from warehouse.db import open_warehouse
from warehouse.export import export_parquet
from warehouse.trends import format_table, list_deals, parse_since, trend_tables, write_trend_chart


@pytest.fixture
def con(tmp_path):
    connection = open_warehouse(tmp_path / "w.duckdb")
    articles, events = load_dataset()
    store_and_cluster(connection, articles, events)
    yield connection
    connection.close()


def view(con, name, columns="*"):
    return con.execute(f"SELECT {columns} FROM {name}").fetchall()


def test_deals_per_month_and_week_by_type(con):
    assert view(con, "v_deals_per_month", "month::VARCHAR, deal_type, n_deals, n_mentions") == [
        ("2025-01-01", "acquisition", 1, 1),
        ("2025-02-01", "acquisition", 1, 1),
        ("2025-03-01", "funding_round", 1, 5),
        ("2025-04-01", "funding_round", 2, 2),
    ]
    assert view(con, "v_deals_per_week", "week::VARCHAR, deal_type, n_deals") == [
        ("2025-01-13", "acquisition", 1),
        ("2025-02-10", "acquisition", 1),
        ("2025-03-03", "funding_round", 1),
        ("2025-03-31", "funding_round", 1),
        ("2025-04-14", "funding_round", 1),
    ]


def test_disclosed_amount_by_month_in_eur(con):
    rows = view(
        con, "v_amount_by_month", "month::VARCHAR, n_deals, n_with_amount, round(total_amount_eur / 1e6)"
    )
    # January: 54 M USD at about 1.13 USD per EUR.
    assert rows == [
        ("2025-01-01", 1, 1, 48.0),
        ("2025-02-01", 1, 1, 30.0),
        ("2025-03-01", 1, 1, 320.0),
        ("2025-04-01", 2, 2, 15.0),
    ]


def test_most_active_acquirers_and_investors(con):
    acquirers = view(
        con, "v_top_acquirers", "acquirer, n_deals, round(total_amount_eur / 1e6), last_deal::VARCHAR"
    )
    assert len(acquirers) == 1  # "Intesa Sanpaolo" and "Intesa Sanpaolo S.p.A." are one buyer
    assert acquirers[0][0].startswith("Intesa Sanpaolo") and acquirers[0][1:] == (2, 78.0, "2025-02-11")
    investors = view(con, "v_top_investors", "investor, n_deals, total_amount_eur")
    assert [(name.startswith("United Ventures"), n, total) for name, n, total in investors] == [
        (True, 2, 15e6),
        (False, 1, 320e6),
    ]
    assert investors[1][0] == "Tencent"


def test_most_funded_targets(con):
    assert view(con, "v_top_funded_targets", "target, n_rounds, total_raised_eur, last_round::VARCHAR") == [
        ("Satispay", 1, 320e6, "2025-03-03"),
        ("Alfa Robotics", 1, 10e6, "2025-04-02"),
        ("Beta Space Srl", 1, 5e6, "2025-04-20"),
    ]


def test_deals_by_sector_keyword(con):
    # Each deal's articles name one sector; ties are listed by sector name.
    assert view(con, "v_deals_by_sector", "sector, n_deals, round(total_amount_eur / 1e6)") == [
        ("cloud", 1, 30.0),
        ("cybersecurity", 1, 48.0),
        ("fintech", 1, 320.0),
        ("robotica", 1, 10.0),
        ("spazio/aerospazio", 1, 5.0),
    ]


def test_sector_keywords_respect_case_and_words(con):
    text_ai = article(
        "https://a.it/ai", "a.it", "2025-05-02T10:00:00", "Round per una startup di AI", "Modelli."
    )
    text_ai_prep = article(
        "https://a.it/ai2", "a.it", "2025-05-03T10:00:00", "Nuovi servizi ai clienti", "Banca."
    )
    store_and_cluster(con, [text_ai, text_ai_prep], {
        text_ai.url: [event("funding_round", None, "Neuralco")],
        text_ai_prep.url: [event("funding_round", None, "Bancaco")],
    })  # fmt: skip
    tagged = con.execute(
        "SELECT d.target FROM deal_sectors s JOIN deals d USING (deal_id) "
        "WHERE s.sector = 'intelligenza artificiale'"
    ).fetchall()
    assert tagged == [("Neuralco",)]  # "ai clienti" is an Italian preposition, not AI


def test_new_deals_since_the_last_run(con):
    late = article("https://a.it/new", "a.it", "2025-06-01T10:00:00")
    run_id = store_and_cluster(con, [late], {late.url: [event("ipo", None, "Newco")]})
    assert view(con, "v_new_deals", "target, run_id") == [("Newco", run_id)]


def test_deal_mentions_explain_the_merge(con):
    rows = view(con, "v_deal_mentions", "target, site, title, merge_reason")
    satispay = [r for r in rows if r[0] == "Satispay"]
    assert len(satispay) == 5 and {r[1] for r in satispay} == {"alpha.it", "beta.it", "gamma.it"}
    assert satispay[0][3] == "first mention: new deal" and satispay[0][2].startswith("Satispay chiude")


def test_every_view_answers_on_an_empty_warehouse(tmp_path):
    empty = open_warehouse(tmp_path / "empty.duckdb")
    for title, columns, rows in trend_tables(empty):
        assert columns and rows == [], title
    empty.close()


def test_trend_tables_are_the_main_views(con):
    tables = {title: (columns, rows) for title, columns, rows in trend_tables(con)}
    columns, rows = tables["Most funded targets"]
    assert columns == ["target", "n_rounds", "total_raised_eur", "last_round"] and rows[0][0] == "Satispay"
    assert len(tables["Deals per month by type (latest 12 months)"][1]) == 4


def test_list_deals_filters(con):
    columns, rows = list_deals(con, date(2025, 3, 1))
    target = columns.index("target")
    assert sorted(r[target] for r in rows) == ["Alfa Robotics", "Beta Space Srl", "Satispay"]
    assert len(list_deals(con, None, ["acquisition"])[1]) == 2
    assert len(list_deals(con, None, deal_type="acquisition")[1]) == 2
    assert sorted(r[target] for r in list_deals(con, None, None, 20e6)[1]) == [
        "Cyberlab",
        "Gamma Cloud",
        "Satispay",
    ]
    assert list_deals(con, timedelta(days=7))[1] == []  # the dataset is from 2025


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7d", timedelta(days=7)), ("2w", timedelta(days=14)), ("12h", timedelta(hours=12)),
     ("3m", timedelta(days=90)), ("2025-01-01", date(2025, 1, 1))],
)  # fmt: skip
def test_parse_since(text, expected):
    assert parse_since(text) == expected


def test_parse_since_rejects_nonsense():
    with pytest.raises(ValueError, match="7d"):
        parse_since("last tuesday")


def test_format_table_aligns_and_trims():
    text = format_table(["name", "amount"], [("x" * 80, 1234567.0), ("short", None)], max_width=20)
    lines = text.splitlines()
    assert lines[0].startswith("name") and set(lines[1]) <= {"-", " "}
    assert "x" * 19 + "…" in lines[2] and "1,234,567" in lines[2]
    assert max(len(line) for line in lines) <= 20 + 2 + len("1,234,567")
    assert "(no rows)" in format_table(["a"], [])


def test_chart_is_an_offline_page_a_browser_draws(con, tmp_path):
    path = write_trend_chart(con, tmp_path / "charts" / "deals.html")
    assert "<script src" not in path.read_text(encoding="utf-8")  # plotly.js inlined: no network needed
    with Page() as page:
        page.open(path.as_uri())
        page.wait_for("document.querySelectorAll('.js-plotly-plot .main-svg').length")
        bars = page.evaluate("document.querySelectorAll('#deals-per-month .barlayer .point path').length")
        months = page.evaluate(
            "[...document.querySelectorAll('#deals-per-month .xtick text')].map(t => t.textContent)"
        )
        errors = page.console_errors
    assert bars == 4  # one bar segment per (month, type)
    assert months == ["2025-01", "2025-02", "2025-03", "2025-04"] and errors == []
    with pytest.raises(ValueError, match="html"):
        write_trend_chart(con, tmp_path / "deals.png")


def test_parquet_export_is_readable_and_complete(con, tmp_path):
    folder = tmp_path / "parquet"
    written = export_parquet(con, folder)
    names = {p.stem for p in written}
    assert {
        "articles",
        "deal_events",
        "deals",
        "runs",
        "feed_state",
        "v_deals_per_month",
        "v_top_investors",
    } <= names
    assert "schema_version" not in names
    reader = duckdb.connect()
    assert (
        reader.execute(f"SELECT count(*) FROM read_parquet('{folder / 'deal_events.parquet'}')").fetchone()[0]
        == 10
    )
    parties = reader.execute(
        f"SELECT parties FROM read_parquet('{folder / 'deals.parquet'}') WHERE target = 'Satispay'"
    )
    assert parties.fetchone()[0] == ["Satispay", "Tencent"]
    reader.close()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no half-written leftovers
    export_parquet(con, folder)  # a second export replaces the files in place
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in written)
