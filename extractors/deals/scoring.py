"""Event matching and F1 as GUIDELINES.md ("Scoring") defines them, for choosing thresholds and calibrating
confidence on held-out training articles at `make train` (the shared score.py stays the reference)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..models import DealEvent
from ..names import same_company


def _found(name: str | None, values: Iterable[str | None]) -> bool:
    return bool(name) and any(same_company(name, v) for v in values)


def matches(gold: dict[str, Any], pred: DealEvent) -> bool:
    kinds = {gold.get("deal_type"), pred.deal_type}
    stake = gold.get("stake_pct")
    if len(kinds) > 1 and not (kinds == {"acquisition", "investment"} and stake is not None and stake < 100):
        return False
    if gold.get("target"):
        return _found(gold["target"], [pred.target, *pred.parties])
    return _found(gold.get("acquirer"), [pred.acquirer, *pred.parties])


def f1(articles: Iterable[tuple[list[dict[str, Any]], list[DealEvent]]]) -> float:
    """Event F1 over (gold events, predicted events) per article; optional gold events neither reward nor
    punish a prediction that matches them."""
    tp = fp = fn = 0
    for gold, pred in articles:
        used: set[int] = set()
        for p in pred:
            hit = next((i for i, g in enumerate(gold) if i not in used and matches(g, p)), None)
            if hit is None:
                fp += 1
                continue
            used.add(hit)
            tp += gold[hit].get("required", True)
        fn += sum(1 for i, g in enumerate(gold) if g.get("required", True) and i not in used)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0
