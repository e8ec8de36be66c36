"""Entries a run could not fetch, kept for the next run (table `pending_entries`, migration 005).

A run loads them at its start (`load_pending`: those older than the horizon are given up and counted),
fetches them with the feeds' new entries, and at its end, with the articles stored, `save_pending` removes
the ones now stored and records the ones deferred again. Written after the articles in the same short
connection: a run killed before that leaves the table as it was, and the next run does the same work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import duckdb

from extractors.clock import naive_utc, utc_now_naive
from extractors.models import DeferredEntry, FeedEntry
from warehouse.bulk import Column, temp_table
from warehouse.db import transaction

_ENTRY_COLUMNS = "url, feed_name, feed_url, link, title, summary, content, published_at, author, guid"


def load_pending(
    con: duckdb.DuckDBPyConnection, horizon_days: float, now: datetime | None = None
) -> tuple[list[FeedEntry], int]:
    """(entries waiting, newest first; how many were older than `horizon_days` and were given up)."""
    cutoff = (naive_utc(now) or utc_now_naive()) - timedelta(days=horizon_days)
    expired = con.execute(
        "DELETE FROM pending_entries WHERE coalesce(published_at, first_deferred_at) < ? RETURNING url",
        [cutoff],
    ).fetchall()
    rows = con.execute(
        f"SELECT {_ENTRY_COLUMNS} FROM pending_entries "
        "ORDER BY coalesce(published_at, first_deferred_at) DESC, url"
    ).fetchall()
    entries = [
        FeedEntry(
            url=url, feed_name=feed_name, feed_url=feed_url, link=link, title=title, summary=summary,
            content=content, published=_aware(published), author=author, guid=guid,
        )  # fmt: skip
        for url, feed_name, feed_url, link, title, summary, content, published, author, guid in rows
    ]
    return entries, len(expired)


def save_pending(
    con: duckdb.DuckDBPyConnection, run_id: str, deferred: Sequence[DeferredEntry], resolved: Iterable[str]
) -> int:
    """Forget the entries now stored (`resolved` URLs); record `deferred` (again). Returns the backlog."""
    by_url = {d.entry.url: d for d in deferred}  # an upsert may touch a row once
    now = utc_now_naive()
    with transaction(con):
        gone = list(set(resolved) - set(by_url))
        if gone:
            con.execute("DELETE FROM pending_entries WHERE url IN (SELECT unnest($1::VARCHAR[]))", [gone])
        if by_url:
            items = list(by_url.values())
            columns: list[Column] = [
                    ("url", "VARCHAR", [d.entry.url for d in items]),
                    ("feed_name", "VARCHAR", [d.entry.feed_name for d in items]),
                    ("feed_url", "VARCHAR", [d.entry.feed_url for d in items]),
                    ("link", "VARCHAR", [d.entry.link for d in items]),
                    ("title", "VARCHAR", [d.entry.title for d in items]),
                    ("summary", "VARCHAR", [d.entry.summary for d in items]),
                    ("content", "VARCHAR", [d.entry.content for d in items]),
                    ("published_at", "TIMESTAMP", [naive_utc(d.entry.published) for d in items]),
                    ("author", "VARCHAR", [d.entry.author for d in items]),
                    ("guid", "VARCHAR", [d.entry.guid for d in items]),
                    ("reason", "VARCHAR", [d.reason for d in items]),
                    ("first_deferred_at", "TIMESTAMP", [now] * len(items)),
                    ("last_deferred_at", "TIMESTAMP", [now] * len(items)),
                    ("deferrals", "INTEGER", [1] * len(items)),
                    ("run_id", "VARCHAR", [run_id] * len(items)),
            ]
            temp_table(con, "pending_new", columns)
            names = ", ".join(name for name, _, _ in columns)
            con.execute(
                f"""
                INSERT INTO pending_entries AS old ({names}) SELECT {names} FROM pending_new
                ON CONFLICT (url) DO UPDATE SET
                    reason = excluded.reason,
                    last_deferred_at = excluded.last_deferred_at,
                    deferrals = old.deferrals + 1,
                    run_id = excluded.run_id
                """
            )
            con.execute("DROP TABLE pending_new")
    return int(con.execute("SELECT count(*) FROM pending_entries").fetchone()[0])  # type: ignore[index]


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment
