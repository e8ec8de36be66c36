"""The alerts outbox: which messages a run owes, and the state of each one's delivery.

`enqueue_alerts` runs in the writing process after clustering, so a message is only written once the deals it
is about are stored. Messages are owed to destinations (a channel URL in one mode), not to rules: a deal
that several rules sharing a channel match is one message there, naming them all. Each message has a
deterministic `alert_id` (a hash of channel, deal and revision; for digests channel and run), so enqueueing
twice adds nothing. `send.py` drains the table; the `mark_*` functions here record each step, every one
committed at once (DuckDB auto-commit), so the table is always the truth about what was sent.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from alerts.render import Change, DealView, Message, format_money, render_digest, render_instant
from alerts.rules import deal_names, effective_rules, matches, watchlist_hits
from alerts.settings import AlertRule, AlertsSettings
from extractors.clock import naive_utc, utc_now_naive
from warehouse.bulk import insert_columns
from warehouse.db import transaction

log = logging.getLogger(__name__)

# Columns of `dealradar alerts pending`, in order.
TABLE_COLUMNS = [
    "alert_id", "rule", "channel", "kind", "deal_id", "revision", "status", "attempts",
    "next_attempt_at", "last_error", "created_at", "sent_at", "title",
]  # fmt: skip


@dataclass
class OutboxRow:
    """A message to send, as `send.py` needs it."""

    alert_id: str
    rule_name: str
    channel_id: str
    channel_label: str
    status: str
    attempts: int
    message: Message


def as_naive_utc(moment: datetime | None) -> datetime:
    """`moment` (now when None) as naive UTC."""
    return naive_utc(moment) or utc_now_naive()


def channel_id(url: str) -> str:
    """Stable id of a channel: a hash of its URL as written in config (secrets are ${VARS} there)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def channel_label(url: str, index: int) -> str:
    """Readable and secret-free: the scheme and the channel's position in its rule, e.g. "mailto #1"."""
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]{0,20})://", url.strip())
    return f"{match.group(1).lower() if match else 'channel'} #{index + 1}"


def _alert_id(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:32]


# --- reading deals ----------------------------------------------------------------------------------------


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    columns = [d[0] for d in cur.description]
    return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


def _touched_deals(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    # Deals created or changed by this run that have at least one non-background mention: background
    # mentions (a past deal cited as context) never alert.
    return _rows(
        con,
        """SELECT d.* FROM deals d
           WHERE (d.created_run_id = ? OR d.updated_run_id = ?)
             AND EXISTS (SELECT 1 FROM deal_events e
                         WHERE e.deal_id = d.deal_id AND NOT coalesce(e.background, false))
           ORDER BY d.first_seen, d.deal_id""",
        [run_id, run_id],
    )


def _mentions(con: duckdb.DuckDBPyConnection, deal_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Non-background mentions of each deal, oldest first, with their article's title and the date of the
    news (`news_at`: the article's publication date, else when it was fetched)."""
    if not deal_ids:
        return {}
    rows = _rows(
        con,
        """SELECT e.deal_id, e.article_url, e.site, e.evidence, e.run_id, a.title,
                  coalesce(e.published_at, e.extracted_at) AS seen_at,
                  coalesce(a.published_at, a.fetched_at, e.published_at, e.extracted_at) AS news_at
           FROM deal_events e LEFT JOIN articles a ON a.url = e.article_url
           WHERE list_contains(?, e.deal_id) AND NOT coalesce(e.background, false)
           ORDER BY seen_at NULLS LAST, e.article_url""",
        [deal_ids],
    )
    by_deal: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_deal[row["deal_id"]].append(row)
    return by_deal


def _last_announced(con: duckdb.DuckDBPyConnection, deal_ids: list[str]) -> dict[tuple[str, str, str], dict]:
    """(mode, channel, deal) -> the latest message of that mode about the deal to that channel, whatever
    rule wrote it: what it announced, and until when it held later ones back (`last_not_before`, for the
    cool-down). One query for all deals."""
    rows = _rows(
        con,
        """SELECT o.mode, d.channel_id, d.deal_id, d.revision, d.status, d.amount, d.currency,
                  d.amount_eur, d.stake_pct,
                  max(o.not_before) OVER (PARTITION BY o.mode, d.channel_id, d.deal_id) AS last_not_before
           FROM alert_outbox_deals d JOIN alert_outbox o USING (alert_id)
           WHERE list_contains(?, d.deal_id)
           QUALIFY row_number() OVER (
               PARTITION BY o.mode, d.channel_id, d.deal_id ORDER BY d.revision DESC) = 1""",
        [deal_ids],
    )
    return {(r["mode"], r["channel_id"], r["deal_id"]): r for r in rows}


def _changes(before: dict[str, Any], deal: dict[str, Any]) -> list[Change]:
    changes = []
    if before["status"] != deal["status"]:
        changes.append(Change("status", before["status"] or "", deal["status"] or ""))
    if before["amount"] != deal["amount"] or before["currency"] != deal["currency"]:
        old = format_money(before["amount"], before["currency"]) or "not disclosed"
        new = format_money(deal["amount"], deal["currency"]) or "not disclosed"
        changes.append(Change("amount", old, new))
    if before["stake_pct"] != deal["stake_pct"]:
        changes.append(Change("stake", _pct(before["stake_pct"]), _pct(deal["stake_pct"])))
    return changes


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:g}%"


def _watchlist(rules: list[AlertRule], deal: dict[str, Any]) -> list[str]:
    hits: list[str] = []
    for rule in rules:
        hits += [h for h in watchlist_hits(rule.watchlist, deal_names(deal)) if h not in hits]
    return hits


def _view(
    deal: dict[str, Any], mentions: list[dict[str, Any]], rules: list[AlertRule], kind: str
) -> DealView:
    first = mentions[0] if mentions else {}
    # An update quotes the newest mention: it is the one that says what changed.
    quoted = mentions[-1] if kind == "update" and mentions else first
    return DealView(
        deal_id=deal["deal_id"],
        revision=deal["revision"],
        deal_type=deal["deal_type"],
        acquirer=deal.get("acquirer"),
        target=deal.get("target"),
        parties=list(deal.get("parties") or []),
        amount=deal.get("amount"),
        currency=deal.get("currency"),
        amount_eur=deal.get("amount_eur"),
        stake_pct=deal.get("stake_pct"),
        valuation=deal.get("valuation"),
        status=deal.get("status"),
        n_sources=deal.get("n_sources") or len({m["site"] for m in mentions}) or 1,
        n_mentions=deal.get("n_mentions") or len(mentions) or 1,
        first_url=first.get("article_url"),
        first_site=first.get("site"),
        first_title=first.get("title"),
        latest_url=quoted.get("article_url"),
        latest_site=quoted.get("site"),
        latest_title=quoted.get("title"),
        evidence=quoted.get("evidence"),
        kind=kind,
        watchlist=_watchlist(rules, deal),
        rules=[r.name for r in rules],
    )


# --- where messages go ------------------------------------------------------------------------------------


@dataclass
class Destination:
    """One channel URL in one mode, with every rule of that mode that lists it: the unit that gets one
    message per deal revision (instant) or one digest per run (digest), however many of its rules match."""

    mode: str
    url: str
    channel_id: str
    channel_label: str
    rules: list[AlertRule]


def destinations(rules: list[AlertRule]) -> list[Destination]:
    """The destinations of the rules, in config order (a channel is the same when its URL, as written, is)."""
    found: dict[tuple[str, str], Destination] = {}
    for rule in rules:
        for index, url in enumerate(rule.channels):
            key = (rule.mode, channel_id(url))
            if key not in found:
                found[key] = Destination(rule.mode, url, key[1], channel_label(url, index), [])
            if rule not in found[key].rules:
                found[key].rules.append(rule)
    return list(found.values())


# --- enqueueing -------------------------------------------------------------------------------------------


def enqueue_alerts(con: duckdb.DuckDBPyConnection, settings: AlertsSettings, run_id: str) -> int:
    """Write the messages this run owes (deals created or revised in it that match a rule); return how many.

    Messages go to destinations (a channel URL in one mode), not to rules: a deal matched by several rules
    that share a channel makes one message there, naming every rule that matched.
    instant: one message per (channel, deal, revision), kind "new" for the first message about the deal to
    that channel, "update" for a later revision (only if a matching rule wants updates), held back until the
    shortest `cooldown_hours` of those rules after the previous one. digest: one message per (channel, run)
    listing them all. Deals whose news is too old (`max_age_days`, `first_run`) are held back as backfill:
    recorded in `alert_held_back` (see `held_back_count`), not alerted. Idempotent: running it again for the
    same run adds nothing. One transaction.
    """
    run_id = str(run_id)
    rules = effective_rules(settings)
    deals = _touched_deals(con, run_id) if rules else []
    if not deals:
        return 0
    deal_ids = [d["deal_id"] for d in deals]
    mentions = _mentions(con, deal_ids)
    announced = _last_announced(con, deal_ids)
    now = utc_now_naive()
    plan = [(dest, _due_here(dest, deals, mentions, announced)) for dest in destinations(rules)]
    owed = {item.deal["deal_id"]: item.deal for _, due in plan for item in due}
    held = _held_back(con, settings, run_id, list(owed.values()), mentions, now)
    batch = _Batch()
    for dest, due in plan:
        batch.add(dest, [item for item in due if item.deal["deal_id"] not in held], run_id, now)
    with transaction(con):
        written = batch.write(con)
        _record_held(con, run_id, held, now)
    if written:
        log.info("alerts: %d message(s) queued for run %s", written, run_id)
    if held:
        reasons = sorted({reason for reason, _, _ in held.values()})
        log.info("alerts: %d deal(s) of run %s held back as backfill, not alerted (%s)", len(held), run_id,
                 ", ".join(HELD_BACK_REASONS[r] for r in reasons))  # fmt: skip
    return written


@dataclass
class _Due:
    deal: dict[str, Any]
    view: DealView
    last_not_before: datetime | None
    cooldown_hours: float


def _due_here(
    dest: Destination,
    deals: list[dict[str, Any]],
    mentions: dict[str, list[dict[str, Any]]],
    announced: dict[tuple[str, str, str], dict[str, Any]],
) -> list[_Due]:
    """The deals this destination's rules want that it has not heard about at their current revision."""
    due = []
    for deal in deals:
        said = mentions.get(deal["deal_id"], [])
        matched = [r for r in dest.rules if matches(r, deal, {m["site"] for m in said})]
        before = announced.get((dest.mode, dest.channel_id, deal["deal_id"]))
        if not matched or (before is not None and before["revision"] >= deal["revision"]):
            continue  # not wanted here, or this revision (or a later one) was already announced here
        kind = "update" if before else "new"
        changes = _changes(before, deal) if before else []
        if kind == "update":
            matched = [r for r in matched if r.updates]
            if not matched or not changes:
                continue
        view = _view(deal, said, matched, kind)
        view.changes = changes
        # The shortest cool-down wins: a rule without one asked to hear every change at once.
        cooldown = min(r.cooldown_hours for r in matched)
        due.append(_Due(deal, view, before["last_not_before"] if before else None, cooldown))
    return due


# --- backfill: old news does not alert --------------------------------------------------------------------

HELD_BACK_REASONS = {
    "old_news": "their articles are older than alerts.max_age_days",
    "first_run": "first run with alerts.first_run: none",
}


_Held = dict[str, tuple[str, int, datetime | None]]  # deal id -> (reason, revision, news date)


def _news_at(mentions: list[dict[str, Any]], run_id: str) -> datetime | None:
    """How recent a deal's news is: the newest of the mentions this run stored (else of all mentions)."""
    dates = [m["news_at"] for m in mentions if m["run_id"] == run_id and m["news_at"] is not None]
    dates = dates or [m["news_at"] for m in mentions if m["news_at"] is not None]
    return max(dates, default=None)


def _held_back(
    con: duckdb.DuckDBPyConnection,
    settings: AlertsSettings,
    run_id: str,
    deals: list[dict[str, Any]],
    mentions: dict[str, list[dict[str, Any]]],
    now: datetime,
) -> _Held:
    """The owed deals that must not alert, with why."""
    silent = bool(deals) and settings.first_run == "none" and is_first_run(con, run_id)
    cutoff = now - timedelta(days=settings.max_age_days) if settings.max_age_days else None
    held = {}
    for deal in deals:
        news_at = _news_at(mentions.get(deal["deal_id"], []), run_id)
        if silent:
            held[deal["deal_id"]] = ("first_run", deal["revision"], news_at)
        elif cutoff is not None and news_at is not None and news_at < cutoff:
            held[deal["deal_id"]] = ("old_news", deal["revision"], news_at)
    return held


def is_first_run(con: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    """True when no earlier run of the same kind ended ok or partial: the warehouse is being filled."""
    row = con.execute(
        """SELECT count(*) FROM runs r
           WHERE r.run_id <> $1 AND r.status IN ('ok', 'partial')
             AND r.kind = coalesce((SELECT kind FROM runs WHERE run_id = $1), r.kind)
             AND r.started_at <= coalesce((SELECT started_at FROM runs WHERE run_id = $1), r.started_at)""",
        [run_id],
    ).fetchone()
    return row[0] == 0


def _record_held(con: duckdb.DuckDBPyConnection, run_id: str, held: _Held, now: datetime) -> None:
    items = sorted(held.items())
    columns = [
        ("run_id", "VARCHAR", [run_id] * len(items)),
        ("deal_id", "VARCHAR", [deal_id for deal_id, _ in items]),
        ("revision", "INTEGER", [revision for _, (_, revision, _) in items]),
        ("reason", "VARCHAR", [reason for _, (reason, _, _) in items]),
        ("news_at", "TIMESTAMP", [news_at for _, (_, _, news_at) in items]),
        ("held_at", "TIMESTAMP", [now] * len(items)),
    ]
    insert_columns(con, "alert_held_back", columns, on_conflict="ignore")


def held_back_count(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Deals of a run held back as backfill: not alerted because their news was old, or a silent first run."""
    return con.execute(
        "SELECT count(DISTINCT deal_id) FROM alert_held_back WHERE run_id = ?", [str(run_id)]
    ).fetchone()[0]


class _Batch:
    """Messages and the deals they cover, written with one bulk insert per table."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.covered: list[dict[str, Any]] = []

    def add(self, dest: Destination, due: list[_Due], run_id: str, now: datetime) -> None:
        if not due:
            return
        base = {
            "mode": dest.mode,
            "channel_id": dest.channel_id,
            "channel_label": dest.channel_label,
            "run_id": run_id,
            "created_at": now,
        }
        if dest.mode == "digest":
            names = [r.name for r in dest.rules if any(r.name in item.view.rules for item in due)]
            alert_id = _alert_id("digest", dest.channel_id, run_id)
            message = render_digest([item.view for item in due], ", ".join(names), alert_id)
            fields = {**base, "rule_name": ", ".join(names), "kind": "digest", "not_before": now}
            self._add(alert_id, fields, message, due)
            return
        for item in due:
            deal = item.deal
            alert_id = _alert_id("instant", dest.channel_id, deal["deal_id"], deal["revision"])
            names = ", ".join(item.view.rules)
            message = render_instant(item.view, names, alert_id)
            not_before = now
            if item.cooldown_hours and item.last_not_before is not None:
                not_before = max(now, item.last_not_before + timedelta(hours=item.cooldown_hours))
            fields = {
                **base,
                "rule_name": names,
                "kind": item.view.kind,
                "deal_id": deal["deal_id"],
                "revision": deal["revision"],
                "not_before": not_before,
            }
            self._add(alert_id, fields, message, [item])

    def _add(self, alert_id: str, fields: dict[str, Any], message: Message, due: list[_Due]) -> None:
        texts = {"title": message.title, "body_text": message.text, "body_markdown": message.markdown}
        due_at = {"next_attempt_at": fields["not_before"]}  # a new message is due once its cool-down is over
        self.messages.append({"alert_id": alert_id, **fields, **texts, "body_html": message.html, **due_at})
        for item in due:
            d = item.deal
            announced = {k: d.get(k) for k in ("status", "amount", "currency", "amount_eur", "stake_pct")}
            self.covered.append(
                {
                    "alert_id": alert_id,
                    "rule_name": ", ".join(item.view.rules),
                    "channel_id": fields["channel_id"],
                    "deal_id": d["deal_id"],
                    "revision": d["revision"],
                    "kind": item.view.kind,
                    **announced,
                }
            )

    def write(self, con: duckdb.DuckDBPyConnection) -> int:
        ids = [m["alert_id"] for m in self.messages]
        found = con.execute("SELECT alert_id FROM alert_outbox WHERE list_contains(?, alert_id)", [ids])
        existing = {r[0] for r in found.fetchall()}
        messages = list({m["alert_id"]: m for m in self.messages if m["alert_id"] not in existing}.values())
        covered = list(
            {(c["alert_id"], c["deal_id"]): c for c in self.covered if c["alert_id"] not in existing}.values()
        )
        insert_columns(con, "alert_outbox", _columns(messages, _MESSAGE_TYPES), on_conflict="ignore")
        insert_columns(con, "alert_outbox_deals", _columns(covered, _COVERED_TYPES), on_conflict="ignore")
        return len(messages)


_MESSAGE_TYPES = {
    "alert_id": "VARCHAR",
    "rule_name": "VARCHAR",
    "mode": "VARCHAR",
    "kind": "VARCHAR",
    "channel_id": "VARCHAR",
    "channel_label": "VARCHAR",
    "deal_id": "VARCHAR",
    "revision": "INTEGER",
    "run_id": "VARCHAR",
    "title": "VARCHAR",
    "body_text": "VARCHAR",
    "body_markdown": "VARCHAR",
    "body_html": "VARCHAR",
    "created_at": "TIMESTAMP",
    "not_before": "TIMESTAMP",
    "next_attempt_at": "TIMESTAMP",
}  # fmt: skip  (status and attempts take their defaults: pending, 0)
_COVERED_TYPES = {
    "alert_id": "VARCHAR", "rule_name": "VARCHAR", "channel_id": "VARCHAR", "deal_id": "VARCHAR",
    "revision": "INTEGER", "kind": "VARCHAR", "status": "VARCHAR", "amount": "DOUBLE", "currency": "VARCHAR",
    "amount_eur": "DOUBLE", "stake_pct": "DOUBLE",
}  # fmt: skip


def _columns(rows: list[dict[str, Any]], types: dict[str, str]) -> list[tuple[str, str, list[Any]]]:
    return [(name, sql_type, [r.get(name) for r in rows]) for name, sql_type in types.items()]


# --- the delivery state machine: pending -> sending -> sent | pending (retry) | failed (parked) -----------


def due_rows(con: duckdb.DuckDBPyConnection, now: datetime) -> list[OutboxRow]:
    """Messages to send now: pending ones whose time has come, and any left "sending" by a crashed run."""
    rows = _rows(
        con,
        """SELECT alert_id, rule_name, channel_id, channel_label, status, attempts, title, body_text,
                  body_markdown, body_html FROM alert_outbox
           WHERE status = 'sending' OR (status = 'pending' AND next_attempt_at <= ?)
           ORDER BY created_at, alert_id""",
        [now],
    )
    return [
        OutboxRow(
            alert_id=r["alert_id"],
            rule_name=r["rule_name"],
            channel_id=r["channel_id"],
            channel_label=r["channel_label"],
            status=r["status"],
            attempts=r["attempts"],
            message=Message(r["title"], r["body_text"], r["body_markdown"], r["body_html"]),
        )
        for r in rows
    ]


def mark_sending(con: duckdb.DuckDBPyConnection, alert_id: str, now: datetime) -> int:
    """Record the attempt before it is made (committed), so a crash mid-send is visible; returns attempts."""
    return con.execute(
        """UPDATE alert_outbox SET status = 'sending', attempts = attempts + 1, last_attempt_at = ?
           WHERE alert_id = ? RETURNING attempts""",
        [now, alert_id],
    ).fetchone()[0]


def mark_sent(con: duckdb.DuckDBPyConnection, alert_id: str, now: datetime) -> None:
    con.execute(
        "UPDATE alert_outbox SET status = 'sent', sent_at = ?, last_error = NULL WHERE alert_id = ?",
        [now, alert_id],
    )


def mark_failed(
    con: duckdb.DuckDBPyConnection, alert_id: str, error: str, now: datetime, settings: AlertsSettings
) -> str:
    """Back to pending with exponential back-off, or parked as failed after `max_attempts`; returns status."""
    attempts = con.execute("SELECT attempts FROM alert_outbox WHERE alert_id = ?", [alert_id]).fetchone()[0]
    parked = attempts >= settings.max_attempts
    delay = timedelta(seconds=settings.retry_backoff_s * 2 ** max(0, attempts - 1))
    status = "failed" if parked else "pending"
    con.execute(
        "UPDATE alert_outbox SET status = ?, last_error = ?, next_attempt_at = ? WHERE alert_id = ?",
        [status, error[:1000], now + delay, alert_id],
    )
    return status


def note_unroutable(con: duckdb.DuckDBPyConnection, alert_id: str, reason: str) -> None:
    """Say why a message is not sent, without counting an attempt (its channel left the config)."""
    con.execute("UPDATE alert_outbox SET last_error = ? WHERE alert_id = ?", [reason, alert_id])


def count_waiting(con: duckdb.DuckDBPyConnection, now: datetime) -> int:
    """Pending messages not due yet (back-off or cool-down)."""
    return con.execute(
        "SELECT count(*) FROM alert_outbox WHERE status = 'pending' AND next_attempt_at > ?", [now]
    ).fetchone()[0]


# --- listing ----------------------------------------------------------------------------------------------


def pending(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Messages not delivered: pending, sending (interrupted) and failed (parked), oldest first."""
    return outbox_rows(con, include_sent=False)


def outbox_rows(con: duckdb.DuckDBPyConnection, *, include_sent: bool = False) -> list[dict[str, Any]]:
    if not _has_outbox(con):
        return []  # a read-only open of a warehouse written before migration 002: nothing queued yet
    # "merged": a duplicate of another message to the same channel, folded into it on upgrade (004).
    where = "" if include_sent else "WHERE status NOT IN ('sent', 'merged')"
    return _rows(
        con,
        f"""SELECT alert_id, rule_name AS rule, channel_label AS channel, kind, deal_id, revision, status,
                   attempts, next_attempt_at, last_error, created_at, sent_at, title
            FROM alert_outbox {where} ORDER BY created_at, alert_id""",
        [],
    )


def outbox_table(
    con: duckdb.DuckDBPyConnection, *, include_sent: bool = False
) -> tuple[list[str], list[tuple]]:
    """(columns, rows) for `dealradar alerts pending` (add include_sent for the whole history)."""
    rows = outbox_rows(con, include_sent=include_sent)
    return TABLE_COLUMNS, [tuple(r[c] for c in TABLE_COLUMNS) for r in rows]


def _has_outbox(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'alert_outbox' "
            "AND database_name = current_database()"
        ).fetchone()[0]
    )
