"""Warehouse benchmark: append + cluster 10,000 events, then time each trend view on 100,000 events.

    .venv/bin/python benchmarks/warehouse.py [--events 10000] [--big 100000] [--keep DIR]

Synthetic but realistic data: deals reported by 1-6 articles from a dozen sites over a few weeks, company
names with legal-form variants ("Foo S.p.A." / "Foo"), rumour -> announced -> completed progressions,
amounts in EUR/USD/GBP, ~1 kB of Italian text per article with sector words. Targets (issue 4): appending
and clustering 10,000 events takes seconds; each trend view answers in under 100 ms on 100,000 events.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extractors.models import Article, DealEvent  # noqa: E402
from warehouse.cluster import cluster_new_events  # noqa: E402
from warehouse.db import open_warehouse  # noqa: E402
from warehouse.load import finish_run, start_run, store_articles  # noqa: E402

SITES = [
    f"{name}.it"
    for name in ["sole", "corriere", "repubblica", "wired", "startupitalia", "economyup", "punto", "ai4b",
                 "agenda", "ansa", "corcom", "innovation"]
]  # fmt: skip
SYLLABLES = ["ka", "lo", "mi", "ne", "ro", "sa", "ti", "va", "ze", "bu", "di", "fo", "gu", "pe", "ri", "so"]
LEGAL = ["", "", " S.p.A.", " Srl", " SpA", " S.r.l."]
SECTOR_WORDS = [
    "fintech e pagamenti digitali", "intelligenza artificiale", "cybersecurity", "cloud e data center",
    "semiconduttori", "telecomunicazioni e fibra ottica", "e-commerce", "mobilità elettrica",
    "energia rinnovabile", "medtech", "aerospazio e satelliti", "videogiochi", "robotica",
]  # fmt: skip
FILLER = (
    "L'operazione rientra in un piano di crescita che prevede nuove assunzioni e l'espansione all'estero. "
    "Secondo gli analisti il mercato italiano resta frammentato e le aggregazioni continueranno. "
    "La società, fondata pochi anni fa, conta clienti in tutta Europa e punta a consolidare la posizione. "
)
TYPES = ["acquisition"] * 3 + ["funding_round"] * 4 + ["investment", "partnership", "merger", "ipo", "exit"]


def company(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize() + rng.choice(
        ["", " Tech", " Group", " Labs", " Italia", ""]
    )


def synthetic_batch(rng: random.Random, n_events: int, start: datetime, tag: str, companies: list[str]):
    """Articles (one event each) for deals of 1-6 mentions, from `start` on."""
    articles, events_by_url = [], {}
    made = 0
    deal_no = 0
    while made < n_events:
        deal_no += 1
        deal_type = rng.choice(TYPES)
        target, acquirer = rng.sample(companies, 2)
        amount = rng.choice([None, round(rng.uniform(0.5, 500), 1) * 1e6])
        currency = rng.choice(["EUR"] * 6 + ["USD", "GBP"]) if amount else None
        day0 = start + timedelta(days=rng.uniform(0, 360), hours=rng.uniform(0, 24))
        sector = rng.choice(SECTOR_WORDS)
        statuses = ["rumor", "announced", "completed"]
        for mention in range(min(rng.choice([1, 1, 2, 2, 3, 4, 6]), n_events - made)):
            site = rng.choice(SITES)
            url = f"https://{site}/{tag}/{deal_no}/{mention}"
            published = day0 + timedelta(days=mention * rng.uniform(0, 6))
            status = statuses[min(mention, 2)] if rng.random() < 0.3 else "announced"
            title = f"{acquirer} e {target}: accordo nel settore {sector}"
            text = f"{title}. " + FILLER * 3 + f" Il comparto {sector} è in crescita."
            articles.append(
                Article(
                    url=url,
                    final_url=url,
                    site=site,
                    feed_name=site,
                    feed_url=f"https://{site}/feed",
                    title=title,
                    author=None,
                    published=published,
                    text=text,
                    language="it",
                    extraction="page",
                    fetched_at=published,
                )  # fmt: skip
            )
            events_by_url[url] = [
                DealEvent(
                    deal_type=deal_type,
                    acquirer=acquirer + rng.choice(LEGAL),
                    target=target + rng.choice(LEGAL),
                    parties=[target, acquirer],
                    amount=amount,
                    currency=currency,
                    status=status,
                    evidence=title,
                    stake_pct=rng.choice([None, 100.0, 30.0]),
                    confidence=0.8,
                )  # fmt: skip
            ]
            made += 1
    return articles, events_by_url


def append_and_cluster(path: Path, articles, events_by_url) -> tuple[float, float, dict]:
    con = open_warehouse(path, lock_timeout_s=0)
    try:
        run_id = start_run(con, "benchmark")
        began = time.perf_counter()
        store_articles(con, run_id, articles, events_by_url, "bench-1")
        stored = time.perf_counter()
        stats = cluster_new_events(con, run_id)
        clustered = time.perf_counter()
        finish_run(con, run_id, "ok", stats)
    finally:
        con.close()
    return stored - began, clustered - stored, stats


# How each view is read: the trend views whole; the mention listing the way it is used, for one deal.
VIEW_QUERIES = {
    view: f"SELECT * FROM {view}"
    for view in [
        "v_deals_per_week", "v_deals_per_month", "v_amount_by_month", "v_top_acquirers", "v_top_investors",
        "v_top_funded_targets", "v_deals_by_sector", "v_new_deals",
    ]
} | {
    "v_deal_mentions (one deal)":
        "SELECT * FROM v_deal_mentions "
        "WHERE deal_id = (SELECT deal_id FROM deals ORDER BY n_mentions DESC LIMIT 1)",
    "v_deal_mentions (count all)": "SELECT count(*) FROM v_deal_mentions",
    # Fetching 100,000 rows into Python tuples: mostly the cost of building them, not of the query.
    "v_deal_mentions (fetch all)": "SELECT * FROM v_deal_mentions",
}  # fmt: skip


def time_views(path: Path) -> dict[str, tuple[float, int]]:
    con = open_warehouse(path, read_only=True, lock_timeout_s=0)
    timings = {}
    try:
        for view, sql in VIEW_QUERIES.items():
            best, rows = float("inf"), 0
            for _ in range(5):
                began = time.perf_counter()
                rows = len(con.execute(sql).fetchall())
                best = min(best, time.perf_counter() - began)
            timings[view] = (best * 1000, rows)
    finally:
        con.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the warehouses in")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="dealradar-bench-"))
    rng = random.Random(42)
    companies = [company(rng) for _ in range(4000)]
    start = datetime(2024, 1, 1, tzinfo=UTC)

    small = folder / "append.duckdb"
    articles, events = synthetic_batch(rng, args.events, start, "a", companies)
    store_s, cluster_s, stats = append_and_cluster(small, articles, events)
    print(f"append {args.events:,} events: store {store_s:.2f} s, cluster {cluster_s:.2f} s -> {stats}")
    more, more_events = synthetic_batch(rng, 1000, start + timedelta(days=200), "b", companies)
    store_s, cluster_s, stats = append_and_cluster(small, more, more_events)
    print(
        f"next night, 1,000 more events on top: store {store_s:.2f} s, cluster {cluster_s:.2f} s -> {stats}"
    )

    big = folder / "big.duckdb"
    total_store = total_cluster = 0.0
    batch = 10_000
    for i in range(0, args.big, batch):
        articles, events = synthetic_batch(rng, min(batch, args.big - i), start, f"n{i}", companies)
        store_s, cluster_s, _ = append_and_cluster(big, articles, events)
        total_store, total_cluster = total_store + store_s, total_cluster + cluster_s
    print(
        f"built {args.big:,} events in nightly batches of {batch:,}: "
        f"store {total_store:.1f} s, cluster {total_cluster:.1f} s"
    )
    for view, (ms, rows) in time_views(big).items():
        flag = "" if ms < 100 else "  (over 100 ms)"
        print(f"  {view:<28} {ms:7.1f} ms  {rows:>7,} rows{flag}")
    if not args.keep:
        print(f"(warehouses in {folder}; delete when done)")


if __name__ == "__main__":
    main()
