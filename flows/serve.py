"""`dealradar serve`: keep the nightly flow scheduled through Prefect.

A deployment named "nightly" with the config's cron and time zone, served by this process. Two runs never
overlap: the deployment's concurrency limit is 1 and a run that comes due while another works is
cancelled (CANCEL_NEW) rather than queued, so a slow night never piles runs up; the next run catches
up with whatever the feeds still carry. prefect.yaml declares the same deployment for `prefect deploy`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flows.config import Config
from flows.prefect_api import api_url

DEPLOYMENT_NAME = "nightly"
NO_SERVER_HELP = """\
dealradar serve needs a Prefect server to keep the schedule. Either:
  1. start one in another terminal:      prefect server start
     then point this shell at it:        export PREFECT_API_URL=http://127.0.0.1:4200/api
     and run again:                      dealradar serve
  2. or let dealradar start one for you: dealradar serve --start-server
     (a `prefect server start` subprocess on 127.0.0.1, stopped when serve stops)
  3. or use Prefect Cloud / a team server: prefect cloud login, or set PREFECT_API_URL."""


def nightly_deployment(config_path: str | Path, config: Config) -> Any:
    """The served deployment: cron + timezone from the config, one run at a time."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from flows.nightly import nightly

    return nightly.to_deployment(
        name=DEPLOYMENT_NAME,
        schedule=Cron(config.schedule.cron, timezone=config.schedule.timezone),
        parameters={"config_path": str(Path(config_path).resolve())},
        concurrency_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
        ),
        description="Nightly dealradar run (feeds -> articles -> deal events -> deals -> alerts).",
        tags=["dealradar"],
        entrypoint_type=EntrypointType.MODULE_PATH,  # runs from any folder with dealradar installed
    )


def serve_nightly(
    config_path: str | Path,
    config: Config,
    *,
    start_server: bool = False,
    echo: Callable[[str], None] = print,
) -> int:
    """Serve the deployment until interrupted; returns the process exit code."""
    if api_url() is not None:
        return _serve_here(config_path, config, echo)
    if not start_server:
        echo(NO_SERVER_HELP)
        return 2
    return _serve_with_own_server(config_path, echo)


def _serve_here(config_path: str | Path, config: Config, echo: Callable[[str], None]) -> int:
    from prefect import serve

    echo(
        f"Serving the nightly flow on {api_url()}: cron {config.schedule.cron!r} "
        f"({config.schedule.timezone}), config {Path(config_path).resolve()}; one run at a time. "
        "Ctrl-C to stop."
    )
    with contextlib.suppress(KeyboardInterrupt):
        serve(nightly_deployment(config_path, config), limit=1)
    return 0


def _serve_with_own_server(config_path: str | Path, echo: Callable[[str], None]) -> int:
    """Start `prefect server start`, then serve from a child process whose environment names it.

    Serving from this process does not work: Prefect's settings (and the clients made from them) were
    read before the server existed, so setting PREFECT_API_URL now reaches some clients and not others.
    Serve then started a temporary server of its own next to ours, and every scheduled run was cancelled
    ("Deployment concurrency slot lost during provisioning"). A child started with the variable set sees
    one API from its first line on, exactly as after `export PREFECT_API_URL=...`.
    """
    server, url = start_prefect_server(echo)
    # A service manager stops us with SIGTERM: unwind through `finally` so the server goes down too.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    child: subprocess.Popen[bytes] | None = None
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "serve", "--config", str(Path(config_path).resolve())],
            env={**os.environ, "PREFECT_API_URL": url},
        )
        return child.wait()
    except KeyboardInterrupt:  # Ctrl-C reached the whole process group: the child stops on its own
        return 0
    finally:
        if child is not None:
            _stop(child, signal.SIGINT)
        _stop(server, signal.SIGTERM)
        signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _stop(proc: subprocess.Popen[bytes], sig: int, timeout_s: float = 30) -> None:
    """Ask a child to stop (it may be stopping already), then kill it if it does not within the timeout."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_prefect_server(
    echo: Callable[[str], None],
    port: int | None = None,
    env: dict[str, str] | None = None,
    output: int | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `prefect server start` on 127.0.0.1 (port 4200, or the next free one) and wait until its API
    answers. `env`: the server's environment (default: ours); `output`: where its console goes (ours)."""
    prefect = shutil.which("prefect") or str(Path(sys.executable).with_name("prefect"))
    port = port or free_port(4200)
    url = f"http://127.0.0.1:{port}/api"
    echo(f"Starting a Prefect server on {url} (UI at http://127.0.0.1:{port}) ...")
    server = subprocess.Popen(
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=output, stderr=output,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                f"`prefect server start` exited with code {server.returncode} (port {port} taken by another "
                "program that started at the same moment?)"
            )
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                if resp.status == 200 and _listens(server.pid, port):
                    return server, url
        except OSError:
            pass
        time.sleep(0.5)
    server.terminate()
    raise RuntimeError("the Prefect server did not answer within 120 s")


def _listens(pid: int, port: int) -> bool:
    """Whether process `pid` or one of its children listens on `port`: an answer on the port may come from
    another server that took it between `free_port` and our server's start (two starts at once), and
    serving there would register our deployment with it."""
    import psutil

    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                if any(
                    c.status == psutil.CONN_LISTEN and c.laddr.port == port
                    for c in proc.net_connections("tcp")
                ):
                    return True
    return False


def free_port(first: int, tries: int = 100) -> int:
    """The first port from `first` on that nothing listens on at 127.0.0.1 (4200 may be a running server
    of another project: serving there would register our deployment with it)."""
    for port in range(first, first + tries):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"no free port in {first}-{first + tries - 1} for a Prefect server")
