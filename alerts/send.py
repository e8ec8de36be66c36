"""Sending the outbox through apprise: retries with back-off, secrets kept out of storage and logs.

Delivery guarantee: at least once, with a dedup key. Each message is marked "sending" (committed) before
it is handed to the channel and "sent" after the channel accepted it. A crash between the two leaves the
row "sending"; the next run sends it again, because nothing can tell whether the channel received it.
Every copy carries the same key, derived from the outbox row (`alert_id`): as the mail header / webhook
HTTP header `X-Dealradar-Alert-Id` on channels whose apprise plugin takes custom headers (mailto, json,
xml, form...), and in the message footer ("alert id ...") on every channel, so a receiver or a reader can
drop the duplicate. Exactly-once is not possible over SMTP or HTTP without the receiver's help; the
window is the few milliseconds between the channel's acknowledgement and our commit.

Secrets: channel URLs in config.yaml hold secrets as `${ENV_VAR}`, expanded here, at send time only. The
outbox stores a hash of the unexpanded URL and a label such as "mailto #1", never the URL. While a message
is sent, a log filter on the apprise and urllib3 loggers replaces the expanded secret values, and errors
stored in `last_error` are redacted the same way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import uuid
import warnings
from collections.abc import Iterator, Mapping
from datetime import datetime
from urllib.parse import quote, quote_plus

import apprise
import duckdb

from alerts import outbox
from alerts.render import Message, render_instant, sample_view
from alerts.rules import effective_rules, find_rule
from alerts.settings import AlertsSettings
from extractors.clock import utc_now_naive

with warnings.catch_warnings():
    # apprise's e-mail plugin loads pgpy, which imports the deprecated stdlib module imghdr; loading it here,
    # once, keeps that third-party DeprecationWarning out of every send (and out of warnings-as-errors tests).
    warnings.simplefilter("ignore", DeprecationWarning)
    import apprise.utils.pgp  # noqa: F401

log = logging.getLogger(__name__)

ALERT_ID_HEADER = "X-Dealradar-Alert-Id"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_MIN_SECRET_LEN = 4  # shorter values would redact ordinary words from the logs
_REDACTED_LOGGERS = ("apprise", "urllib3.connectionpool")


class MissingSecret(Exception):
    """A channel URL refers to an environment variable that is not set. Fix the environment; retried."""


def expand_channel(url: str, environ: Mapping[str, str] | None = None) -> tuple[str, list[str]]:
    """The URL with each ${VAR} replaced from the environment, and the values substituted (to redact)."""
    env = os.environ if environ is None else environ
    missing = sorted({name for name in _ENV_REF.findall(url) if name not in env})
    if missing:
        raise MissingSecret(f"environment variable(s) not set: {', '.join(missing)}")
    secrets = [env[name] for name in _ENV_REF.findall(url)]
    return _ENV_REF.sub(lambda m: env[m.group(1)], url), secrets


def redact(text: str, secrets: list[str]) -> str:
    """`text` with every secret (also URL-encoded, as apprise logs URLs) replaced by "***"."""
    long_enough = [s for s in secrets if len(s) >= _MIN_SECRET_LEN]
    variants = {v for s in long_enough for v in (s, quote(s, safe=""), quote_plus(s))}
    for value in sorted(variants, key=len, reverse=True):
        text = text.replace(value, "***")
    return text


class _RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


@contextlib.contextmanager
def _secrets_redacted(secrets: list[str]) -> Iterator[None]:
    if not secrets:
        yield
        return
    redactor = _RedactSecrets(secrets)
    loggers = [logging.getLogger(name) for name in _REDACTED_LOGGERS]
    for lg in loggers:
        lg.addFilter(redactor)
    try:
        yield
    finally:
        for lg in loggers:
            lg.removeFilter(redactor)


def _asset() -> apprise.AppriseAsset:
    # Memory-only: apprise must not write caches next to the user's files.
    return apprise.AppriseAsset(storage_mode="memory")


def _preferred_format(plugin: object) -> str:
    # apprise >= 2 plugins may accept several formats: take the one this URL resolves to (its ?format= or
    # the plugin's first choice), so that apprise does no conversion of our already-escaped body.
    resolve = getattr(plugin, "resolve_format", None)
    fmt = resolve(None) if callable(resolve) else getattr(plugin, "notify_format", "text")
    if isinstance(fmt, tuple | list):
        fmt = fmt[0] if fmt else "text"
    return str(getattr(fmt, "value", fmt))


def deliver(url: str, message: Message, alert_id: str, timeout_s: float) -> str | None:
    """Send one message to one channel URL (as written in config); None on success, else a redacted error."""
    try:
        expanded, secrets = expand_channel(url)
    except MissingSecret as exc:
        return str(exc)
    with _secrets_redacted(secrets):
        try:
            return redact(_notify(expanded, message, alert_id, timeout_s) or "", secrets) or None
        except Exception as exc:  # a plugin bug must not stop the other messages
            return redact(f"{type(exc).__name__}: {exc}", secrets)


def _notify(url: str, message: Message, alert_id: str, timeout_s: float) -> str | None:
    asset = _asset()
    plugin = apprise.Apprise.instantiate(url, asset=asset)
    if plugin is None:
        return "apprise does not understand this channel URL (check its scheme and parameters)"
    headers = getattr(plugin, "headers", None)
    if isinstance(headers, dict):
        headers[ALERT_ID_HEADER] = alert_id
    fmt = _preferred_format(plugin)
    body = {"html": message.html, "markdown": message.markdown}.get(fmt, message.text)
    sender = apprise.Apprise(asset=asset)
    sender.add(plugin)
    result = sender.notify(title=message.title, body=body, body_format=fmt, timeout=timeout_s)
    if result:
        return None
    details = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
    status = getattr(getattr(result, "status", None), "name", "FAILURE")
    return "; ".join(dict.fromkeys(details)) or f"apprise reported {status}"


def _channels(settings: AlertsSettings) -> dict[str, str]:
    """channel id -> channel URL (unexpanded) for every channel of every rule."""
    return {outbox.channel_id(url): url for rule in effective_rules(settings) for url in rule.channels}


def send_pending(
    con: duckdb.DuckDBPyConnection, settings: AlertsSettings, now: datetime | None = None
) -> dict[str, int]:
    """Send every due message of the outbox, oldest first; returns counts {"sent", "failed", "deferred"}.

    failed: attempts that failed now (the message waits `retry_backoff_s` x 2^(attempts-1) for a later run,
    or is parked as "failed" after `max_attempts`); deferred: messages left for a later run, because they
    are not due yet (back-off, cool-down), because their channel already failed in this call (one dead
    channel costs one timeout per run, not one per message), or because their channel is no longer in the
    config (they wait, attempts untouched, in case it comes back).
    """
    moment = outbox.as_naive_utc(now)
    channels = _channels(settings)
    counts = {"sent": 0, "failed": 0, "deferred": 0}
    failed_channels: set[str] = set()
    unroutable: set[tuple[str, str]] = set()
    for row in outbox.due_rows(con, moment):
        if row.channel_id in failed_channels:
            counts["deferred"] += 1
            continue
        url = channels.get(row.channel_id)
        if url is None:
            # Kept as it is (no attempt counted): it goes out if the channel comes back into the config.
            gone = f"channel {row.channel_label} of rule {row.rule_name!r} is not in the config any more"
            outbox.note_unroutable(con, row.alert_id, f"{gone}; kept until it is")
            if (row.rule_name, row.channel_id) not in unroutable:
                log.warning("alerts wait: %s", gone)
            unroutable.add((row.rule_name, row.channel_id))
            counts["deferred"] += 1
            continue
        if _send_row(con, row, url, settings, moment, now is None):
            counts["sent"] += 1
        else:
            counts["failed"] += 1
            failed_channels.add(row.channel_id)
    counts["deferred"] += outbox.count_waiting(con, moment)
    return counts


def _send_row(
    con: duckdb.DuckDBPyConnection,
    row: outbox.OutboxRow,
    url: str,
    settings: AlertsSettings,
    moment: datetime,
    real_clock: bool,
) -> bool:
    if row.status == "sending":
        log.warning("alert %s (%s) was interrupted mid-send; sending it again with the same id",
                    row.alert_id, row.channel_label)  # fmt: skip
    attempts = outbox.mark_sending(con, row.alert_id, moment)  # committed before the channel sees anything
    error = deliver(url, row.message, row.alert_id, settings.send_timeout_s)
    if error is None:
        outbox.mark_sent(con, row.alert_id, utc_now_naive() if real_clock else moment)
        return True
    status = outbox.mark_failed(con, row.alert_id, error, moment, settings)
    log.warning("alert %s to %s (rule %s) failed, attempt %d/%d%s: %s", row.alert_id, row.channel_label,
                row.rule_name, attempts, settings.max_attempts,
                ", parked as failed" if status == "failed" else ", will retry", error)  # fmt: skip
    return False


def send_test(settings: AlertsSettings, rule_name: str) -> dict[str, object]:
    """Send a sample alert to each channel of a rule, outside the outbox (`dealradar alerts test RULE`).

    Returns {"rule", "sent", "failed", "errors": {channel label: redacted error}}; raises UnknownRule.
    """
    rule = find_rule(settings, rule_name)
    alert_id = f"test-{uuid.uuid4().hex[:16]}"
    message = render_instant(sample_view(), rule.name, alert_id)
    errors: dict[str, str] = {}
    for index, url in enumerate(rule.channels):
        error = deliver(url, message, alert_id, settings.send_timeout_s)
        if error is not None:
            errors[outbox.channel_label(url, index)] = error
    sent = len(rule.channels) - len(errors)
    return {"rule": rule.name, "sent": sent, "failed": len(errors), "errors": errors}
