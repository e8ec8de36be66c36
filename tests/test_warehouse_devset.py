"""Clustering the gold events of the shared dev set (../shared/deals): real outlets reporting the same deals.

Reads the shared files at test time (nothing from them is copied into the repository); skipped without them.
Required gold events are stored as news, optional ones as background mentions.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from conftest import SHARED_DEALS
from test_warehouse_support import store_and_cluster

from extractors.models import Article, DealEvent
from warehouse.db import open_warehouse

DEV = SHARED_DEALS / "dev.jsonl"
pytestmark = pytest.mark.skipif(not DEV.exists(), reason="../shared/deals/dev.jsonl is not available")
EVENT_FIELDS = set(DealEvent.__dataclass_fields__)


def _date(text: str | None) -> datetime:
    parts = [int(p) for p in (text or "2020").split("-")] + [1, 1]
    return datetime(parts[0], parts[1], parts[2], tzinfo=UTC)


@pytest.fixture(scope="module")
def deals(tmp_path_factory):
    articles, events = [], {}
    for line in DEV.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        url = f"https://dev.example/{item['id']}"
        articles.append(
            Article(
                url=url,
                final_url=url,
                site=item.get("site") or "unknown",
                feed_name=None,
                feed_url=None,
                title=item["title"],
                author=None,
                published=_date(item.get("date")),
                text=item["text"],
                language="it",
                extraction="page",
            )  # fmt: skip
        )
        events[url] = [
            DealEvent(**{k: v for k, v in e.items() if k in EVENT_FIELDS}, background=not e["required"])
            for e in item["events"]
        ]
    con = open_warehouse(tmp_path_factory.mktemp("dev") / "w.duckdb")
    store_and_cluster(con, articles, events)
    rows = con.execute(
        "SELECT target, deal_type, acquirer, amount, status, n_mentions, n_sources FROM deals"
    ).fetchall()
    con.close()
    by_target: dict[str, list[tuple]] = {}
    for row in rows:
        by_target.setdefault(row[0], []).append(row[1:])
    return by_target


def test_five_outlets_on_one_round_make_one_deal(deals):
    # Five outlets on the same Satispay round; their side mentions of single investors' stakes join it.
    assert deals["Satispay"] == [("funding_round", None, 68e6, "announced", 5, 5)]


def test_rumour_and_completion_of_one_acquisition_merge(deals):
    assert deals["Slack"] == [("acquisition", "Salesforce", 27.7e9, "completed", 2, 2)]


def test_same_deal_from_two_sites_merges(deals):
    assert [(d[0], d[4], d[5]) for d in deals["StartupItalia"]] == [("funding_round", 2, 2)]
    assert [(d[0], d[4]) for d in deals["Evernote"]] == [("acquisition", 2)]
    assert [(d[0], d[4]) for d in deals["Groq"]] == [("acquisition", 2)]


def test_different_deals_on_one_company_stay_apart(deals):
    # Exprivia: an acquisition in 2023 and a merger in 2024 by different vehicles.
    assert sorted(d[0] for d in deals["Exprivia"]) == ["acquisition", "merger"]
    # Bending Spoons raises money and, separately, buys companies.
    assert [d[0] for d in deals["Bending Spoons"]] == ["funding_round"]
    assert "AOL" in deals and "Eventbrite" in deals


def test_background_mentions_make_no_deal(deals):
    assert "Meetup" not in deals and "WeTransfer" not in deals and "Tableau" not in deals
