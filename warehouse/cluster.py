"""Clustering deal events (mentions) into deals, incrementally and explainably.

Each run looks only at events not yet clustered (`deal_id IS NULL AND merge_reason IS NULL`) and at the
candidate deals that share a normalised party name with them and were seen recently enough. An event joins a
candidate when:

- the deal types are compatible (equal; acquisition ~ merger ~ exit ~ investment, since a stake purchase is
  often worded as an acquisition; funding_round ~ investment),
- it falls within the type's time window of the deal (acquisitions take months from rumour to closing:
  180 days; rounds and investments 60; partnerships 30; IPOs 120), counted from the deal's first/last mention,
- and the names agree: the same target when both name one (a merger may swap target and acquirer); when
  one side has no target, the other's target must be among the shared names and the shared names must cover
  the smaller side (two of them when both name two or more). Two different named acquirers/investors/partners
  of the same target stay apart (rival bids, separate stakes, separate agreements), except in a funding round,
  where several investors take part in one deal.

Among several candidates the one sharing the most names, then the most recently seen, wins. The reason is
written to `deal_events.merge_reason`, e.g. "same target 'satispay' + type funding_round within 60 days".

Background events (past deals mentioned as context) are stored but neither create nor update deals: their
merge_reason says so, and they never alert. Events naming no company cannot be clustered and are marked too.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb

from extractors.clock import utc_now_naive as now_utc
from extractors.names import normalise_name
from warehouse.bulk import insert_columns, temp_table
from warehouse.db import transaction
from warehouse.fx import to_eur

log = logging.getLogger(__name__)

STATUS_RANK = {"rumor": 0, "announced": 1, "completed": 2}
WINDOW_DAYS = {
    "acquisition": 180,
    "merger": 180,
    "exit": 180,
    "ipo": 120,
    "investment": 60,
    "funding_round": 60,
    "partnership": 30,
}
_DEFAULT_WINDOW = 60
_ACQUISITION_FAMILY = frozenset({"acquisition", "merger", "exit", "investment"})
_FUNDING_FAMILY = frozenset({"funding_round", "investment"})
# The deal a mix of mentions describes: a round with its investors' stakes is a funding_round, an
# acquisition also reported as a stake purchase is an acquisition. "investment" only when nothing else is.
_UMBRELLA_ORDER = ("funding_round", "acquisition", "merger", "exit", "ipo", "partnership", "investment")
BACKGROUND_REASON = "background mention (a past deal given as context): stored, not clustered"
NO_NAME_REASON = "no company named: not clustered"


def compatible_types(a: str, b: str) -> bool:
    return (
        a == b
        or (a in _ACQUISITION_FAMILY and b in _ACQUISITION_FAMILY)
        or (a in _FUNDING_FAMILY and b in _FUNDING_FAMILY)
    )


def window_days(a: str, b: str) -> int:
    return max(WINDOW_DAYS.get(a, _DEFAULT_WINDOW), WINDOW_DAYS.get(b, _DEFAULT_WINDOW))


@dataclass(eq=False)
class _Mention:
    event_id: str
    deal_type: str
    acquirer: str
    target: str
    keys: frozenset[str]
    seen: datetime


@dataclass(eq=False)
class _Candidate:
    deal_id: str
    deal_type: str
    acquirer: str
    target: str
    keys: set[str]
    first_seen: datetime
    last_seen: datetime
    new: bool = False
    acquirers: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)


def _mention(row: Sequence[Any]) -> _Mention:
    event_id, deal_type, acquirer, target, parties, seen = row
    acquirer_key, target_key = normalise_name(acquirer), normalise_name(target)
    keys = {normalise_name(p) for p in parties or []} | {acquirer_key, target_key}
    keys.discard("")
    return _Mention(event_id, deal_type, acquirer_key, target_key, frozenset(keys), seen)


def _match(event: _Mention, deal: _Candidate) -> tuple[int, str] | None:
    """(strength, reason) when `event` is a mention of `deal`, else None."""
    if not compatible_types(event.deal_type, deal.deal_type):
        return None
    days = window_days(event.deal_type, deal.deal_type)
    if not (deal.first_seen - timedelta(days=days) <= event.seen <= deal.last_seen + timedelta(days=days)):
        return None
    shared = event.keys & deal.keys
    type_text = (
        event.deal_type if event.deal_type == deal.deal_type else f"{event.deal_type}~{deal.deal_type}"
    )
    if event.target and deal.target:
        swapped = event.target == deal.acquirer and event.acquirer == deal.target
        if event.target != deal.target and not swapped:
            return None
        if (
            event.deal_type != "funding_round"
            and "funding_round" not in deal.types
            and event.acquirer
            and deal.acquirers
            and event.acquirer not in deal.acquirers
            and not swapped
        ):
            return None
        what = (
            f"same target '{deal.target}'"
            if not swapped
            else f"same parties '{deal.target}', '{deal.acquirer}'"
        )
        return 10 + len(shared), f"{what} + type {type_text} within {days} days"
    # One side names no target: the other's target (if any) must be among the shared names, and the shared
    # names must cover the smaller side (two of them when both sides name two or more).
    if (event.target and event.target not in shared) or (deal.target and deal.target not in shared):
        return None
    if not shared or len(shared) < min(2, len(event.keys), len(deal.keys)):
        return None
    names = ", ".join(f"'{k}'" for k in sorted(shared))
    return len(shared), f"same parties {names} + type {type_text} within {days} days"


def _deal_id(event_id: str) -> str:
    return "d" + hashlib.sha1(event_id.encode()).hexdigest()[:16]


def cluster_new_events(con: duckdb.DuckDBPyConnection, run_id: str | None) -> dict[str, int]:
    """Link every unclustered event to a deal (existing or new) and refresh the deals they touch.

    One transaction. Returns counters: events_clustered, events_background, events_unclustered, deals_new,
    deals_updated, deals_revised.
    """
    with transaction(con):
        stats = _cluster(con, run_id)
    log.info("clustered %s", stats)
    return stats


def _cluster(con: duckdb.DuckDBPyConnection, run_id: str | None) -> dict[str, int]:
    rows = con.execute(
        """
        SELECT event_id, deal_type, acquirer, target, parties, published_at, background FROM deal_events
        WHERE deal_id IS NULL AND merge_reason IS NULL
        ORDER BY published_at, event_id
        """
    ).fetchall()
    assignments: list[tuple[str, str | None, str]] = []
    mentions = []
    background = unnamed = 0
    for row in rows:
        mention = _mention(row[:6])
        if row[6]:
            assignments.append((mention.event_id, None, BACKGROUND_REASON))
            background += 1
        elif not mention.keys:
            assignments.append((mention.event_id, None, NO_NAME_REASON))
            unnamed += 1
        else:
            mentions.append(mention)
    index = _load_candidates(con, mentions)
    new_deals: set[str] = set()
    for mention in mentions:
        deal, reason = _assign(mention, index)
        if deal.new and deal.deal_id not in new_deals:
            new_deals.add(deal.deal_id)
        assignments.append((mention.event_id, deal.deal_id, reason))
    _write_assignments(con, assignments)
    touched = sorted({deal_id for _, deal_id, _ in assignments if deal_id})
    refreshed = refresh_deals(con, touched, run_id)
    return {
        "events_clustered": len(mentions),
        "events_background": background,
        "events_unclustered": unnamed,
        "deals_new": len(new_deals),
        "deals_updated": len(touched) - len(new_deals),
        "deals_revised": refreshed["deals_revised"],
    }


class _Index:
    """Candidate deals by normalised name; new deals join it as they are created."""

    def __init__(self) -> None:
        self.by_key: dict[str, dict[str, _Candidate]] = {}

    def add(self, deal: _Candidate) -> None:
        for key in deal.keys:
            self.by_key.setdefault(key, {})[deal.deal_id] = deal

    def candidates(self, keys: Iterable[str]) -> list[_Candidate]:
        seen: dict[str, _Candidate] = {}
        for key in keys:
            seen.update(self.by_key.get(key, {}))
        return list(seen.values())


def _load_candidates(con: duckdb.DuckDBPyConnection, mentions: Sequence[_Mention]) -> _Index:
    index = _Index()
    if not mentions:
        return index
    keys = sorted({k for m in mentions for k in m.keys})
    oldest = min(m.seen for m in mentions) - timedelta(days=max(WINDOW_DAYS.values()))
    rows = con.execute(
        """
        WITH candidate AS (
            SELECT deal_id, deal_type, acquirer, target, name_keys, first_seen, last_seen FROM deals
            WHERE list_has_any(name_keys, $1::VARCHAR[]) AND last_seen >= $2
        ), mentioned AS (
            SELECT deal_id, list(DISTINCT acquirer) AS acquirers, list(DISTINCT deal_type) AS types
            FROM deal_events WHERE deal_id IN (SELECT deal_id FROM candidate) GROUP BY deal_id
        )
        SELECT c.*, m.acquirers, m.types FROM candidate c LEFT JOIN mentioned m USING (deal_id)
        """,
        [keys, oldest],
    ).fetchall()
    for deal_id, deal_type, acquirer, target, name_keys, first_seen, last_seen, acquirers, types in rows:
        acquirer_keys = {normalise_name(a) for a in acquirers or []} - {""}
        index.add(
            _Candidate(
                deal_id,
                deal_type,
                normalise_name(acquirer),
                normalise_name(target),
                set(name_keys or []),
                first_seen,
                last_seen,
                acquirers=acquirer_keys,
                types=set(types or []),
            )
        )
    return index


def _assign(mention: _Mention, index: _Index) -> tuple[_Candidate, str]:
    best: tuple[int, datetime, _Candidate, str] | None = None
    for deal in index.candidates(mention.keys):
        matched = _match(mention, deal)
        if matched and (best is None or (matched[0], deal.last_seen) > (best[0], best[1])):
            best = (matched[0], deal.last_seen, deal, matched[1])
    if best is None:
        deal = _Candidate(
            _deal_id(mention.event_id),
            mention.deal_type,
            mention.acquirer,
            mention.target,
            set(mention.keys),
            mention.seen,
            mention.seen,
            new=True,
            acquirers={mention.acquirer} - {""},
            types={mention.deal_type},
        )
        index.add(deal)
        return deal, "first mention: new deal"
    deal, reason = best[2], best[3]
    deal.keys |= mention.keys
    deal.first_seen = min(deal.first_seen, mention.seen)
    deal.last_seen = max(deal.last_seen, mention.seen)
    if mention.acquirer:
        deal.acquirers.add(mention.acquirer)
    deal.types.add(mention.deal_type)
    if not deal.target and mention.target:
        deal.target = mention.target
    index.add(deal)
    return deal, reason


def _write_assignments(
    con: duckdb.DuckDBPyConnection, assignments: Sequence[tuple[str, str | None, str]]
) -> None:
    if not assignments:
        return
    temp_table(
        con,
        "cluster_assignments",
        [
            ("event_id", "VARCHAR", [a[0] for a in assignments]),
            ("deal_id", "VARCHAR", [a[1] for a in assignments]),
            ("reason", "VARCHAR", [a[2] for a in assignments]),
        ],
    )
    con.execute(
        """
        UPDATE deal_events SET deal_id = a.deal_id, merge_reason = a.reason
        FROM cluster_assignments a WHERE deal_events.event_id = a.event_id
        """
    )
    con.execute("DROP TABLE cluster_assignments")


# --- deal rows from their mentions -------------------------------------------------------------------------


def refresh_deals(
    con: duckdb.DuckDBPyConnection, deal_ids: Sequence[str], run_id: str | None
) -> dict[str, int]:
    """Recompute the given deals from their mentions (inside the caller's transaction).

    A deal whose status or amount changes gets `revision + 1` (alerts key on it); a deal left without
    mentions is deleted. Also refreshes the deals' sector tags.
    """
    if not deal_ids:
        return {"deals_revised": 0, "deals_deleted": 0}
    ids = list(deal_ids)
    events = con.execute(
        """
        SELECT deal_id, event_id, deal_type, acquirer, target, parties, amount, currency, stake_pct,
               valuation, status, published_at, site
        FROM deal_events WHERE deal_id IN (SELECT unnest($1::VARCHAR[]))
        ORDER BY published_at, event_id
        """,
        [ids],
    ).fetchall()
    previous = {
        row[0]: row[1:]
        for row in con.execute(
            "SELECT deal_id, status, amount, currency, revision, created_run_id FROM deals "
            "WHERE deal_id IN (SELECT unnest($1::VARCHAR[]))",
            [ids],
        ).fetchall()
    }
    grouped: dict[str, list[tuple]] = {}
    for row in events:
        grouped.setdefault(row[0], []).append(row[1:])
    rows = [
        _deal_row(deal_id, mentions, previous.get(deal_id), run_id) for deal_id, mentions in grouped.items()
    ]
    gone = [deal_id for deal_id in ids if deal_id not in grouped and deal_id in previous]
    if gone:
        con.execute("DELETE FROM deals WHERE deal_id IN (SELECT unnest($1::VARCHAR[]))", [gone])
    _write_deals(con, rows)
    _tag_sectors(con, ids)
    revised = sum(
        1 for row in rows if row["deal_id"] in previous and row["revision"] > previous[row["deal_id"]][3]
    )
    return {"deals_revised": revised, "deals_deleted": len(gone)}


def _most_common(values: Iterable[Any]) -> Any:
    """The most frequent non-empty value; ties go to the first seen (mentions are in date order)."""
    counts = Counter(v for v in values if v not in (None, ""))
    if not counts:
        return None
    best = max(counts.values())
    return next(v for v in counts if counts[v] == best)


def _precision(amount: float) -> int:
    """Significant digits of an amount: 12.5 million is more precise than 12 million."""
    digits = f"{abs(amount):.6e}".split("e")[0].replace(".", "").rstrip("0")
    return len(digits)


def _best_amount(mentions: Sequence[tuple]) -> tuple[float | None, str | None]:
    """Most frequently stated (amount, currency); ties to the most precise, then the latest."""
    stated = [(m[5], m[6]) for m in mentions if m[5] is not None]
    if not stated:
        return None, _most_common(m[6] for m in mentions)
    counts = Counter(stated)
    order = {pair: i for i, pair in enumerate(stated)}  # last position wins: later mentions
    best = max(counts, key=lambda pair: (counts[pair], _precision(pair[0]), order[pair]))
    return best


def _umbrella_type(types: Counter) -> str:
    if "funding_round" in types:
        return "funding_round"
    others = [t for t in types if t != "investment"]
    if not others:
        return "investment"
    order = {t: i for i, t in enumerate(_UMBRELLA_ORDER)}
    return max(others, key=lambda t: (types[t], -order.get(t, len(order))))


def _display_name(names: Iterable[str | None], key: str) -> str | None:
    if not key:
        return None
    return _most_common(n for n in names if normalise_name(n) == key)


def _deal_row(deal_id: str, mentions: Sequence[tuple], previous: tuple | None, run_id: str | None) -> dict:
    # mention: event_id, deal_type, acquirer, target, parties, amount, currency, stake, valuation, status,
    # seen, site
    deal_type = _umbrella_type(Counter(m[1] for m in mentions))
    # The figures and names of the deal come from the mentions of its own type (a round's size, not one
    # investor's ticket); the other mentions fill in what those leave empty.
    principal = [m for m in mentions if m[1] == deal_type]
    target_key = _most_common(normalise_name(m[3]) for m in principal) or _most_common(
        normalise_name(m[3]) for m in mentions
    )
    acquirer_key = _most_common(normalise_name(m[2]) for m in principal) or _most_common(
        normalise_name(m[2]) for m in mentions
    )
    parties: dict[str, Counter] = {}
    for m in mentions:
        for name in [*(m[4] or []), m[2], m[3]]:
            if name:
                parties.setdefault(normalise_name(name), Counter())[name] += 1
    amount, currency = _best_amount(principal if any(m[5] is not None for m in principal) else mentions)
    first_seen = min(m[10] for m in mentions)
    valuation = _most_common(m[8] for m in principal) or _most_common(m[8] for m in mentions)
    stake = _most_common(m[7] for m in principal) or _most_common(m[7] for m in mentions)
    status = max(
        (m[9] for m in mentions if m[9] in STATUS_RANK), key=STATUS_RANK.__getitem__, default="announced"
    )
    revision = 1
    created = run_id
    if previous is not None:
        old_status, old_amount, old_currency, old_revision, created = previous
        changed = (old_status, old_amount, old_currency) != (status, amount, currency)
        revision = old_revision + 1 if changed else old_revision
    return {
        "deal_id": deal_id,
        "deal_type": deal_type,
        "acquirer": _display_name((m[2] for m in mentions), acquirer_key),
        "target": _display_name((m[3] for m in mentions), target_key),
        "parties": [counter.most_common(1)[0][0] for counter in parties.values()],
        "amount": amount,
        "currency": currency,
        "amount_eur": to_eur(amount, currency, first_seen.year),
        "stake_pct": stake,
        "valuation": valuation,
        "valuation_eur": to_eur(valuation, currency, first_seen.year),
        "status": status,
        "first_seen": first_seen,
        "last_seen": max(m[10] for m in mentions),
        "n_mentions": len(mentions),
        "n_sources": len({m[11] for m in mentions if m[11]}),
        "revision": revision,
        "created_run_id": created,
        "updated_run_id": run_id,
        "updated_at": now_utc(),
        "name_keys": sorted(k for k in parties if k),
        "acquirer_key": acquirer_key or None,
        "target_key": target_key or None,
    }


_DEAL_TYPES = {
    "deal_id": "VARCHAR",
    "deal_type": "VARCHAR",
    "acquirer": "VARCHAR",
    "target": "VARCHAR",
    "parties": "VARCHAR[]",
    "amount": "DOUBLE",
    "currency": "VARCHAR",
    "amount_eur": "DOUBLE",
    "stake_pct": "DOUBLE",
    "valuation": "DOUBLE",
    "valuation_eur": "DOUBLE",
    "status": "VARCHAR",
    "first_seen": "TIMESTAMP",
    "last_seen": "TIMESTAMP",
    "n_mentions": "INTEGER",
    "n_sources": "INTEGER",
    "revision": "INTEGER",
    "created_run_id": "VARCHAR",
    "updated_run_id": "VARCHAR",
    "updated_at": "TIMESTAMP",
    "name_keys": "VARCHAR[]",
    "acquirer_key": "VARCHAR",
    "target_key": "VARCHAR",
}


def _write_deals(con: duckdb.DuckDBPyConnection, rows: Sequence[dict]) -> None:
    if rows:
        columns = [(name, sql_type, [r[name] for r in rows]) for name, sql_type in _DEAL_TYPES.items()]
        insert_columns(con, "deals", columns, on_conflict="replace")


def _tag_sectors(con: duckdb.DuckDBPyConnection, deal_ids: Sequence[str]) -> None:
    # Sector keywords are matched once, when a deal changes, so the sector view stays a cheap aggregate.
    # The touched deals' texts are gathered first and each pattern is a constant: a regex join straight
    # against all articles, or with the pattern read per row, is orders of magnitude slower.
    if not _has_table(con, "deal_sectors"):
        return
    ids = list(deal_ids)
    con.execute("DELETE FROM deal_sectors WHERE deal_id IN (SELECT unnest($1::VARCHAR[]))", [ids])
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE sector_texts AS
        SELECT DISTINCT e.deal_id, coalesce(a.title, '') || ' ' || coalesce(a.text, '') AS body
        FROM deal_events e JOIN articles a ON a.url = e.article_url
        WHERE e.deal_id IN (SELECT unnest($1::VARCHAR[]))
        """,
        [ids],
    )
    for sector, pattern in con.execute("SELECT sector, pattern FROM sectors ORDER BY sector").fetchall():
        literal = pattern.replace("'", "''")
        con.execute(
            f"""
            INSERT INTO deal_sectors (deal_id, sector)
            SELECT DISTINCT deal_id, $1 FROM sector_texts
            WHERE regexp_matches(body, '{literal}')
              AND deal_id NOT IN (SELECT deal_id FROM deal_sectors WHERE sector = $1)
            """,
            [sector],
        )
    con.execute("DROP TABLE sector_texts")


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() "
            "WHERE table_name = ? AND database_name = current_database()",
            [name],
        ).fetchone()[0]
    )
