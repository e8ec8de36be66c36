"""The alerts outbox: which messages a run owes, and the state of each one's delivery.

`enqueue_alerts` runs in the writing process after clustering, so a message is only written once the deals it
is about are stored. Each message has a deterministic `alert_id` (a hash of rule, channel, deal and revision;
for digests rule, channel and run), so enqueueing twice adds nothing. `send.py` drains the table; the
`mark_*` functions here record each step, every one committed at once (DuckDB auto-commit), so the table is
always the truth about what was sent.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from alerts.render import Change, DealView, Message, format_money, render_digest, render_instant
from alerts.rules import deal_names, effective_rules, matches, watchlist_hits
from alerts.settings import AlertRule, AlertsSettings
from warehouse.bulk import insert_columns

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


def utcnow() -> datetime:
    """Naive UTC, the warehouse's timestamp convention."""
    return datetime.now(UTC).replace(tzinfo=None)


def as_naive_utc(moment: datetime | None) -> datetime:
    if moment is None:
        return utcnow()
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


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
    """Non-background mentions of each deal, oldest first, with their article's title."""
    if not deal_ids:
        return {}
    rows = _rows(
        con,
        """SELECT e.deal_id, e.article_url, e.site, e.evidence, e.run_id, a.title,
                  coalesce(e.published_at, e.extracted_at) AS seen_at
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
    """(rule, channel, deal) -> the latest message about the deal there: what it announced, and until when
    it held later ones back (`last_not_before`, for the cool-down). One query for all deals."""
    rows = _rows(
        con,
        """SELECT d.rule_name, d.channel_id, d.deal_id, d.revision, d.status, d.amount, d.currency,
                  d.amount_eur, d.stake_pct,
                  max(o.not_before) OVER (PARTITION BY d.rule_name, d.channel_id, d.deal_id)
                      AS last_not_before
           FROM alert_outbox_deals d JOIN alert_outbox o USING (alert_id)
           WHERE list_contains(?, d.deal_id)
           QUALIFY row_number() OVER (
               PARTITION BY d.rule_name, d.channel_id, d.deal_id ORDER BY d.revision DESC) = 1""",
        [deal_ids],
    )
    return {(r["rule_name"], r["channel_id"], r["deal_id"]): r for r in rows}


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


def _view(deal: dict[str, Any], mentions: list[dict[str, Any]], rule: AlertRule, kind: str) -> DealView:
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
        watchlist=watchlist_hits(rule.watchlist, deal_names(deal)),
    )


# --- enqueueing -------------------------------------------------------------------------------------------


def enqueue_alerts(con: duckdb.DuckDBPyConnection, settings: AlertsSettings, run_id: str) -> int:
    """Write the messages this run owes (deals created or revised in it that match a rule); return how many.

    instant: one message per (rule, channel, deal, revision), kind "new" for the first message about the deal
    under that rule and channel, "update" for a later revision (only if the rule wants updates), held back
    until `cooldown_hours` after the previous one. digest: one message per (rule, channel, run) listing them
    all. Idempotent: running it again for the same run adds nothing. One transaction.
    """
    rules = effective_rules(settings)
    deals = _touched_deals(con, str(run_id)) if rules else []
    if not deals:
        return 0
    deal_ids = [d["deal_id"] for d in deals]
    mentions = _mentions(con, deal_ids)
    announced = _last_announced(con, deal_ids)
    now = utcnow()
    batch = _Batch()
    for rule in rules:
        wanted = [d for d in deals if matches(rule, d, {m["site"] for m in mentions[d["deal_id"]]})]
        for index, url in enumerate(rule.channels):
            due = _due_here(rule, channel_id(url), wanted, mentions, announced)
            batch.add(rule, url, index, due, str(run_id), now)
    con.execute("BEGIN TRANSACTION")
    try:
        written = batch.write(con)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    if written:
        log.info("alerts: %d message(s) queued for run %s", written, run_id)
    return written


@dataclass
class _Due:
    deal: dict[str, Any]
    view: DealView
    last_not_before: datetime | None


def _due_here(
    rule: AlertRule,
    cid: str,
    deals: list[dict[str, Any]],
    mentions: dict[str, list[dict[str, Any]]],
    announced: dict[tuple[str, str, str], dict[str, Any]],
) -> list[_Due]:
    """The deals this channel of the rule has not heard about at their current revision."""
    due = []
    for deal in deals:
        before = announced.get((rule.name, cid, deal["deal_id"]))
        if before is not None and before["revision"] >= deal["revision"]:
            continue  # this revision (or a later one) was already announced here
        kind = "update" if before else "new"
        changes = _changes(before, deal) if before else []
        if kind == "update" and (not rule.updates or not changes):
            continue
        view = _view(deal, mentions.get(deal["deal_id"], []), rule, kind)
        view.changes = changes
        due.append(_Due(deal, view, before["last_not_before"] if before else None))
    return due


class _Batch:
    """Messages and the deals they cover, written with one bulk insert per table."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.covered: list[dict[str, Any]] = []

    def add(self, rule: AlertRule, url: str, index: int, due: list[_Due], run_id: str, now: datetime) -> None:
        if not due:
            return
        cid, label = channel_id(url), channel_label(url, index)
        base = {
            "rule_name": rule.name,
            "mode": rule.mode,
            "channel_id": cid,
            "channel_label": label,
            "run_id": run_id,
            "created_at": now,
        }
        if rule.mode == "digest":
            alert_id = _alert_id(rule.name, cid, "digest", run_id)
            message = render_digest([d.view for d in due], rule.name, alert_id)
            self._add(alert_id, {**base, "kind": "digest", "not_before": now}, message, due)
            return
        for item in due:
            deal = item.deal
            alert_id = _alert_id(rule.name, cid, deal["deal_id"], deal["revision"])
            message = render_instant(item.view, rule.name, alert_id)
            not_before = now
            if rule.cooldown_hours and item.last_not_before is not None:
                not_before = max(now, item.last_not_before + timedelta(hours=rule.cooldown_hours))
            fields = {
                **base,
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
                    "rule_name": fields["rule_name"],
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
        # A channel listed twice in a rule yields the same ids twice: keep one.
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
    where = "" if include_sent else "WHERE status <> 'sent'"
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
