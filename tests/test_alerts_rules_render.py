"""Alert rules, message rendering and secret handling, without a warehouse or a network."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from alerts.outbox import channel_id, channel_label
from alerts.render import (
    EVIDENCE_MAX,
    NAME_MAX,
    Change,
    clean,
    md_escape,
    render_digest,
    render_instant,
    safe_url,
    sample_view,
    title_safe,
)
from alerts.rules import UnknownRule, effective_rules, find_rule, matches
from alerts.send import MissingSecret, expand_channel, redact
from alerts.settings import AlertRule, AlertsSettings
from extractors.names import name_tokens

DEAL = {
    "deal_type": "acquisition",
    "acquirer": "Società Elettrica Nazionale S.p.A.",
    "target": "Rete Verde",
    "parties": ["Società Elettrica Nazionale S.p.A.", "Rete Verde"],
    "amount_eur": 50_000_000.0,
    "stake_pct": 60.0,
    "status": "announced",
}


def rule(**filters) -> AlertRule:
    return AlertRule(name="r", channels=["json://127.0.0.1/hook"], **filters)


def test_urls_become_an_implicit_default_rule_that_takes_every_deal():
    settings = AlertsSettings(urls=["json://a/"], rules=[{"name": "x", "channels": ["json://b/"]}])
    default, named = effective_rules(settings)
    assert (default.name, default.mode, default.channels) == ("default", "instant", ["json://a/"])
    assert named.name == "x"
    assert matches(default, {"deal_type": "ipo"}, [])
    with pytest.raises(UnknownRule, match="default, x"):
        find_rule(settings, "nope")


def test_config_mistakes_are_refused_with_the_key():
    with pytest.raises(ValidationError, match="unique"):
        AlertsSettings(urls=["json://a/"], rules=[{"name": "default", "channels": ["json://b/"]}])
    with pytest.raises(ValidationError, match="deal_types"):
        AlertRule(name="r", channels=["json://a/"], deal_types=["acquisizione"])
    with pytest.raises(ValidationError, match="channels"):
        AlertRule(name="r", channels=[])
    with pytest.raises(ValidationError, match="max_age_days"):
        AlertsSettings(max_age_days=0)
    with pytest.raises(ValidationError, match="first_run"):
        AlertsSettings(first_run="never")
    assert AlertsSettings(max_age_days=None).max_age_days is None  # no age limit


def test_watchlist_matches_whole_tokens_ignoring_case_and_accents():
    watch = rule(watchlist=[{"name": "SEN", "aliases": ["societa elettrica nazionale"]}])
    assert matches(watch, DEAL, [])
    assert name_tokens("Società  Ëlite") == ("societa", "elite")
    eni = rule(watchlist=[{"name": "Eni"}])
    assert matches(eni, {**DEAL, "target": "Eni Plenitude"}, [])
    assert not matches(eni, {**DEAL, "target": "Enilive"}, [])
    assert not matches(eni, {**DEAL, "target": "Telenia"}, [])
    assert matches(eni, {**DEAL, "acquirer": None, "target": None, "parties": ["ENI"]}, [])


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"deal_types": ["acquisition", "merger"]}, True),
        ({"deal_types": ["ipo"]}, False),
        ({"min_amount_eur": 50_000_000}, True),
        ({"min_amount_eur": 50_000_001}, False),
        ({"min_stake_pct": 51}, True),
        ({"min_stake_pct": 61}, False),
        ({"statuses": ["announced", "completed"]}, True),
        ({"statuses": ["rumor"]}, False),
        ({"sites": ["www.ilsole24ore.com"]}, True),
        ({"sites": ["corriere.it"]}, False),
    ],
)
def test_each_filter_lets_through_only_what_it_names(filters, expected):
    assert matches(rule(**filters), DEAL, ["ilsole24ore.com", "wired.it"]) is expected


def test_a_threshold_is_not_met_by_an_undisclosed_figure():
    undisclosed = {**DEAL, "amount_eur": None, "stake_pct": None}
    assert not matches(rule(min_amount_eur=1), undisclosed, [])
    assert not matches(rule(min_stake_pct=1), undisclosed, [])


def test_clean_strips_control_characters_and_trims_with_an_ellipsis():
    assert clean("Acme\x00\x1b[31m\u202eSpA\n\tItalia", 100) == "Acme [31m SpA Italia"
    long = clean("x" * 10_000, NAME_MAX)
    assert len(long) == NAME_MAX and long.endswith("…")
    assert clean(None, 10) == ""


def test_markdown_escaping_neutralises_links_and_emphasis():
    escaped = md_escape("[x](http://evil) *bold* _it_ `code` <b>")
    assert escaped == r"\[x\]\(http:" + "\u200b" + r"//evil\) \*bold\* \_it\_ \`code\` \<b\>"


def test_only_http_links_are_made_and_they_cannot_break_out():
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("data:text/html,<b>") is None
    assert safe_url('https://a.it/x") onmouseover="y') is None  # a space: not a URL we link
    assert safe_url("https://a.it/p(1)<x>") == "https://a.it/p%281%29%3Cx%3E"


def test_instant_message_has_the_facts_in_three_escaped_forms():
    view = sample_view()
    view.acquirer = '<img src=x onerror="alert(1)">'
    view.evidence = "E" * 2_000
    view.first_url = "javascript:alert(1)"
    message = render_instant(view, "r", "abc123")
    assert "<img" not in message.html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in message.html
    assert "javascript" not in message.html and "javascript" not in message.markdown
    assert "E" * (EVIDENCE_MAX - 1) + "…" in message.text and "E" * EVIDENCE_MAX not in message.text
    assert r'\<img src\=x onerror\="alert\(1\)"\>' in message.markdown
    assert "12.5 million EUR" in message.text and "Stake: 100%" in message.text
    assert "alert id abc123" in message.text
    assert "Matched: r" in message.text  # the rule that sent it
    view.rules = ["Watchlist", "Big <rounds>"]
    assert "<li><b>Matched:</b> Watchlist, Big &lt;rounds&gt;</li>" in render_instant(view, "r", "id").html
    assert "<" not in message.title and ">" not in message.title


def test_update_says_what_changed_and_digest_counts_the_rest():
    view = sample_view()
    view.kind = "update"
    view.changes = [Change("status", "rumor", "completed")]
    assert "Changed: status: rumor -> completed" in render_instant(view, "r", "id").text
    digest = render_digest([sample_view() for _ in range(60)], "sera", "id")
    assert "60 deals, 60 new" in digest.title
    assert "and 10 more deals" in digest.text
    assert digest.text.count("Type: acquisition") == 50


def test_secrets_are_expanded_at_send_time_and_redacted_everywhere_else():
    url, secrets = expand_channel("mailto://u:${PW}@h?to=a@b&+X=${TOK}", {"PW": "p@ss w0rd", "TOK": "tok123"})
    assert url == "mailto://u:p@ss w0rd@h?to=a@b&+X=tok123" and secrets == ["p@ss w0rd", "tok123"]
    assert redact("auth p%40ss%20w0rd and p%40ss+w0rd and tok123", secrets) == "auth *** and *** and ***"
    with pytest.raises(MissingSecret, match="A, B"):
        expand_channel("json://${B}@h/${A}", {})


def test_the_stored_channel_reference_carries_no_secret():
    raw = "slack://TokenA/TokenB/TokenC/#deals"
    assert channel_label(raw, 0) == "slack #1"
    assert "Token" not in channel_id(raw) and channel_id(raw) == channel_id(raw) != channel_id(raw + "x")


_OUR_TAGS = re.compile(r"</?(p|b|i|ul|li|h3|br)>|<a href=\"[^\"<>]*\">|</a>")


@settings(max_examples=150, deadline=None)
@given(name=st.text(max_size=300), evidence=st.text(max_size=800), title=st.text(max_size=300))
def test_no_feed_text_can_become_markup(name, evidence, title):
    view = sample_view()
    view.acquirer, view.target, view.parties = name, name[::-1], [name, title]
    view.first_title, view.evidence, view.first_url = title, evidence, None
    for message in (render_instant(view, "r", "id"), render_digest([view, view], "r", "id")):
        assert "<" not in _OUR_TAGS.sub("", message.html)
        assert re.search(r"(?<!\\)[\[\]<>`*_]", message.markdown.replace("**", "")) is None
        assert all(c == "\n" or c.isprintable() for c in message.text + message.title)
        assert not re.search(r"[<>\[\]`*_]", message.title.removeprefix("[dealradar]"))
        if not any(title_safe(clean(x, 60)) for x in (name, title)):
            assert message.title.endswith("unnamed parties") or "Digest" in message.title
