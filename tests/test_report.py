"""`dealradar report`: the page an analyst opens, checked in a real headless Chromium with no network."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures.flow.sites import write_config
from PIL import Image
from support.browser import Page, chromium_binary
from support.db import rows
from test_warehouse_support import article, event, load_dataset, store_and_cluster

from flows.cli import main
from warehouse.db import open_warehouse
from warehouse.report import FIGURE_KEYS

HOSTILE = '<img src=x onerror="console.error(1)">Evil & Co</script><script>console.error(2)</script>'
CHARTS = ".js-plotly-plot .main-svg"


@pytest.fixture(scope="module")
def warehouse_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    config = write_config(folder, [])
    con = open_warehouse(folder / "wh" / "dealradar.duckdb")
    try:
        articles, events = load_dataset()
        hostile = article("https://gamma.it/evil", "gamma.it", "2025-04-20T10:00:00", "Evil & Co raccoglie")
        articles.append(hostile)
        events[hostile.url] = [event("funding_round", None, HOSTILE, amount=2_000_000, currency="EUR")]
        store_and_cluster(con, articles, events)
    finally:
        con.close()
    return config


def write_report(config: Path, out: Path) -> Path:
    result = CliRunner().invoke(main, ["report", "--config", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"report written to {out}" in result.output
    return out


def test_report_renders_offline_with_every_chart_and_the_deals_table(warehouse_config: Path, tmp_path: Path):
    assert chromium_binary(), "headless Chromium is needed: apt-get install chromium (.ci/run does it)"
    page_file = write_report(warehouse_config, tmp_path / "out" / "report.html")
    db = warehouse_config.parent / "wh" / "dealradar.duckdb"
    with Page(width=1400) as page:
        page.open(page_file.as_uri())
        n_charts = page.wait_for(f"document.querySelectorAll('{CHARTS}').length >= {len(FIGURE_KEYS)} && "
                                 f"document.querySelectorAll('{CHARTS}').length")  # fmt: skip
        drawn = page.evaluate(
            "[...document.querySelectorAll('.js-plotly-plot')].map(p => [p.id, p.querySelectorAll("
            "'.barlayer .point path').length])"
        )
        table_ids = page.evaluate(
            "[...document.querySelectorAll('table.deals tbody tr')].map(r => r.dataset.dealId)"
        )
        links = page.evaluate("[...document.querySelectorAll('table.deals a')].map(a => a.href)")
        cells = page.evaluate("[...document.querySelectorAll('table.deals td')].map(td => td.textContent)")
        screenshot = page.screenshot(tmp_path / "report.png")
        errors = page.console_errors

    assert n_charts >= 5
    assert {key for key, bars in drawn if bars > 0} == set(FIGURE_KEYS), drawn  # every chart has its bars
    deals = rows(db, "SELECT deal_id FROM deals ORDER BY last_seen DESC, deal_id")
    assert table_ids == [d for (d,) in deals]
    sources = rows(db, "SELECT DISTINCT article_url FROM deal_events WHERE deal_id IS NOT NULL")
    assert {url for (url,) in sources} == set(links)  # a link to every source article
    assert HOSTILE in cells  # shown as text, never run as markup
    assert errors == []

    image = Image.open(screenshot).convert("RGB")
    assert image.width == 1400 and image.height > 1500
    colours = image.getcolors(maxcolors=1 << 20) or []
    most_common_share = max(count for count, _ in colours) / (image.width * image.height)
    assert len(colours) > 50 and most_common_share < 0.95  # not a blank page
    funding_green = (0x2C, 0xA0, 0x2C)  # the funding-round bars, drawn as pixels
    assert any(rgb == funding_green and count > 500 for count, rgb in colours)


def test_report_needs_no_network_and_keeps_links_out_of_scripts(warehouse_config: Path, tmp_path: Path):
    page = write_report(warehouse_config, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script src" not in page and "<link" not in page and "cdn.plot.ly" not in page.split("<body>")[1]
    assert page.count("Plotly.newPlot") == len(FIGURE_KEYS)
    assert HOSTILE not in page and "&lt;img src=x" in page


def test_report_of_an_empty_warehouse_says_so(tmp_path: Path):
    config = write_config(tmp_path, [])
    open_warehouse(tmp_path / "wh" / "dealradar.duckdb").close()
    page = write_report(config, tmp_path / "empty.html").read_text(encoding="utf-8")
    assert "No deals yet." in page and page.count("no deals yet") == len(FIGURE_KEYS)
    bad = CliRunner().invoke(main, ["report", "--config", str(config), "--out", str(tmp_path / "r.png")])
    assert bad.exit_code == 1 and ".html" in bad.output
