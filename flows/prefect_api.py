"""Which Prefect API a command talks to, and what Prefect's temporary server costs when there is none.

Prefect 3 without a configured API (PREFECT_API_URL, or the active profile) starts a temporary server in a
subprocess for each CLI run and stops it at exit: 8-10 s a run on a 2-core machine, longer than a quiet
night. The nightly set-up of the README runs one server for good instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

AVOID_TEMPORARY_SERVER = """\
To avoid it, keep one Prefect server running and point dealradar at it:
  prefect server start                                  (in another terminal, or as a service)
  export PREFECT_API_URL=http://127.0.0.1:4200/api      (or: prefect config set PREFECT_API_URL=...)
then `dealradar run` (or `dealradar serve` for the nightly schedule) uses it."""


def api_url() -> str | None:
    """The Prefect API in use: PREFECT_API_URL from the environment or the active Prefect profile."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


@dataclass
class TemporaryServer:
    """Seconds Prefect's temporary server took to start and to stop (None: a configured API was used)."""

    start_s: float | None = None
    stop_s: float | None = None


@contextmanager
def prefect_api() -> Iterator[TemporaryServer]:
    """Start Prefect's temporary server up front when no API is configured (so that its cost is timed
    rather than hidden in the first flow-run call), and stop it on the way out."""
    cost = TemporaryServer()
    if api_url() is not None:
        yield cost
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the instance get_client() would start: one per process
    started = time.perf_counter()
    server.start()
    cost.start_s = time.perf_counter() - started
    try:
        yield cost
    finally:
        stopped = time.perf_counter()
        _send_pending_logs_and_events()  # they would be sent at exit, to a server already gone
        server.stop()
        cost.stop_s = time.perf_counter() - stopped


def _send_pending_logs_and_events() -> None:
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=5)
