"""`dealradar reextract`: events of articles extracted by an older extractor are replaced, nothing is
refetched, and articles already at the current version are left alone."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from fixtures.flow.sites import serve_demo_site, write_config

from extractors.deals import EXTRACTOR_VERSION
from flows.cli import main
from flows.nightly import nightly

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]


def query(db: Path, sql: str, read_only: bool = True) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=read_only)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_reextract_replaces_old_version_events_without_refetching(tmp_path: Path) -> None:
    with serve_demo_site(0, "127.0.0.1") as site:
        config = write_config(tmp_path, [{"name": "TechEconomy", "url": site.feed_url}])
        nightly(str(config))
        requests_after_run = len(site.requests)
    db = tmp_path / "wh" / "dealradar.duckdb"
    before = query(db, "SELECT article_url, deal_type FROM deal_events ORDER BY ALL")
    # Pretend an older extractor produced the events of all but one article, and a wrong extra event.
    query(
        db, "UPDATE articles SET extractor_version = 'deals-0.1' WHERE url NOT LIKE '%copertura-5g%'", False
    )
    query(db, "UPDATE deal_events SET extractor_version = 'deals-0.1'", False)
    stale = query(db, "SELECT count(*) FROM articles WHERE extractor_version = 'deals-0.1'")[0][0]

    result = CliRunner().invoke(main, ["reextract", "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"re-extracted {stale} articles with extractor {EXTRACTOR_VERSION}" in result.output
    assert len(site.requests) == requests_after_run  # (the server is down by now anyway: nothing refetched)
    assert query(db, "SELECT DISTINCT extractor_version FROM articles WHERE skip_reason IS NULL") == [
        (EXTRACTOR_VERSION,)
    ]
    after = query(db, "SELECT article_url, deal_type, extractor_version FROM deal_events ORDER BY ALL")
    assert [(u, t) for u, t, _ in after] == before
    assert {v for _, _, v in after} == {EXTRACTOR_VERSION}
    assert query(db, "SELECT count(*) FROM deal_events WHERE deal_id IS NULL AND merge_reason IS NULL") == [
        (0,)
    ]

    again = CliRunner().invoke(main, ["reextract", "--config", str(config), "--since", "30d"])
    assert again.exit_code == 0 and "re-extracted 0 articles" in again.output
