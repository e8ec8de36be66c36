"""The host pipeline hands pages to deal extraction as they arrive (batches of whatever is ready, at most
`batch_size`), and a run's extraction worker ends with the run. What a user sees: the same events
whatever the batching, and no 200 MB process left behind."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest
from fixtures.flow.sites import serve_demo_site, write_config
from support.db import rows

from flows.nightly import run_nightly

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]

EVENTS = "SELECT article_url, deal_type, acquirer, target, amount, stake_pct FROM deal_events ORDER BY ALL"


def extraction_workers() -> list[psutil.Process]:
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if any("spawn_main" in part for part in child.cmdline())
    ]


def test_one_article_per_batch_stores_the_same_events_as_big_batches(tmp_path: Path) -> None:
    with serve_demo_site(0, "127.0.0.1") as site:
        feeds = [{"name": "TechEconomy", "url": site.feed_url}]
        summaries = {}
        for size in (1, 32):
            folder = tmp_path / f"batch{size}"
            folder.mkdir()
            config = write_config(folder, feeds, extraction={"batch_size": size})
            summaries[size] = run_nightly(config, extraction_process=False)
    assert summaries[1]["articles_new"] == summaries[32]["articles_new"] == site.n_articles
    assert summaries[1]["deal_events"] == summaries[32]["deal_events"] > 0
    assert not summaries[1]["errors"]
    assert rows(tmp_path / "batch1" / "wh" / "dealradar.duckdb", EVENTS) == rows(
        tmp_path / "batch32" / "wh" / "dealradar.duckdb", EVENTS
    )


def test_the_extraction_worker_ends_with_the_run_and_its_version_is_stored(tmp_path: Path) -> None:
    with serve_demo_site(1, "127.0.0.2") as site:
        config = write_config(tmp_path, [{"name": "StartupNews", "url": site.feed_url}])
        summary = run_nightly(config, extraction_process=True)
    db = tmp_path / "wh" / "dealradar.duckdb"
    assert summary["deal_events"] == rows(db, "SELECT count(*) FROM deal_events")[0][0] > 0
    versions = rows(db, "SELECT DISTINCT extractor_version FROM articles WHERE skip_reason IS NULL")
    assert len(versions) == 1 and versions[0][0].startswith("deals-")
    assert extraction_workers() == []


def test_page_text_and_extraction_run_in_the_configured_worker_processes_and_the_summary_says_where_time_went(
    tmp_path: Path,
) -> None:
    from flows.report import format_summary

    with serve_demo_site(1, "127.0.0.2") as site:
        feeds = [{"name": "StartupNews", "url": site.feed_url}]
        config = write_config(tmp_path, feeds, extraction={"workers": 2})
        summary = run_nightly(config, extraction_process=True)
    cpu, stages = summary["cpu"], summary["stage_s"]
    assert summary["articles_new"] == site.n_articles and summary["deal_events"] > 0
    assert cpu["workers"] == 2 and cpu["workers_s"] > 0 and 0 < cpu["utilisation_pct"] <= 100
    assert list(stages) == [
        "fetch feeds", "fetch pages", "page text", "deal extraction", "warehouse", "alerts"
    ]  # fmt: skip
    assert stages["page text"] > 0 and stages["deal extraction"] > 0 and stages["warehouse"] > 0
    text = format_summary(summary)
    assert "page text" in text and "busy, in 2 worker processes" in text and "% used" in text
    assert extraction_workers() == []


def test_more_workers_than_cores_are_capped_and_the_runs_timings_are_queryable_with_sql(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from flows.extraction import usable_cores

    with serve_demo_site(1, "127.0.0.2") as site:
        feeds = [{"name": "StartupNews", "url": site.feed_url}]
        config = write_config(tmp_path, feeds, extraction={"workers": 64})
        with caplog.at_level("WARNING", logger="flows.extraction"):
            summary = run_nightly(config, extraction_process=True)
    assert summary["cpu"]["workers"] == usable_cores() < 64
    assert any("extraction.workers is 64" in r.getMessage() for r in caplog.records)
    db = tmp_path / "wh" / "dealradar.duckdb"
    (stored,) = rows(db, f"""SELECT json_extract(stats, '$.stage_s."deal extraction"')::DOUBLE,
                                    json_extract(stats, '$.cpu.workers')::INT,
                                    json_extract(stats, '$.elapsed_s')::DOUBLE
                             FROM runs WHERE run_id = '{summary["run_id"]}'""")  # fmt: skip
    assert stored == (summary["stage_s"]["deal extraction"], usable_cores(), summary["elapsed_s"])
    assert stored[0] > 0 and stored[2] > 0
    assert extraction_workers() == []
