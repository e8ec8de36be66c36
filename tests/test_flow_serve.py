"""`dealradar serve` against a real Prefect API: it registers the nightly deployment with the config's
schedule and a one-run-at-a-time limit, and keeps serving until stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures.flow.sites import write_config

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


def test_serve_start_server_runs_its_own_prefect_server_and_stops_it(tmp_path: Path) -> None:
    """Without PREFECT_API_URL, `serve --start-server` starts `prefect server start` on loopback, registers
    the deployment there and takes the server down with it on Ctrl-C."""
    import json
    import re
    import urllib.request

    config = write_config(tmp_path, [], schedule={"cron": "0 3 * * *", "timezone": "Europe/Rome"})
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")  # a profile with no API: serve must start one
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "serve", "--start-server", "--config", str(config)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    output: list[str] = []
    url = None
    try:
        deadline = time.monotonic() + 180
        deployment = None
        while deployment is None and time.monotonic() < deadline and proc.poll() is None:
            line = proc.stdout.readline().decode(errors="replace") if proc.stdout else ""
            output.append(line)
            found = re.search(r"Prefect server on (http://127\.0\.0\.1:\d+/api)", line)
            url = found.group(1) if found else url
            if url and "Serving the nightly flow" in line:
                deadline_api = time.monotonic() + 60
                while deployment is None and time.monotonic() < deadline_api:
                    try:
                        with urllib.request.urlopen(
                            f"{url}/deployments/name/dealradar-nightly/nightly", timeout=5
                        ) as resp:
                            deployment = json.loads(resp.read())
                    except OSError:
                        time.sleep(0.5)
        assert deployment is not None, "".join(output)
        assert deployment["schedules"][0]["schedule"]["cron"] == "0 3 * * *"
        assert proc.poll() is None  # still serving
    finally:
        interrupt(proc, timeout_s=60)
    assert url is not None
    with pytest.raises(OSError):  # the server went with it
        urllib.request.urlopen(f"{url}/health", timeout=3)
