"""`dealradar demo`: the real nightly flow, offline, against bundled Italian sample sites.

The sites (flows/demo_site/) are served from loopback addresses in this process; a demo config pointing
at them (private addresses allowed, as they are local) is written next to the demo warehouse.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from flows.demo_pages import load_sites, render_site
from flows.demo_server import LoopbackSites, loopback_hosts

Echo = Callable[[str], None]


def demo_config(feeds: list[dict[str, str]]) -> dict[str, Any]:
    """The demo's config.yaml content (paths relative to the demo folder)."""
    return {
        "feeds": feeds,
        "warehouse": {"path": "dealradar.duckdb", "parquet_dir": "parquet", "lock_timeout_s": 30},
        "fetch": {
            "allow_private_addresses": True,  # the sample sites live on 127.x
            "connect_timeout_s": 5,
            "read_timeout_s": 10,
            "total_timeout_s": 20,
            "retries": 1,
            "retry_backoff_s": 0.2,
        },
        "alerts": {"urls": []},
    }


DEMO_PORT = 8631  # same URLs on every demo run, so a second run finds nothing new (304s)


def start_sites(
    sites: list[dict[str, Any]], latency_s: float = 0.0, port: int = 0
) -> tuple[LoopbackSites, list[dict]]:
    """Serve each sample site on its own loopback host; returns the server and the feeds to configure."""
    server = LoopbackSites(loopback_hosts(len(sites)), latency_s=latency_s, port=port)
    feeds = []
    for i, site in enumerate(sites):
        base = server.base_url(i)
        server.set_pages(i, render_site(site, base))
        feeds.append({"name": site["name"], "url": base + site["feed_path"]})
    return server, feeds


def write_demo_config(data_dir: Path, feeds: list[dict[str, str]]) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "config.yaml"
    header = (
        "# Written by `dealradar demo`: the feeds are served by the demo itself, on loopback addresses.\n"
    )
    path.write_text(header + yaml.safe_dump(demo_config(feeds), sort_keys=False, allow_unicode=True), "utf-8")
    return path


def run_demo(data_dir: Path, echo: Echo = print) -> dict[str, Any]:
    """Serve the sample sites, run the nightly flow against them, print the summary and the deals."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")  # the demo prints its own summary
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # offline: no telemetry
    from flows.nightly import run_nightly
    from flows.report import format_summary

    sites = load_sites()
    server, feeds = start_sites(sites, port=DEMO_PORT)
    with server:
        config_path = write_demo_config(data_dir, feeds)
        echo(f"Serving {len(sites)} sample Italian news sites on " + ", ".join(f["url"] for f in feeds))
        echo(f"Running the nightly flow with {config_path} (first start of Prefect takes a few seconds)...")
        summary = run_nightly(config_path)
    echo("")
    echo(format_summary(summary))
    _print_deals(data_dir, config_path, echo)
    return summary


def _print_deals(data_dir: Path, config_path: Path, echo: Echo) -> None:
    from flows.output import print_table
    from warehouse.db import query_readonly

    columns, rows = query_readonly(
        data_dir / "dealradar.duckdb",
        """SELECT deal_type, acquirer, target, amount, currency, stake_pct, status, n_sources
           FROM deals ORDER BY first_seen DESC, deal_type""",
    )
    echo(f"\nDeals in the demo warehouse ({len(rows)}):")
    print_table(columns, rows)
    echo(
        "\nQuery them yourself:\n"
        f'  dealradar sql --config {config_path} "SELECT * FROM deals"\n'
        f"  dealradar deals --config {config_path} --since 30d\n"
        f"  duckdb {data_dir / 'dealradar.duckdb'}   (DuckDB CLI)\n"
        f"  Parquet copies of the tables: {data_dir / 'parquet'}"
    )
