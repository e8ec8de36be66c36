"""Typed settings of alerting (the `alerts:` key of config.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)


class WatchItem(_Strict):
    name: str
    """Company as it should appear in alerts."""
    aliases: list[str] = []
    """Other spellings that count as the same company (matched case- and accent-insensitively)."""


class AlertRule(_Strict):
    name: str
    """Rule name, used by `dealradar alerts test NAME` and shown in messages."""
    channels: list[str]
    """Apprise URLs (mailto://, json://, slack://, tgram://, ntfy://...). Write secrets as ${ENV_VAR}."""
    mode: Literal["instant", "digest"] = "instant"
    """instant: one message per new or updated deal; digest: one message per run listing them all."""
    deal_types: list[str] = []
    """Only these deal types (empty: all)."""
    watchlist: list[WatchItem] = []
    """Only deals naming one of these companies (empty: any company)."""
    min_amount_eur: float | None = None
    """Only deals of at least this amount in EUR (deals with no disclosed amount do not pass)."""
    min_stake_pct: float | None = None
    """Only deals with at least this stake (deals with no stake stated do not pass)."""
    statuses: list[Literal["rumor", "announced", "completed"]] = []
    """Only these statuses (empty: all)."""
    sites: list[str] = []
    """Only deals reported by one of these sites (host names, e.g. ilsole24ore.com)."""
    updates: bool = True
    """Also send an "update" message when a deal already alerted changes status or amount."""
    cooldown_hours: float = Field(0.0, ge=0)
    """Minimum hours between two messages about the same deal under this rule."""


class AlertsSettings(_Strict):
    urls: list[str] = []
    """Apprise URLs that get every new deal (a shorthand for one instant rule named "default")."""
    rules: list[AlertRule] = []
    """Named rules with their own channels, filters and mode."""
    max_attempts: int = Field(10, ge=1)
    """Sends tried per message before it is parked as failed (it stays in the outbox, visible)."""
    retry_backoff_s: float = Field(300.0, ge=0)
    """First back-off between failed sends, doubling each time; retries happen on later runs."""
