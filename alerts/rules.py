"""Which deals a rule wants: the effective rules of a config and the filter that applies one to a deal.

A deal is given as a mapping of `deals` columns (deal_type, acquirer, target, parties, amount_eur,
stake_pct, status) plus the sites of its (non-background) mentions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from alerts.settings import DEFAULT_RULE_NAME, AlertRule, AlertsSettings, WatchItem
from extractors.names import name_tokens


class UnknownRule(ValueError):
    """No rule of that name in the config. Terminal: fix the name or the config."""


def effective_rules(settings: AlertsSettings) -> list[AlertRule]:
    """`alerts.urls` as the implicit instant rule "default" (every deal, no filters), then `alerts.rules`."""
    rules = []
    if settings.urls:
        rules.append(AlertRule(name=DEFAULT_RULE_NAME, channels=list(settings.urls)))
    rules.extend(settings.rules)
    return rules


def find_rule(settings: AlertsSettings, name: str) -> AlertRule:
    for rule in effective_rules(settings):
        if rule.name == name:
            return rule
    known = ", ".join(r.name for r in effective_rules(settings)) or "none configured"
    raise UnknownRule(f"no alert rule named {name!r} (rules: {known})")


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    # Whole-token sequence match: alias "Eni" matches "Eni S.p.A." but not "Enilive" or "Telenia".
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def deal_names(deal: Mapping[str, Any]) -> list[str]:
    names = [deal.get("acquirer"), deal.get("target"), *(deal.get("parties") or [])]
    return [n for n in names if n]


def watchlist_hits(watchlist: Iterable[WatchItem], names: Iterable[str]) -> list[str]:
    """Names of the watchlist items (by their display name) that one of `names` mentions."""
    tokenised = [name_tokens(n) for n in names]
    hits = []
    for item in watchlist:
        spellings = [name_tokens(s) for s in (item.name, *item.aliases)]
        if any(_contains(name, s) for name in tokenised for s in spellings):
            hits.append(item.name)
    return hits


def matches(rule: AlertRule, deal: Mapping[str, Any], sites: Iterable[str]) -> bool:
    """True when the deal passes every filter of the rule (an empty filter lets everything through)."""
    if rule.deal_types and deal.get("deal_type") not in rule.deal_types:
        return False
    if rule.statuses and deal.get("status") not in rule.statuses:
        return False
    if rule.min_amount_eur is not None:
        amount = deal.get("amount_eur")
        if amount is None or amount < rule.min_amount_eur:
            return False
    if rule.min_stake_pct is not None:
        stake = deal.get("stake_pct")
        if stake is None or stake < rule.min_stake_pct:
            return False
    if rule.sites:
        reported = {s.lower().removeprefix("www.") for s in sites if s}
        if not reported.intersection(rule.sites):
            return False
    return not rule.watchlist or bool(watchlist_hits(rule.watchlist, deal_names(deal)))
