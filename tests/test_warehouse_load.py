"""Writing runs, feed state, articles and events: batched, idempotent; re-extraction keeps deals right."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from test_warehouse_support import VERSION, article, event, load_dataset, store_and_cluster

from extractors.models import FeedResult, FeedSource
from warehouse.db import open_warehouse
from warehouse.load import (
    articles_for_reextraction,
    finish_run,
    known_companies,
    load_feed_states,
    replace_events,
    save_feed_states,
    seen_urls,
    start_run,
    store_articles,
)


@pytest.fixture
def con(tmp_path):
    connection = open_warehouse(tmp_path / "w.duckdb")
    yield connection
    connection.close()


def counts(con):
    return tuple(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("articles", "deal_events"))


def test_storing_the_same_night_twice_adds_nothing(con):
    articles, events = load_dataset()
    run_id = start_run(con, "nightly")
    first = store_articles(con, run_id, articles, events, VERSION)
    assert (first["articles_new"], first["events_new"]) == (9, 10)
    again = store_articles(con, start_run(con, "nightly"), articles, events, VERSION)
    assert (again["articles_new"], again["events_new"], again["articles_already_stored"]) == (0, 0, 9)
    assert counts(con) == (9, 10)
    assert seen_urls(con, [articles[0].url, "https://nowhere.it/x"]) == {articles[0].url}


def test_article_failing_transiently_is_not_stored_and_is_fetched_again(con):
    broken = replace(article("https://a.it/down", "a.it", "2025-01-01T00:00:00"), transient_failure=True)
    fine = article("https://a.it/ok", "a.it", "2025-01-01T00:00:00")
    stats = store_articles(con, start_run(con, "nightly"), [broken, fine], {}, VERSION)
    assert (stats["articles_new"], stats["articles_transient"]) == (1, 1)
    assert seen_urls(con, [broken.url, fine.url]) == {fine.url}


def test_a_failing_batch_stores_nothing(con):
    good = article("https://a.it/good", "a.it", "2025-01-01T00:00:00")
    bad_event = event("funding_round", "X", "Y")
    bad_event.deal_type = None  # violates NOT NULL: the whole batch must roll back
    with pytest.raises(Exception, match="NOT NULL"):
        store_articles(con, start_run(con, "nightly"), [good], {good.url: [bad_event]}, VERSION)
    assert counts(con) == (0, 0)


def test_event_rows_carry_the_article_site_date_and_eur_amount(con):
    articles, events = load_dataset()
    store_articles(con, start_run(con, "nightly"), articles, events, VERSION)
    row = con.execute(
        "SELECT site, published_at, amount, currency, amount_eur, extractor_version, parties, merge_reason "
        "FROM deal_events WHERE article_url = 'https://beta.it/intesa-cyberlab'"
    ).fetchone()
    site, published, amount, currency, amount_eur, version, parties, reason = row
    assert (site, str(published), amount, currency, version) == (
        "beta.it",
        "2025-01-15 09:00:00",
        54e6,
        "USD",
        VERSION,
    )
    assert 46e6 < amount_eur < 50e6 and parties == ["Intesa Sanpaolo", "Cyberlab"] and reason is None


def test_feed_state_keeps_validators_unless_freshly_fetched(con):
    source = FeedSource("Wired", "https://www.wired.it/feed/rss")
    save_feed_states(
        con, [FeedResult(source, "fetched", etag='"v1"', last_modified="Mon, 01 Jan 2025 00:00:00 GMT")]
    )
    save_feed_states(con, [FeedResult(source, "not_modified", http_status=304)])
    save_feed_states(con, [FeedResult(source, "failed", error="timeout")])
    state = load_feed_states(con)[source.url]
    assert (state.etag, state.last_modified) == ('"v1"', "Mon, 01 Jan 2025 00:00:00 GMT")
    status, error, ok_at = con.execute(
        "SELECT last_status, last_error, last_ok_at FROM feed_state"
    ).fetchone()
    assert (status, error) == ("failed", "timeout") and ok_at is not None
    save_feed_states(con, [FeedResult(source, "fetched", etag='"v2"')])
    assert load_feed_states(con)[source.url].etag == '"v2"'
    assert con.execute("SELECT last_error FROM feed_state").fetchone()[0] is None


def test_runs_record_status_and_stats(con):
    run_id = start_run(con, "nightly")
    finish_run(con, run_id, "ok", {"articles_new": 3, "feeds": {"failed": 1}})
    kind, status, stats, finished = con.execute(
        "SELECT kind, status, stats, finished_at FROM runs"
    ).fetchone()
    assert (kind, status, json.loads(stats)) == ("nightly", "ok", {"articles_new": 3, "feeds": {"failed": 1}})
    assert finished is not None
    with pytest.raises(ValueError, match="status"):
        finish_run(con, run_id, "great", {})
    with pytest.raises(ValueError, match="no run"):
        finish_run(con, "missing", "ok", {})


def test_reextraction_replaces_events_and_keeps_deals_consistent(con):
    articles, events = load_dataset()
    store_and_cluster(con, articles, events)
    url = "https://beta.it/satispay-commento"
    assert con.execute("SELECT amount FROM deal_events WHERE article_url = ?", [url]).fetchone()[0] == 320.5e6
    todo = articles_for_reextraction(con, date(2025, 3, 1), "test-2.0")
    assert [t[0] for t in todo] == [a.url for a in articles if a.published.date() >= date(2025, 3, 1)]
    # The new extractor reads this article as a round in another company: Satispay's deal loses a mention.
    stats = replace_events(
        con, url, [event("funding_round", "Tencent", "Zeta Pay")], "test-2.0", run_id="re-1"
    )
    assert (stats["events_removed"], stats["events_new"]) == (1, 1)
    rows = con.execute(
        "SELECT extractor_version, target, deal_id FROM deal_events WHERE article_url = ?", [url]
    )
    version, target, deal_id = rows.fetchone()
    assert (version, target) == ("test-2.0", "Zeta Pay") and deal_id is not None
    assert con.execute("SELECT n_mentions, n_sources FROM deals WHERE target = 'Satispay'").fetchone() == (
        4,
        3,
    )
    assert con.execute("SELECT n_mentions FROM deals WHERE deal_id = ?", [deal_id]).fetchone() == (1,)
    assert url not in [t[0] for t in articles_for_reextraction(con, None, "test-2.0")]


def test_reextraction_that_finds_nothing_drops_an_orphan_deal(con):
    only = article("https://a.it/only", "a.it", "2025-01-01T00:00:00")
    store_and_cluster(con, [only], {only.url: [event("acquisition", "Acme", "Foo")]})
    replace_events(con, only.url, [], "test-2.0")
    assert con.execute("SELECT count(*) FROM deals").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM deal_events").fetchone()[0] == 0


def test_versions_compare_by_their_numbers(con):
    a = article("https://a.it/v", "a.it", "2025-01-01T00:00:00")
    store_articles(con, start_run(con, "nightly"), [a], {a.url: []}, "0.9")
    assert articles_for_reextraction(con, None, "0.10") == [(a.url, "", "testo")]
    assert articles_for_reextraction(con, None, "0.9") == []


def test_known_companies_lists_names_most_mentioned_first(con):
    articles, events = load_dataset()
    store_articles(con, start_run(con, "nightly"), articles, events, VERSION)
    names = known_companies(con)
    assert names[0] == "Satispay"
    assert {"Tencent", "Intesa Sanpaolo", "Gamma Cloud", "Oldco"} <= set(names)
    assert len(names) == len(set(names))
