"""`dealradar serve` against a real Prefect API: it registers the nightly deployment with the config's
schedule and a one-run-at-a-time limit, and keeps serving until stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from fixtures.flow.sites import serve_demo_site, write_config
from support.db import rows

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]


def read_deployment(name: str) -> object | None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            return client.read_deployment_by_name(name)
        except ObjectNotFound:
            return None


def interrupt(proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Ctrl-C to serve's process group (as a terminal sends it); SIGKILL if it does not stop in time."""
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    if proc.stdout:
        proc.stdout.close()


def test_serve_registers_the_scheduled_deployment_and_runs_until_stopped(tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    config = write_config(tmp_path, [], schedule={"cron": "15 4 * * *", "timezone": "Europe/Rome"})
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "serve", "--config", str(config)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        deployment = None
        while deployment is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            deployment = read_deployment("dealradar-nightly/nightly")
        assert deployment is not None, "serve did not register the deployment"
        assert proc.poll() is None  # still serving
        schedule = deployment.schedules[0].schedule
        assert (schedule.cron, schedule.timezone) == ("15 4 * * *", "Europe/Rome")
        assert deployment.global_concurrency_limit is not None
        assert deployment.global_concurrency_limit.limit == 1
        assert deployment.concurrency_options.collision_strategy.value == "CANCEL_NEW"
        assert deployment.parameters["config_path"] == str(config.resolve())
    finally:
        interrupt(proc, timeout_s=30)


def test_prefect_yaml_deploys_the_same_deployment_onto_a_process_work_pool(tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.settings import PREFECT_API_URL

    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="dealradar", type="process"), overwrite=True)
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "DEALRADAR_HOME": str(ROOT)}
    out = subprocess.run(
        [str(Path(sys.executable).with_name("prefect")), "--no-prompt", "deploy", "--all"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    deployment = read_deployment("dealradar-nightly/nightly")
    assert deployment is not None and deployment.work_pool_name == "dealradar"
    schedule = deployment.schedules[0].schedule
    assert (schedule.cron, schedule.timezone) == ("0 2 * * *", "Europe/Rome")
    assert deployment.global_concurrency_limit.limit == 1
    assert deployment.concurrency_options.collision_strategy.value == "CANCEL_NEW"
    assert deployment.entrypoint == "flows/nightly.py:nightly"


# A scheduled night, as fast as a test can have one: cron every minute; the server's scheduler looks for
# due runs every 2 s instead of 60 s and serve polls for them every second instead of 10 s.
EVERY_MINUTE = {"cron": "* * * * *", "timezone": "UTC"}
QUICK_SCHEDULING = {
    "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
    "PREFECT_RUNNER_POLL_FREQUENCY": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}
RUN_WAIT_S = 150  # up to a minute to the next cron minute, then the run itself


def own_prefect_env(home: Path) -> dict[str, str]:
    """This test process's environment minus any Prefect API, with a Prefect home of its own."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    return {**env, **QUICK_SCHEDULING, "PREFECT_HOME": str(home)}


def api_post(url: str, path: str, body: dict) -> list[dict]:
    request = urllib.request.Request(
        f"{url}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def wait_for_a_completed_scheduled_run(url: str, log: Path) -> dict:
    """The first flow run of the served deployment that ends, once it is Completed; fails at once on a
    run that ends any other way (Cancelled, Failed, Crashed), naming its state message."""
    deadline = time.monotonic() + RUN_WAIT_S
    while time.monotonic() < deadline:
        try:
            runs = api_post(url, "/flow_runs/filter", {"sort": "EXPECTED_START_TIME_ASC", "limit": 20})
        except OSError:
            runs = []
        for run in runs:
            state = run.get("state") or {}
            assert run.get("deployment_id"), run  # only the deployment's scheduled runs exist here
            if state.get("type") == "COMPLETED":
                return run
            assert state.get("type") not in ("CANCELLED", "FAILED", "CRASHED"), (
                f"scheduled run {run['name']} ended {state.get('name')}: {state.get('message')}\n"
                + log.read_text(errors="replace")[-3000:]
            )
        time.sleep(1)
    raise AssertionError(f"no scheduled run completed within {RUN_WAIT_S} s\n" + log.read_text()[-3000:])


def assert_the_night_is_in_the_warehouse(config_dir: Path, n_articles: int) -> None:
    db = config_dir / "wh" / "dealradar.duckdb"
    assert rows(db, "SELECT count(*) FROM articles")[0][0] == n_articles
    assert rows(db, "SELECT count(*) FROM deal_events")[0][0] > 0
    assert rows(db, "SELECT status FROM runs ORDER BY started_at LIMIT 1") == [("ok",)]


def test_a_scheduled_night_completes_under_serve_against_a_running_prefect_server(tmp_path: Path) -> None:
    """The production set-up of the README: `prefect server start`, PREFECT_API_URL, `dealradar serve`."""
    from flows.serve import free_port, start_prefect_server

    env = own_prefect_env(tmp_path / "prefect-home")
    log = tmp_path / "serve.log"
    server, url = start_prefect_server(lambda _: None, port=free_port(4300), env=env)
    try:
        with serve_demo_site(0, "127.0.0.1") as site, log.open("wb") as out:
            config = write_config(tmp_path, [{"name": "Site", "url": site.feed_url}], schedule=EVERY_MINUTE)
            proc = subprocess.Popen(
                [sys.executable, "-m", "flows.cli", "serve", "--config", str(config)],
                cwd=ROOT, env={**env, "PREFECT_API_URL": url}, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            try:
                wait_for_a_completed_scheduled_run(url, log)
            finally:
                interrupt(proc, timeout_s=60)
        assert_the_night_is_in_the_warehouse(tmp_path, site.n_articles)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_scheduled_night_completes_under_serve_start_server_which_stops_its_server(tmp_path: Path) -> None:
    """Without PREFECT_API_URL, `serve --start-server` starts `prefect server start` on loopback, serves the
    deployment there, its scheduled runs complete, and Ctrl-C takes the server down with it."""
    import re

    log = tmp_path / "serve.log"
    with serve_demo_site(0, "127.0.0.1") as site, log.open("wb") as out:
        config = write_config(tmp_path, [{"name": "Site", "url": site.feed_url}], schedule=EVERY_MINUTE)
        proc = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "serve", "--start-server", "--config", str(config)],
            cwd=ROOT, env=own_prefect_env(tmp_path / "prefect-home"), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            url = None
            deadline = time.monotonic() + 120
            while url is None and time.monotonic() < deadline and proc.poll() is None:
                found = re.search(r"Prefect server on (http://127\.0\.0\.1:\d+/api)", log.read_text())
                url = found.group(1) if found else None
                time.sleep(0.2)
            assert url is not None, log.read_text()
            wait_for_a_completed_scheduled_run(url, log)
            assert proc.poll() is None  # still serving
        finally:
            interrupt(proc, timeout_s=60)
    assert_the_night_is_in_the_warehouse(tmp_path, site.n_articles)
    with pytest.raises(OSError):  # the server went with it
        urllib.request.urlopen(f"{url}/health", timeout=3)


def test_start_server_never_takes_another_server_on_its_port_for_its_own(tmp_path: Path) -> None:
    """Two starts at once: another server takes the port between the free-port check and our server's start.
    Its health answer must not pass for ours (the deployment would be registered with it)."""
    import http.server
    import threading

    from flows.serve import start_prefect_server

    class Foreign(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"true")

        def log_message(self, *args: object) -> None:
            pass

    foreign = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Foreign)
    threading.Thread(target=foreign.serve_forever, daemon=True).start()
    try:
        port = foreign.server_address[1]
        with pytest.raises(RuntimeError, match=f"port {port} taken"):
            server, _ = start_prefect_server(
                lambda _: None, port=port, env=own_prefect_env(tmp_path / "home"), output=subprocess.DEVNULL
            )
            server.terminate()  # reached only when the foreign answer was taken for ours
    finally:
        foreign.shutdown()
        foreign.server_close()
