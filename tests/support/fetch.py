"""Fetch settings for loopback tests: private addresses allowed, short timeouts, no retries."""

from __future__ import annotations

from extractors.settings import FetchSettings


def fetch_settings(**overrides: object) -> FetchSettings:
    base: dict[str, object] = {
        "allow_private_addresses": True,
        "connect_timeout_s": 2,
        "read_timeout_s": 2,
        "total_timeout_s": 5,
        "retries": 0,
        "retry_backoff_s": 0.01,
    }
    base.update(overrides)
    return FetchSettings(**base)  # type: ignore[arg-type]
