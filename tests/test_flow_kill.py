"""A nightly run killed with SIGKILL at several points, then run again, ends exactly where an
uninterrupted run ends: every article stored once, no event twice, every deal alerted once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import duckdb
import pytest
from fixtures.flow.sites import Webhook, serve_demo_site, write_config
from support.server import LoopbackServer, Response

from flows.nightly import nightly

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
LATENCY_S = 0.25


def slowed(server: LoopbackServer) -> LoopbackServer:
    """Every page of `server` answers after LATENCY_S, so a run lasts long enough to be killed mid-way."""
    for path, route in list(server.routes.items()):

        def late(request: BaseHTTPRequestHandler, route: Callable = route) -> Response:
            time.sleep(LATENCY_S)
            return route(request)

        server.routes[path] = late
    return server


@contextmanager
def demo_web() -> Iterator[tuple[list[LoopbackServer], list[dict[str, str]]]]:
    with ExitStack() as stack:
        sites = [stack.enter_context(slowed(serve_demo_site(i, f"127.0.0.{i + 1}"))) for i in range(3)]
        yield sites, [{"name": f"site{i}", "url": s.feed_url} for i, s in enumerate(sites)]


def api_env() -> dict[str, str]:
    # The subprocess talks to the session's Prefect API instead of starting its own (~10 s saved per run).
    from prefect.settings import PREFECT_API_URL

    return {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PREFECT_LOGGING_LEVEL": "WARNING"}


def start_run(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "run", "--config", str(config)],
        cwd=ROOT,
        env=api_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def kill_when(proc: subprocess.Popen[bytes], ready: Callable[[], bool], timeout_s: float = 60) -> bool:
    """SIGKILL the run (its whole process group) once `ready()` holds; False when the run ended first."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    if proc.poll() is not None:
        return False
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    if proc.stderr:
        proc.stderr.close()
    return True


def requests_then_quiet(sites: list[LoopbackServer], n: int, quiet_s: float) -> Callable[[], bool]:
    """True once the run made n requests and then none for quiet_s (its fetching is over)."""
    start = sum(len(s.requests) for s in sites)
    last = {"count": start, "at": time.monotonic()}

    def ready() -> bool:
        count = sum(len(s.requests) for s in sites)
        if count != last["count"]:
            last.update(count=count, at=time.monotonic())
        return count - start >= n and time.monotonic() - last["at"] >= quiet_s

    return ready


def snapshot(db: Path) -> dict[str, object]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        return {
            "articles": q("SELECT url FROM articles ORDER BY url"),
            "article_rows": q("SELECT count(*) FROM articles")[0][0],
            # Names may differ with the order articles arrive in (the extractor remembers companies
            # already in the warehouse), so events are compared per article and checked for doubles.
            "events_per_article": q(
                "SELECT article_url, count(*) FROM deal_events GROUP BY ALL ORDER BY ALL"
            ),
            "doubled_events": q(
                """SELECT count(*) - count(DISTINCT (article_url, deal_type, coalesce(target, ''), evidence))
                   FROM deal_events"""
            )[0][0],
            "unextracted": q(
                "SELECT count(*) FROM articles WHERE skip_reason IS NULL AND extractor_version IS NULL"
            )[0][0],
            "deals": q("SELECT count(*) FROM deals")[0][0],
            "new_alerts_per_deal": q(
                """SELECT d.deal_id, count(o.alert_id) FROM deals d
                   LEFT JOIN alert_outbox o ON o.deal_id = d.deal_id AND o.kind = 'new' AND o.status = 'sent'
                   WHERE EXISTS (SELECT 1 FROM deal_events e WHERE e.deal_id = d.deal_id AND NOT e.background)
                   GROUP BY d.deal_id"""
            ),
            "not_sent": q("SELECT count(*) FROM alert_outbox WHERE status <> 'sent'")[0][0],
            "sent": {row[0] for row in q("SELECT alert_id FROM alert_outbox WHERE status = 'sent'")},
        }
    finally:
        con.close()


def test_runs_killed_at_several_points_then_rerun_lose_nothing_and_double_nothing(tmp_path: Path) -> None:
    reference_dir, killed_dir = tmp_path / "reference", tmp_path / "killed"
    reference_dir.mkdir()
    killed_dir.mkdir()
    with demo_web() as (sites, feeds), Webhook() as ref_hook, Webhook() as hook:
        fetch = {"per_host_concurrency": 1}
        reference = write_config(reference_dir, feeds, fetch=fetch, alerts={"urls": [ref_hook.url]})
        nightly(str(reference))

        config = write_config(
            killed_dir, feeds, fetch=fetch, alerts={"urls": [hook.url], "retry_backoff_s": 0}
        )
        kills = 0
        # Kill points: while the feeds load, among the article pages, and 0.2 s and 0.5 s after the last page
        # (extraction, storing, clustering, alerting); a run ends within about a second of its last page.
        for after_requests, quiet_s in [(1, 0.0), (6, 0.0), (1, 0.2), (1, 0.5)]:
            proc = start_run(config)
            killed = kill_when(proc, requests_then_quiet(sites, after_requests, quiet_s))
            kills += killed
            if not killed:
                _, err = proc.communicate()
                assert proc.returncode == 0, err.decode()
        assert kills >= 3, "the runs ended before they could be killed: the test proves nothing"

        final = start_run(config)
        _, err = final.communicate(timeout=120)
        assert final.returncode == 0, err.decode()

    got = snapshot(killed_dir / "wh" / "dealradar.duckdb")
    want = snapshot(reference_dir / "wh" / "dealradar.duckdb")
    assert got["articles"] == want["articles"] and got["article_rows"] == len(want["articles"]) == 12
    assert got["events_per_article"] == want["events_per_article"] and got["doubled_events"] == 0
    assert got["unextracted"] == 0
    assert got["deals"] == want["deals"]
    assert got["new_alerts_per_deal"] and all(n == 1 for _, n in got["new_alerts_per_deal"])
    assert got["not_sent"] == 0
    ids = [headers["X-Dealradar-Alert-Id"] for headers, _ in hook.calls]
    assert set(ids) == got["sent"]  # every alert delivered, none unknown
    # A kill after the receiver got a message but before the outbox recorded it can only repeat that
    # message, with the same X-Dealradar-Alert-Id (a receiver can drop the repeat): at most one per kill.
    assert len(ids) - len(set(ids)) <= kills
