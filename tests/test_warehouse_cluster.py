"""Clustering deal events into deals, on real DuckDB files."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_warehouse_support import article, event, load_dataset, store_and_cluster

from extractors.names import normalise_name, without_legal_form, written_at
from warehouse.cluster import BACKGROUND_REASON
from warehouse.db import open_warehouse


@pytest.fixture
def con(tmp_path):
    connection = open_warehouse(tmp_path / "w.duckdb")
    yield connection
    connection.close()


def deals(con):
    cols = "deal_id, deal_type, acquirer, target, amount, currency, status, n_mentions, n_sources, revision"
    rows = con.execute(f"SELECT {cols} FROM deals ORDER BY first_seen").fetchall()
    return [dict(zip(cols.split(", "), row, strict=True)) for row in rows]


def test_five_articles_from_three_sites_make_one_deal(con):
    articles, events = load_dataset()
    store_and_cluster(con, articles, events)
    satispay = [d for d in deals(con) if d["target"] and normalise_name(d["target"]) == "satispay"]
    assert len(satispay) == 1
    deal = satispay[0]
    assert (deal["n_mentions"], deal["n_sources"]) == (5, 3)
    # 320 M stated four times beats the single 320.5 M; the most frequent spelling names the deal.
    assert (deal["amount"], deal["currency"], deal["target"], deal["acquirer"]) == (
        320e6,
        "EUR",
        "Satispay",
        "Tencent",
    )
    reasons = con.execute(
        "SELECT merge_reason FROM deal_events WHERE deal_id = ? ORDER BY published_at", [deal["deal_id"]]
    ).fetchall()
    assert reasons[0][0] == "first mention: new deal"
    assert all(r[0].startswith("same target 'satispay' + type funding_round within") for r in reasons[1:])


def test_background_mention_is_stored_but_makes_no_deal(con):
    articles, events = load_dataset()
    store_and_cluster(con, articles, events)
    row = con.execute("SELECT deal_id, merge_reason FROM deal_events WHERE target = 'Oldco'").fetchone()
    assert row == (None, BACKGROUND_REASON)
    assert not [d for d in deals(con) if d["target"] == "Oldco"]


def test_rumour_then_signing_updates_status_and_bumps_revision(con):
    rumour = article("https://a.it/1", "a.it", "2025-05-01T10:00:00")
    signing = article("https://b.it/2", "b.it", "2025-06-20T10:00:00")
    first_run = store_and_cluster(
        con, [rumour], {rumour.url: [event("acquisition", "Poste Italiane", "Nexi Digital", status="rumor")]}
    )
    before = deals(con)
    assert [(d["status"], d["revision"]) for d in before] == [("rumor", 1)]
    second_run = store_and_cluster(
        con,
        [signing],
        {
            signing.url: [
                event(
                    "acquisition",
                    "Poste Italiane SpA",
                    "Nexi Digital",
                    status="announced",
                    amount=1.2e9,
                    currency="EUR",
                )
            ]
        },
    )
    after = deals(con)
    assert len(after) == 1
    assert (after[0]["status"], after[0]["amount"], after[0]["revision"], after[0]["n_sources"]) == (
        "announced",
        1.2e9,
        2,
        2,
    )
    runs = con.execute("SELECT created_run_id, updated_run_id FROM deals").fetchone()
    assert runs == (first_run, second_run)
    # A later mention that changes nothing keeps the revision (alerts key on it).
    repeat = article("https://c.it/3", "c.it", "2025-06-22T10:00:00")
    store_and_cluster(
        con,
        [repeat],
        {
            repeat.url: [
                event(
                    "acquisition",
                    "Poste Italiane",
                    "Nexi Digital",
                    status="announced",
                    amount=1.2e9,
                    currency="EUR",
                )
            ]
        },
    )
    assert [(d["revision"], d["n_mentions"]) for d in deals(con)] == [(2, 3)]


def test_two_deals_sharing_one_party_stay_apart(con):
    articles, events = load_dataset()
    store_and_cluster(con, articles, events)
    united = [d for d in deals(con) if d["acquirer"] and d["acquirer"].startswith("United Ventures")]
    assert sorted(d["target"] for d in united) == ["Alfa Robotics", "Beta Space Srl"]
    # Same company, different kind of deal: Satispay's round and an acquisition by Satispay stay apart too.
    later = article("https://a.it/satispay-buys", "a.it", "2025-03-20T10:00:00")
    store_and_cluster(con, [later], {later.url: [event("acquisition", "Satispay", "Paymentco")]})
    targets = [d["target"] for d in deals(con) if d["target"] in ("Satispay", "Paymentco")]
    assert sorted(targets) == ["Paymentco", "Satispay"]


def test_rival_bidders_for_one_target_stay_apart(con):
    a = article("https://a.it/bid1", "a.it", "2025-02-01T10:00:00")
    b = article("https://b.it/bid2", "b.it", "2025-02-03T10:00:00")
    bids = {
        a.url: [event("acquisition", "UniCredit", "Banca Beta", status="rumor")],
        b.url: [event("acquisition", "BPER", "Banca Beta", status="rumor")],
    }
    store_and_cluster(con, [a, b], bids)
    assert sorted(d["acquirer"] for d in deals(con)) == ["BPER", "UniCredit"]


def test_same_target_months_apart_is_a_new_round(con):
    first = article("https://a.it/r1", "a.it", "2023-01-10T10:00:00")
    second = article("https://a.it/r2", "a.it", "2025-01-10T10:00:00")
    store_and_cluster(
        con, [first], {first.url: [event("funding_round", "P101", "Tannico", amount=5e6, currency="EUR")]}
    )
    store_and_cluster(
        con, [second], {second.url: [event("funding_round", "P101", "Tannico", amount=9e6, currency="EUR")]}
    )
    assert sorted(d["amount"] for d in deals(con)) == [5e6, 9e6]


def test_incremental_run_only_touches_new_events_and_their_deals(con):
    articles, events = load_dataset()
    store_and_cluster(con, articles, events)
    untouched = con.execute("SELECT deal_id, updated_at FROM deals WHERE target = 'Gamma Cloud'").fetchone()
    late = article("https://delta.it/satispay-late", "delta.it", "2025-03-25T10:00:00")
    run_id = store_and_cluster(
        con, [late], {late.url: [event("funding_round", "Tencent", "Satispay", amount=320e6, currency="EUR")]}
    )
    assert (
        con.execute("SELECT deal_id, updated_at FROM deals WHERE target = 'Gamma Cloud'").fetchone()
        == untouched
    )
    satispay = con.execute(
        "SELECT n_mentions, n_sources, updated_run_id, revision FROM deals WHERE target = 'Satispay'"
    ).fetchone()
    assert satispay == (6, 4, run_id, 1)


def test_amounts_in_other_currencies_get_an_eur_value(con):
    articles, events = load_dataset()
    store_and_cluster(con, articles, events)
    usd, eur = con.execute("SELECT amount, amount_eur FROM deals WHERE target = 'Cyberlab'").fetchone()
    assert usd == 54e6 and 46e6 < eur < 50e6  # 2025 average: about 1.13 USD per EUR
    assert con.execute("SELECT amount_eur FROM deal_events WHERE target = 'Cyberlab'").fetchone()[0] == eur


def test_event_without_any_company_is_marked_not_clustered(con):
    a = article("https://a.it/anon", "a.it", datetime(2025, 1, 1))
    store_and_cluster(con, [a], {a.url: [event("funding_round", None, None, parties=[])]})
    assert con.execute("SELECT deal_id, merge_reason FROM deal_events").fetchone() == (
        None,
        "no company named: not clustered",
    )
    assert deals(con) == []


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("Satispay S.p.A.", "satispay"),
        ("SATISPAY SpA", "satispay"),
        ("Società Cattolica, S.r.l.", "societa cattolica"),
        ("Musixmatch Srl SB", "musixmatch"),
        ("Apple Inc.", "apple"),
        ("Procter & Gamble Co.", "procter and gamble"),
        ("  Cassa   Depositi e Prestiti ", "cassa depositi e prestiti"),
        ("S.p.A.", "spa"),
        (None, ""),
    ],
)
def test_names_are_normalised(raw, normal):
    assert normalise_name(raw) == normal


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("Alfa Sistemi S.p.A.", "Alfa Sistemi"),
        ("Beta Costruzioni S.a.p.A.", "Beta Costruzioni"),
        ("Gamma Servizi, S.r.l.s.", "Gamma Servizi"),
        ("Delta Holdings Limited", "Delta Holdings"),
        ("Epsilon S.a.s.", "Epsilon"),
        ("Zeta Spa", "Zeta"),
        ("S.p.A.", "S.p.A"),  # nothing but a form: kept (without the final stop), not emptied
        ("Banca Etica", "Banca Etica"),
    ],
)
def test_a_name_is_shown_without_its_legal_form(written, shown):
    assert without_legal_form(written) == shown
    assert normalise_name(written) == normalise_name(shown)  # shown and written stay one company


@given(st.text(max_size=40))
def test_normalising_twice_changes_nothing(name):
    once = normalise_name(name)
    assert normalise_name(once) == once


@given(st.sampled_from(["", " S.p.A.", " Srl", " SpA", " s.r.l.", " Inc.", " SGR"]), st.booleans())
def test_legal_forms_and_case_never_split_a_company(suffix, upper):
    name = "Società Ùnica" + suffix
    assert normalise_name(name.upper() if upper else name) == "societa unica"


_NAME_CHARS = list("ab_ 1.-èÀ'²٣\u0301&")


@settings(max_examples=3000, deadline=None)
@given(
    text=st.text(st.sampled_from(_NAME_CHARS), max_size=40),
    name=st.text(st.sampled_from(_NAME_CHARS), min_size=1, max_size=5),
)
def test_a_name_is_found_where_written_as_a_whole_word(text, name):
    """Every place a name is written (the assigner's `org_spans_of`, the training corpora) is found as a
    whole-word regex would find it."""
    expected = [m.start() for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text)]
    assert list(written_at(text, name)) == expected


def test_a_name_inside_a_longer_word_is_not_a_mention():
    """ "Beta" in "Beta, Alfa-Beta" twice, never inside "Betaware" or "Alfabeta"."""
    assert list(written_at("Beta, Alfa-Beta e Betaware; Alfabeta.", "Beta")) == [0, 11]
