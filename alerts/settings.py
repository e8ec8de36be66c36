"""Typed settings of alerting (the `alerts:` key of config.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from extractors.models import DealType

DEFAULT_RULE_NAME = "default"
"""Name of the implicit instant rule made from `alerts.urls`."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)


class WatchItem(_Strict):
    name: str = Field(min_length=1)
    """Company as it should appear in alerts."""
    aliases: list[str] = []
    """Other spellings that count as the same company (matched case- and accent-insensitively)."""


class AlertRule(_Strict):
    name: str = Field(min_length=1)
    """Rule name, used by `dealradar alerts test NAME` and shown in messages."""
    channels: list[str] = Field(min_length=1)
    """Apprise URLs (mailto://, json://, slack://, tgram://, ntfy://...). Write secrets as ${ENV_VAR}:
    they are expanded only when a message is sent, and only a hash of the URL is stored."""
    mode: Literal["instant", "digest"] = "instant"
    """instant: one message per new or updated deal; digest: one message per run listing them all."""
    deal_types: list[DealType] = []
    """Only these deal types (empty: all)."""
    watchlist: list[WatchItem] = []
    """Only deals naming one of these companies (empty: any company)."""
    min_amount_eur: float | None = Field(None, ge=0)
    """Only deals of at least this amount in EUR (deals with no disclosed amount do not pass)."""
    min_stake_pct: float | None = Field(None, ge=0, le=100)
    """Only deals with at least this stake (deals with no stake stated do not pass)."""
    statuses: list[Literal["rumor", "announced", "completed"]] = []
    """Only these statuses (empty: all)."""
    sites: list[str] = []
    """Only deals reported by one of these sites (host names, e.g. ilsole24ore.com; "www." is ignored)."""
    updates: bool = True
    """Also send an "update" message when a deal already alerted changes status or amount."""
    cooldown_hours: float = Field(0.0, ge=0)
    """Instant mode: minimum hours between two messages about the same deal under this rule (a later
    update waits until then; it says what changed since the message before)."""

    @field_validator("sites")
    @classmethod
    def _bare_hosts(cls, v: list[str]) -> list[str]:
        return [s.strip().lower().removeprefix("www.") for s in v if s.strip()]


class AlertsSettings(_Strict):
    urls: list[str] = []
    """Apprise URLs that get every new deal (a shorthand for one instant rule named "default")."""
    rules: list[AlertRule] = []
    """Named rules with their own channels, filters and mode."""
    max_attempts: int = Field(10, ge=1)
    """Sends tried per message before it is parked as failed (it stays in the outbox, visible)."""
    retry_backoff_s: float = Field(300.0, ge=0)
    """First back-off between failed sends, doubling each time; retries happen on later runs."""
    send_timeout_s: float = Field(30.0, gt=0)
    """Longest wait for one channel to accept one message before the send counts as failed."""
    max_age_days: float | None = Field(7.0, gt=0)
    """Alerts are about news: a deal whose articles of this run are all older than this (by publication
    date, else fetch time) is held back as backfill, stored but not alerted (null: no age limit)."""
    first_run: Literal["recent", "none"] = "recent"
    """What the first run on a warehouse (no earlier successful run) alerts: "recent" as any run (deals within
    `max_age_days`), "none" nothing: everything it finds is backfill and later runs alert on what is new."""

    @model_validator(mode="after")
    def _unique_rule_names(self) -> AlertsSettings:
        names = [r.name for r in self.rules]
        if self.urls:
            names.append(DEFAULT_RULE_NAME)
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(
                f'rule names must be unique ("{DEFAULT_RULE_NAME}" is taken by alerts.urls): {duplicates}'
            )
        return self
