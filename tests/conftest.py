"""Session-wide test set-up: Prefect runs against a throw-away home and one shared test harness."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.server import LoopbackServer

# Prefect reads these at import time: set them before any test module imports prefect.
_PREFECT_HOME = tempfile.mkdtemp(prefix="dealradar-prefect-")
os.environ.setdefault("PREFECT_HOME", _PREFECT_HOME)
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("PREFECT_API_URL", None)

SHARED_DEALS = Path(__file__).resolve().parents[1].parent / "shared" / "deals"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_unconfigure(config: pytest.Config) -> None:
    # The throw-away Prefect home (its database, logs) goes with the session.
    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One ephemeral Prefect API for the whole session (it takes ~10 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="module")
def shared_server() -> Iterator[LoopbackServer]:
    # One server per module: starting and stopping one costs a moment (its shutdown poll).
    with LoopbackServer() as server:
        yield server


@pytest.fixture
def web(shared_server: LoopbackServer) -> LoopbackServer:
    """The module's loopback server, emptied of routes and recorded requests for this test."""
    shared_server.reset(routes={})
    return shared_server


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
