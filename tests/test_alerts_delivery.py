"""Alerts end to end on real parts: a DuckDB warehouse filled by the real load + clustering code, the outbox,
and messages delivered by apprise to a real SMTP server (aiosmtpd) and a real HTTP webhook on loopback."""

from __future__ import annotations

import base64
import email
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import duckdb
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from support.server import LoopbackServer, Response

from alerts.outbox import (
    channel_id,
    enqueue_alerts,
    held_back_count,
    outbox_rows,
    outbox_table,
    pending,
)
from alerts.send import ALERT_ID_HEADER, send_pending, send_test
from alerts.settings import AlertsSettings
from extractors.clock import utc_now_naive
from extractors.models import Article, DealEvent
from warehouse.cluster import cluster_new_events
from warehouse.db import apply_migrations, open_warehouse
from warehouse.load import finish_run, start_run, store_articles

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "alerts" / "mentions.json"
ROOT = Path(__file__).resolve().parents[1]


def Alerts(**settings) -> AlertsSettings:  # noqa: N802 (reads as the settings class it builds)
    """Settings for the fixture's news, which dates from 2025: the age window is off unless a test sets it
    (the backfill tests below use fresh dates)."""
    return AlertsSettings(**{"max_age_days": None, **settings})


# --- receivers --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailBox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == self.password)

    password: bytes | None = None


@pytest.fixture
def mailbox() -> Iterator[tuple[MailBox, int]]:
    box = MailBox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def mail_url(port: int, extra: str = "") -> str:
    # Plain SMTP to a local server: mailto:// (not mailtos://) means no TLS; smtp= and port= name the server.
    return f"mailto://example.org?smtp=127.0.0.1&port={port}&from=radar@example.org&to=analyst@example.org{extra}"


def html_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


class Webhook:
    """A JSON webhook receiver: records (headers, parsed body) of every POST to /hook."""

    def __init__(self, port: int = 0, status: int = 200) -> None:
        self.calls: list[tuple[dict[str, str], dict]] = []
        self.status = status
        self.server = LoopbackServer({"/hook": self._record}, port=port)

    def _record(self, request: BaseHTTPRequestHandler) -> Response:
        body = request.rfile.read(int(request.headers.get("Content-Length", "0")))
        self.calls.append((dict(request.headers.items()), json.loads(body)))
        return Response(self.status, b"ok", {"Content-Type": "text/plain"})

    def url(self, query: str = "") -> str:
        return f"json://127.0.0.1:{self.server.port}/hook{query}"

    def __enter__(self) -> Webhook:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with Webhook() as hook:
        yield hook


# --- a warehouse filled through the real load and clustering ----------------------------------------------


@pytest.fixture
def con(tmp_path: Path):
    connection = open_warehouse(tmp_path / "w.duckdb")
    yield connection
    connection.close()


def _articles(keys: list[str], overrides: dict | None = None, published: dict | None = None):
    data = {a["key"]: a for a in json.loads(FIXTURE.read_text(encoding="utf-8"))["articles"]}
    articles, events = [], {}
    fetched_at = datetime.now(UTC)
    for key in keys:
        item = data[key]
        dated = (published or {}).get(key, datetime.fromisoformat(item["published"]))
        articles.append(
            Article(
                url=item["url"],
                final_url=item["url"],
                site=item["site"],
                feed_name="test",
                feed_url=None,
                title=item["title"],
                author=None,
                published=dated,
                text=item["title"],
                language="it",
                extraction="page",
                fetched_at=dated or fetched_at,
            )
        )
        events[item["url"]] = [DealEvent(**{**e, **(overrides or {}).get(key, {})}) for e in item["events"]]
    return articles, events


def night(
    con,
    keys: list[str],
    overrides: dict[str, dict] | None = None,
    published: dict[str, datetime | None] | None = None,
    kind: str = "test",
) -> str:
    """One run's worth of storing and clustering, as the nightly flow does before alerting. `published`
    gives articles another publication date (None: the feed gave none, the fetch time stands in)."""
    run_id = start_run(con, kind)
    articles, events = _articles(keys, overrides, published)
    store_articles(con, run_id, articles, events, "test-1")
    cluster_new_events(con, run_id)
    return run_id


def alerts_of_run(con, settings: AlertsSettings, run_id: str, now: datetime | None = None) -> dict[str, int]:
    enqueue_alerts(con, settings, run_id)
    return send_pending(con, settings, now=now)


def outbox_dump(con) -> str:
    return json.dumps(con.execute("SELECT * FROM alert_outbox").fetchall(), default=str) + json.dumps(
        con.execute("SELECT * FROM alert_outbox_deals").fetchall(), default=str
    )


# --- tests ------------------------------------------------------------------------------------------------


def test_instant_alert_reaches_mail_and_webhook_with_the_deal(con, mailbox, webhook):
    box, port = mailbox
    settings = Alerts(urls=[mail_url(port), webhook.url()])
    run = night(con, ["round"])

    assert alerts_of_run(con, settings, run) == {"sent": 2, "failed": 0, "deferred": 0}

    [mail] = box.messages
    assert "Alfa Ventures → Pagamenti Lampo" in mail["Subject"]
    html = html_part(mail)
    facts = [
        "funding round", "Alfa Ventures", "Pagamenti Lampo", "30 million USD", "about 2", "completed",
        'href="https://startupitalia.eu/pagamenti-lampo-round-30-milioni"',
        "Pagamenti Lampo ha chiuso un round da 30 milioni di dollari", "1 (1 mentions)",
    ]  # fmt: skip
    for fact in facts:
        assert fact in html
    [(headers, payload)] = webhook.calls
    assert "Pagamenti Lampo ha chiuso un round" in payload["message"]
    assert payload["title"] == mail["Subject"]
    assert outbox_table(con)[1] == []  # nothing left to send
    sent = con.execute("SELECT alert_id FROM alert_outbox WHERE status = 'sent'").fetchall()
    sent_ids = {r[0] for r in sent}
    assert headers[ALERT_ID_HEADER] in sent_ids
    assert mail[ALERT_ID_HEADER] in sent_ids


def test_a_deal_in_five_articles_alerts_once(con, webhook):
    settings = Alerts(urls=[webhook.url()])
    first = night(con, ["zeta-1", "zeta-2", "zeta-3"])
    assert alerts_of_run(con, settings, first)["sent"] == 1
    second = night(con, ["zeta-4", "zeta-5"])  # same deal, same status and amount: more sources only
    assert alerts_of_run(con, settings, second) == {"sent": 0, "failed": 0, "deferred": 0}
    assert alerts_of_run(con, settings, second)["sent"] == 0  # the same run again adds nothing

    assert len(webhook.calls) == 1
    assert con.execute("SELECT n_mentions, n_sources FROM deals").fetchall() == [(5, 3)]


def test_status_change_is_one_update_saying_what_changed(con, webhook):
    settings = Alerts(urls=[webhook.url()])
    alerts_of_run(con, settings, night(con, ["zeta-1", "zeta-2"]))
    closing = night(con, ["zeta-closed"])
    assert alerts_of_run(con, settings, closing)["sent"] == 1
    alerts_of_run(con, settings, night(con, ["zeta-3"]))  # a late rumour article changes nothing

    assert len(webhook.calls) == 2
    update = webhook.calls[1][1]
    assert update["title"].startswith("[dealradar] Deal update")
    assert "status: rumor -> completed" in update["message"]
    assert "ha completato l'acquisizione" in update["message"]
    assert (
        "Latest source: Zeta Software completa l'acquisizione di Contabile Cloud (startupitalia.eu)"
        in (update["message"])
    )
    kinds = con.execute("SELECT kind FROM alert_outbox ORDER BY created_at").fetchall()
    assert kinds == [("new",), ("update",)]


def test_updates_off_means_one_message_per_deal(con, webhook):
    settings = Alerts(rules=[{"name": "once", "channels": [webhook.url()], "updates": False}])
    alerts_of_run(con, settings, night(con, ["zeta-1"]))
    alerts_of_run(con, settings, night(con, ["zeta-closed"]))
    assert len(webhook.calls) == 1


def test_digest_lists_every_matching_deal_of_the_run_in_one_message(con, mailbox):
    box, port = mailbox
    settings = Alerts(rules=[{"name": "sera", "mode": "digest", "channels": [mail_url(port)]}])
    run = night(con, ["zeta-1", "intesa", "round", "profile"])

    assert alerts_of_run(con, settings, run)["sent"] == 1
    assert enqueue_alerts(con, settings, run) == 0

    [mail] = box.messages
    assert "Digest sera: 3 deals, 3 new" in mail["Subject"]
    html = html_part(mail)
    for name in ["Contabile Cloud", "Nuvola Quantistica", "Pagamenti Lampo"]:
        assert name in html
    assert "Ferro Digitale" not in html  # a background mention never alerts


def test_watchlist_alias_matches_accent_and_case_insensitively(con, webhook):
    rule = {"name": "banche", "channels": [webhook.url()],
            "watchlist": [{"name": "Intesa Sanpaolo", "aliases": ["Banca Intesa"]}]}  # fmt: skip
    settings = Alerts(rules=[rule])
    assert alerts_of_run(con, settings, night(con, ["intesa", "round", "zeta-1"]))["sent"] == 1

    [(_, payload)] = webhook.calls
    assert "Nuvola Quantistica" in payload["message"]
    assert "Watchlist: Intesa Sanpaolo" in payload["message"]


def test_filters_on_amount_stake_status_and_site(con, webhook):
    rules = [
        {"name": "big", "channels": [webhook.url("?:rule=big")], "min_amount_eur": 40_000_000},
        {"name": "stake", "channels": [webhook.url("?:rule=stake")], "min_stake_pct": 50},
        {"name": "done", "channels": [webhook.url("?:rule=done")], "statuses": ["completed"]},
        {"name": "eco", "channels": [webhook.url("?:rule=eco")], "sites": ["www.economyup.it"]},
        {"name": "rounds", "channels": [webhook.url("?:rule=rounds")], "deal_types": ["funding_round"]},
    ]
    settings = Alerts(rules=rules)
    alerts_of_run(con, settings, night(con, ["zeta-1", "intesa", "round"]))

    got = sorted((p["rule"], p["message"].split("\n")[0]) for _, p in webhook.calls)
    assert got == [
        ("big", "New deal: acquisition: Zeta Software S.p.A. → Contabile Cloud S.r.l."),
        ("done", "New deal: funding round: Alfa Ventures → Pagamenti Lampo"),
        ("eco", "New deal: investment: BANCA INTÉSA → Nuvola Quantistica S.p.A."),
        ("rounds", "New deal: funding round: Alfa Ventures → Pagamenti Lampo"),
        ("stake", "New deal: acquisition: Zeta Software S.p.A. → Contabile Cloud S.r.l."),
    ]


def test_receiver_down_gets_the_message_on_the_next_run_once(con):
    port = free_port()  # nothing listens there on the first run
    settings = Alerts(urls=[f"json://127.0.0.1:{port}/hook"], retry_backoff_s=600)
    t0 = utc_now_naive() + timedelta(seconds=1)
    run = night(con, ["intesa", "round"])

    # One attempt: the second message is not tried against a channel that just failed.
    assert alerts_of_run(con, settings, run, now=t0) == {"sent": 0, "failed": 1, "deferred": 2}
    first, second = pending(con)
    assert (first["status"], first["attempts"], second["attempts"]) == ("pending", 1, 0)
    assert first["next_attempt_at"] == t0 + timedelta(seconds=600)
    assert "127.0.0.1" in first["last_error"]

    with Webhook(port=port) as hook:
        # The first is still backing off; the second, never tried, goes now.
        later = send_pending(con, settings, now=t0 + timedelta(seconds=60))
        assert later == {"sent": 1, "failed": 0, "deferred": 1}
        assert send_pending(con, settings, now=t0 + timedelta(days=1))["sent"] == 1
        assert send_pending(con, settings, now=t0 + timedelta(days=2))["sent"] == 0
        alerts_of_run(con, settings, run, now=t0 + timedelta(days=3))
    assert len(hook.calls) == 2
    assert {payload["message"].split("\n")[0] for _, payload in hook.calls} == {
        "New deal: investment: BANCA INTÉSA → Nuvola Quantistica S.p.A.",
        "New deal: funding round: Alfa Ventures → Pagamenti Lampo",
    }
    assert pending(con) == []


def test_after_max_attempts_a_message_is_parked_but_still_listed(con):
    down = f"json://127.0.0.1:{free_port()}/hook"
    settings = Alerts(urls=[down], max_attempts=2, retry_backoff_s=1)
    t0 = utc_now_naive() + timedelta(seconds=1)
    alerts_of_run(con, settings, night(con, ["round"]), now=t0)
    send_pending(con, settings, now=t0 + timedelta(hours=1))
    assert send_pending(con, settings, now=t0 + timedelta(days=1)) == {"sent": 0, "failed": 0, "deferred": 0}

    columns, rows = outbox_table(con)
    [row] = [dict(zip(columns, r, strict=True)) for r in rows]
    assert (row["status"], row["attempts"], row["channel"]) == ("failed", 2, "json #1")


def test_a_message_whose_channel_left_the_config_waits_for_it(con, webhook):
    settings = Alerts(urls=[webhook.url()])
    enqueue_alerts(con, settings, night(con, ["round"]))
    assert send_pending(con, Alerts()) == {"sent": 0, "failed": 0, "deferred": 1}
    [row] = pending(con)
    assert row["attempts"] == 0 and "not in the config any more" in row["last_error"]
    assert send_pending(con, settings)["sent"] == 1
    assert len(webhook.calls) == 1


def test_hostile_company_name_arrives_escaped_and_trimmed(con, mailbox, webhook):
    box, port = mailbox
    hostile = "<script>alert('x')</script> [x](http://evil.example) " + "Z" * 10_000
    settings = Alerts(urls=[mail_url(port), webhook.url("?format=markdown")])
    run = night(con, ["round"], {"round": {"acquirer": hostile, "parties": [hostile]}})
    alerts_of_run(con, settings, run)

    html = html_part(box.messages[0])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="http://evil' not in html
    assert "Z" * 200 not in html and "Z" * 60 + "…" in html
    markdown = webhook.calls[0][1]["message"]
    assert "[x](http" not in markdown and r"\[x\]\(http:" in markdown
    assert "<script>" not in markdown
    assert max(len(line) for line in markdown.splitlines()) < 1000
    assert "<script>" not in box.messages[0]["Subject"]


def test_secrets_from_env_reach_receivers_but_never_the_outbox_or_logs(con, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    smtp_secret, hook_secret = "smtp-Pa55word-7f3c", "hook-T0ken-91ab"
    monkeypatch.setenv("DR_SMTP_PASS", smtp_secret)
    monkeypatch.setenv("DR_HOOK_TOKEN", hook_secret)
    box, port = MailBox(), free_port()
    box.password = smtp_secret.encode()
    controller = Controller(box, hostname="127.0.0.1", port=port, authenticator=box.authenticate,
                            auth_require_tls=False)  # fmt: skip
    controller.start()
    try:
        with Webhook() as hook:
            mail = (f"mailto://radar:${{DR_SMTP_PASS}}@example.org?smtp=127.0.0.1&port={port}"
                    "&from=radar@example.org&to=analyst@example.org")  # fmt: skip
            settings = Alerts(urls=[mail, hook.url("?+X-Token=${DR_HOOK_TOKEN}")])
            assert alerts_of_run(con, settings, night(con, ["round"]))["sent"] == 2
    finally:
        controller.stop()

    assert box.logins == [(b"radar", smtp_secret.encode())] and len(box.messages) == 1
    assert hook.calls[0][0]["X-Token"] == hook_secret
    stored = outbox_dump(con)
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    for secret in (smtp_secret, hook_secret):
        assert secret not in stored
        assert secret not in ours
        assert base64.b64encode(secret.encode()).decode() not in ours
    assert "${DR_HOOK_TOKEN}" not in stored  # not even the channel URL itself is stored


def test_missing_secret_is_a_clear_error_on_the_row(con, monkeypatch, webhook):
    monkeypatch.delenv("DR_NOT_SET", raising=False)
    settings = Alerts(urls=[webhook.url("?+X-Token=${DR_NOT_SET}")])
    assert alerts_of_run(con, settings, night(con, ["round"]))["failed"] == 1
    [row] = pending(con)
    assert row["last_error"] == "environment variable(s) not set: DR_NOT_SET"
    assert webhook.calls == []


def test_cooldown_holds_an_update_back_then_sends_it(con, webhook):
    settings = Alerts(rules=[{"name": "calm", "channels": [webhook.url()], "cooldown_hours": 24}])
    t0 = utc_now_naive()
    alerts_of_run(con, settings, night(con, ["zeta-1"]))
    assert alerts_of_run(con, settings, night(con, ["zeta-closed"]))["deferred"] == 1
    assert len(webhook.calls) == 1
    assert send_pending(con, settings, now=t0 + timedelta(hours=25))["sent"] == 1
    assert "status: rumor -> completed" in webhook.calls[1][1]["message"]


def test_send_test_sends_a_sample_to_the_rule_channels(webhook):
    settings = Alerts(rules=[{"name": "prova", "channels": [webhook.url()]}])
    assert send_test(settings, "prova") == {"rule": "prova", "sent": 1, "failed": 0, "errors": {}}
    assert "not a real deal" in webhook.calls[0][1]["message"]
    assert webhook.calls[0][0][ALERT_ID_HEADER].startswith("test-")


_CRASHING_SENDER = """
import sys
from alerts.send import send_pending
from alerts.settings import AlertsSettings
from warehouse.db import apply_migrations, open_warehouse
con = open_warehouse(sys.argv[1])
send_pending(con, AlertsSettings(urls=[sys.argv[2]]))
"""


@pytest.mark.slow
def test_a_send_interrupted_by_a_crash_is_resent_with_the_same_dedup_key(tmp_path):
    db = tmp_path / "w.duckdb"
    received = threading.Event()
    calls: list[str] = []

    def swallow_then_hang(request: BaseHTTPRequestHandler) -> Response | None:
        calls.append(request.headers[ALERT_ID_HEADER])
        request.rfile.read(int(request.headers["Content-Length"]))
        if len(calls) == 1:
            received.set()  # the message arrived, but the sender dies before it hears back
            time.sleep(30)
            return None
        return Response(200, b"ok")

    with LoopbackServer({"/hook": swallow_then_hang}) as server:
        url = f"json://127.0.0.1:{server.port}/hook"
        con = open_warehouse(db)
        enqueue_alerts(con, Alerts(urls=[url]), night(con, ["intesa"]))
        con.close()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        child = subprocess.Popen([sys.executable, "-c", _CRASHING_SENDER, str(db), url], cwd=ROOT, env=env)
        try:
            assert received.wait(60)
            child.kill()
            child.wait(30)
        finally:
            if child.poll() is None:
                child.kill()
        con = open_warehouse(db, lock_timeout_s=30)
        try:
            assert [r["status"] for r in pending(con)] == ["sending"]
            assert send_pending(con, Alerts(urls=[url]))["sent"] == 1
            assert send_pending(con, Alerts(urls=[url]))["sent"] == 0
        finally:
            con.close()
    assert len(calls) == 2 and calls[0] == calls[1]  # delivered twice, same key: the receiver can drop one


# --- one message per deal and destination -----------------------------------------------------------------


def test_two_rules_sharing_a_channel_send_one_message_naming_both(con, mailbox, webhook):
    box, port = mailbox
    shared = [mail_url(port), webhook.url()]
    with Webhook() as other:
        settings = Alerts(
            rules=[
                {"name": "Watchlist", "channels": shared, "watchlist": [{"name": "Pagamenti Lampo"}]},
                {"name": "Big rounds", "channels": shared, "deal_types": ["funding_round"]},
                {"name": "Elsewhere", "channels": [other.url()], "deal_types": ["funding_round"]},
            ]
        )
        run = night(con, ["round", "intesa"])
        assert alerts_of_run(con, settings, run) == {"sent": 3, "failed": 0, "deferred": 0}
        assert enqueue_alerts(con, settings, run) == 0  # the same run again owes nothing

    [mail] = box.messages
    [(headers, payload)] = webhook.calls
    assert "Pagamenti Lampo" in mail["Subject"] and payload["title"] == mail["Subject"]
    assert "Matched: Watchlist, Big rounds" in payload["message"]
    assert "<b>Matched:</b> Watchlist, Big rounds</li>" in html_part(mail)
    [(_, elsewhere)] = other.calls
    assert "Matched: Elsewhere" in elsewhere["message"]
    rows = con.execute("SELECT rule_name, channel_label, alert_id FROM alert_outbox ORDER BY 2").fetchall()
    assert [r[:2] for r in rows] == [
        ("Elsewhere", "json #1"),
        ("Watchlist, Big rounds", "json #2"),
        ("Watchlist, Big rounds", "mailto #1"),
    ]
    assert {headers[ALERT_ID_HEADER], mail[ALERT_ID_HEADER]} <= {r[2] for r in rows}


def test_an_update_for_rules_sharing_a_channel_is_one_message_from_the_rules_that_want_it(con, webhook):
    rules = [
        {"name": "calm", "channels": [webhook.url()], "cooldown_hours": 24},
        {"name": "once", "channels": [webhook.url()], "updates": False},
        {"name": "rumours", "channels": [webhook.url()], "statuses": ["rumor"]},
    ]
    settings = Alerts(rules=rules)
    t0 = utc_now_naive()
    alerts_of_run(con, settings, night(con, ["zeta-1", "zeta-2"]))
    # The closing: "once" wants no updates and "rumours" no completed deal; "calm" waits out its cool-down.
    assert alerts_of_run(con, settings, night(con, ["zeta-closed"])) == {
        "sent": 0,
        "failed": 0,
        "deferred": 1,
    }
    assert send_pending(con, settings, now=t0 + timedelta(hours=25))["sent"] == 1

    first, update = (payload["message"] for _, payload in webhook.calls)
    assert "Matched: calm, once, rumours" in first
    assert "status: rumor -> completed" in update and "Matched: calm\n" in update
    assert con.execute("SELECT count(*) FROM alert_outbox").fetchone()[0] == 2


def test_two_digest_rules_on_one_channel_make_one_digest_and_instant_rules_keep_their_own(con, mailbox):
    box, port = mailbox
    rules = [
        {"name": "sera", "mode": "digest", "channels": [mail_url(port)], "deal_types": ["acquisition"]},
        {"name": "soldi", "mode": "digest", "channels": [mail_url(port)], "min_amount_eur": 20_000_000},
        {"name": "subito", "channels": [mail_url(port)], "deal_types": ["funding_round"]},
    ]
    run = night(con, ["zeta-1", "intesa", "round"])
    assert alerts_of_run(con, Alerts(rules=rules), run)["sent"] == 2

    digest, instant = sorted(box.messages, key=lambda m: "Digest" not in m["Subject"])
    assert "Digest sera, soldi: 2 deals, 2 new" in digest["Subject"]
    text = digest.get_body(preferencelist=("plain",)).get_content()
    assert "Matched: sera, soldi" in text  # Zeta: an acquisition of 45 million
    assert "Matched: soldi" in text  # the round: about 28 million EUR
    assert "Nuvola Quantistica" not in text  # 12 million, an investment: neither rule wants it
    # The digest is the run's recap for that address: it lists the round the instant rule also sent.
    assert "New deal: funding round: Alfa Ventures → Pagamenti Lampo" in instant["Subject"]


def test_a_shared_channel_that_is_down_gets_the_one_message_on_the_next_run(con):
    port = free_port()
    down = f"json://127.0.0.1:{port}/hook"
    rules = [{"name": "a", "channels": [down]}, {"name": "b", "channels": [down], "statuses": ["announced"]}]
    settings = Alerts(rules=rules, retry_backoff_s=0)
    run = night(con, ["intesa"])
    assert alerts_of_run(con, settings, run) == {"sent": 0, "failed": 1, "deferred": 0}
    with Webhook(port=port) as hook:
        assert alerts_of_run(con, settings, run) == {"sent": 1, "failed": 0, "deferred": 0}
        assert alerts_of_run(con, settings, run)["sent"] == 0
    [(headers, payload)] = hook.calls
    assert "Matched: a, b" in payload["message"]
    assert [r["status"] for r in outbox_rows(con, include_sent=True)] == ["sent"]


def _as_0x_queued(con, alert_id: str, rule: str, channel: str, deal_id: str, status: str, at: datetime):
    """An instant message as the outbox of schema 003 wrote it: one per rule, channel, deal and revision."""
    con.execute(
        """INSERT INTO alert_outbox (alert_id, rule_name, mode, kind, channel_id, channel_label, deal_id,
               revision, run_id, title, body_text, body_markdown, body_html, status, created_at, not_before,
               next_attempt_at, sent_at)
           VALUES (?, ?, 'instant', 'new', ?, 'json #1', ?, 1, 'r-old', ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [alert_id, rule, channel_id(channel), deal_id, f"New deal ({rule})", f"queued by {rule}", "-", "-",
         status, at, at, at, at if status == "sent" else None],
    )  # fmt: skip
    con.execute(
        "INSERT INTO alert_outbox_deals VALUES (?, ?, ?, ?, 1, 'new', NULL, NULL, NULL, NULL, NULL)",
        [alert_id, rule, channel_id(channel), deal_id],
    )


def test_an_old_warehouse_keeps_its_queued_alerts_and_folds_duplicates_on_upgrade(tmp_path, webhook):
    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path), config={"storage_compatibility_version": "v1.4.0"})
    apply_migrations(old, target=3)  # the warehouse as the release before one-message-per-channel left it
    run = night(old, ["intesa", "round", "zeta-1"])
    deal = dict(old.execute("SELECT target, deal_id FROM deals").fetchall())
    intesa, lampo, zeta = (
        deal["Nuvola Quantistica S.p.A."],
        deal["Pagamenti Lampo"],
        deal["Contabile Cloud S.r.l."],
    )
    url, t0 = webhook.url(), utc_now_naive() - timedelta(hours=2)
    _as_0x_queued(old, "old-intesa-a", "a", url, intesa, "pending", t0)  # the receiver was down: both
    _as_0x_queued(old, "old-intesa-b", "b", url, intesa, "pending", t0 + timedelta(seconds=1))  # pending
    _as_0x_queued(old, "old-lampo-a", "a", url, lampo, "sent", t0)  # one went out before the other failed
    _as_0x_queued(old, "old-lampo-b", "b", url, lampo, "pending", t0)
    old.close()

    con = open_warehouse(path)
    try:
        assert [(r["alert_id"], r["status"]) for r in pending(con)] == [("old-intesa-a", "pending")]
        merged = dict(
            con.execute("SELECT alert_id, last_error FROM alert_outbox WHERE status = 'merged'").fetchall()
        )
        assert set(merged) == {"old-intesa-b", "old-lampo-b"}
        assert "old-intesa-a" in merged["old-intesa-b"] and "old-lampo-a" in merged["old-lampo-b"]

        settings = Alerts(rules=[{"name": "a", "channels": [url]}, {"name": "b", "channels": [url]}])
        assert alerts_of_run(con, settings, run) == {"sent": 2, "failed": 0, "deferred": 0}
        assert alerts_of_run(con, settings, run)["sent"] == 0
        sent_deals = con.execute(
            "SELECT alert_id, deal_id FROM alert_outbox WHERE status = 'sent' ORDER BY created_at, alert_id"
        ).fetchall()
    finally:
        con.close()
    # The queued intesa message, once; then the deal nothing was queued for yet (Zeta), naming both rules.
    (first, _), (second_headers, second) = webhook.calls
    assert first[ALERT_ID_HEADER] == "old-intesa-a"
    assert "Contabile Cloud" in second["message"] and "Matched: a, b" in second["message"]
    assert sent_deals == [
        ("old-intesa-a", intesa),
        ("old-lampo-a", lampo),
        (second_headers[ALERT_ID_HEADER], zeta),
    ]


# --- backfill: old news does not alert --------------------------------------------------------------------


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def test_deals_from_news_older_than_the_window_are_held_back_and_counted(con, webhook):
    settings = AlertsSettings(urls=[webhook.url()], max_age_days=3)
    published = {"intesa": ago(hours=2), "round": ago(days=10), "zeta-1": None}  # zeta-1: no date in the feed
    run = night(con, ["intesa", "round", "zeta-1"], published=published)

    assert alerts_of_run(con, settings, run)["sent"] == 2
    assert alerts_of_run(con, settings, run)["sent"] == 0
    assert sorted(p["message"].split("\n")[0].split(": ")[-1] for _, p in webhook.calls) == [
        "BANCA INTÉSA → Nuvola Quantistica S.p.A.",  # two hours old
        "Zeta Software S.p.A. → Contabile Cloud S.r.l.",  # no date: fetched just now
    ]
    assert held_back_count(con, run) == 1
    [(target, reason)] = con.execute(
        "SELECT d.target, h.reason FROM alert_held_back h JOIN deals d USING (deal_id)"
    ).fetchall()
    assert (target, reason) == ("Pagamenti Lampo", "old_news")
    # The deal itself is stored like any other: only the alert is held back.
    assert con.execute("SELECT count(*) FROM deals WHERE target = 'Pagamenti Lampo'").fetchone()[0] == 1


def test_a_held_back_deal_alerts_when_fresh_news_about_it_arrives(con, webhook):
    settings = AlertsSettings(urls=[webhook.url()], max_age_days=3)
    backfill = night(con, ["zeta-1", "zeta-2"], published={"zeta-1": ago(days=9), "zeta-2": ago(days=8)})
    assert alerts_of_run(con, settings, backfill)["sent"] == 0
    fresh = night(con, ["zeta-3"], published={"zeta-3": ago(hours=1)})  # same deal, same revision
    assert alerts_of_run(con, settings, fresh)["sent"] == 1

    [(_, payload)] = webhook.calls
    assert payload["title"].startswith("[dealradar] New deal: acquisition: Zeta Software")
    assert (held_back_count(con, backfill), held_back_count(con, fresh)) == (1, 0)


def test_old_news_does_not_fill_a_digest_either(con, mailbox):
    box, port = mailbox
    rule = {"name": "sera", "mode": "digest", "channels": [mail_url(port)]}
    settings = AlertsSettings(rules=[rule], max_age_days=3)
    run = night(con, ["intesa", "round"], published={"intesa": ago(hours=3), "round": ago(days=30)})
    assert alerts_of_run(con, settings, run)["sent"] == 1
    [mail] = box.messages
    assert "Digest sera: 1 deals, 1 new" in mail["Subject"] and "Pagamenti Lampo" not in html_part(mail)


def test_first_run_none_alerts_nothing_and_the_next_run_alerts_what_is_new(con, webhook):
    settings = AlertsSettings(urls=[webhook.url()], first_run="none")
    first = night(
        con, ["intesa", "zeta-1"], published={"intesa": ago(hours=1), "zeta-1": ago(hours=2)}, kind="nightly"
    )
    assert alerts_of_run(con, settings, first) == {"sent": 0, "failed": 0, "deferred": 0}
    assert held_back_count(con, first) == 2
    assert {r[0] for r in con.execute("SELECT reason FROM alert_held_back").fetchall()} == {"first_run"}
    finish_run(con, first, "partial", {})  # one feed failed: still a run that filled the warehouse

    second = night(
        con, ["round", "zeta-2"], published={"round": ago(hours=1), "zeta-2": ago(hours=1)}, kind="nightly"
    )
    assert alerts_of_run(con, settings, second)["sent"] == 2
    assert sorted(p["message"].split("\n")[0] for _, p in webhook.calls) == [
        "New deal: acquisition: Zeta Software S.p.A. → Contabile Cloud S.r.l.",  # fresh news of a held deal
        "New deal: funding round: Alfa Ventures → Pagamenti Lampo",
    ]


def test_a_first_run_that_failed_does_not_count_and_recent_first_runs_alert(con, webhook):
    silent = AlertsSettings(urls=[webhook.url()], first_run="none")
    failed = night(con, ["intesa"], published={"intesa": ago(hours=1)}, kind="nightly")
    finish_run(con, failed, "failed", {})
    retry = night(con, ["round"], published={"round": ago(hours=1)}, kind="nightly")
    assert alerts_of_run(con, silent, retry)["sent"] == 0  # still the first run that filled the warehouse

    recent = AlertsSettings(urls=[webhook.url()])  # the default: a first run alerts on recent news only
    assert (recent.first_run, recent.max_age_days) == ("recent", 7)
    fresh = night(con, ["zeta-1"], published={"zeta-1": ago(days=2)}, kind="nightly")
    assert alerts_of_run(con, recent, fresh)["sent"] == 1
