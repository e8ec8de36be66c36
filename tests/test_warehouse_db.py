"""Opening the warehouse: storage version and the DuckDB CLI, the writer lock, read-only SQL, migrations."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest
from test_warehouse_support import load_dataset, store_and_cluster

from warehouse.db import (
    MIGRATIONS_DIR,
    WarehouseError,
    WarehouseLocked,
    WarehouseUnwritable,
    apply_migrations,
    migration_files,
    open_warehouse,
    query_readonly,
    schema_version,
)
from warehouse.settings import WarehouseSettings

HOLD_SCRIPT = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("held", flush=True)
sys.stdin.readline()
con.close()
"""


def duckdb_cli() -> str:
    beside = Path(sys.executable).parent / "duckdb"
    found = str(beside) if beside.exists() else shutil.which("duckdb")
    if not found:
        pytest.skip("the duckdb CLI (pip install duckdb-cli) is not installed")
    return found


def run_cli(path: Path, sql: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [duckdb_cli(), "-readonly", "-csv", "-noheader", str(path), "-c", sql],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.fixture
def filled(tmp_path) -> Path:
    path = tmp_path / "data" / "dealradar.duckdb"
    con = open_warehouse(path)
    articles, events = load_dataset()
    store_and_cluster(con, articles, events)
    con.close()
    return path


def test_new_warehouse_opens_in_the_duckdb_cli_with_its_views(filled):
    counted = run_cli(filled, "SELECT count(*) FROM deal_events")
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout.strip() == "10"
    sectors = run_cli(filled, "SELECT sector, n_deals FROM v_deals_by_sector WHERE sector = 'fintech'")
    assert sectors.returncode == 0, sectors.stderr
    assert sectors.stdout.strip() == "fintech,1"
    views = [
        r[0] for r in query_readonly(filled, "SELECT view_name FROM duckdb_views() WHERE NOT internal")[1]
    ]
    assert len(views) >= 9
    every = run_cli(filled, "; ".join(f"SELECT '{v}', count(*) FROM {v}" for v in views) + ";")
    assert every.returncode == 0, every.stderr
    assert len(every.stdout.strip().splitlines()) == len(views)


def test_storage_version_setting_is_what_lets_the_cli_read_the_file(tmp_path):
    newest = tmp_path / "newest.duckdb"
    open_warehouse(WarehouseSettings(path=str(newest), storage_version=None)).close()
    result = run_cli(newest, "SELECT count(*) FROM deal_events")
    if result.returncode == 0:
        pytest.skip("this duckdb CLI reads the newest storage format too")
    assert "version" in result.stderr.lower()


def test_open_creates_the_folder_and_records_migrations(tmp_path):
    con = open_warehouse(tmp_path / "deep" / "folder" / "w.duckdb")
    versions = [v for v, _, _ in migration_files()]
    assert [
        r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    ] == versions
    assert schema_version(con) == versions[-1]
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert {"runs", "feed_state", "articles", "deal_events", "deals", "sectors"} <= tables
    con.close()
    # Opening again applies nothing twice.
    con = open_warehouse(tmp_path / "deep" / "folder" / "w.duckdb")
    assert con.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(versions)
    con.close()


def test_two_writable_connections_in_one_process_share_the_file(tmp_path):
    first = open_warehouse(tmp_path / "w.duckdb")  # creates the file
    second = open_warehouse(tmp_path / "w.duckdb", lock_timeout_s=0)
    first.execute("INSERT INTO runs (run_id, kind, started_at) VALUES ('r1', 'nightly', now())")
    assert second.execute("SELECT run_id FROM runs").fetchall() == [("r1",)]
    first.close()
    second.close()


def test_warehouse_made_by_the_previous_version_is_migrated_without_losing_rows(tmp_path):
    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path), config={"storage_compatibility_version": "v1.4.0"})
    apply_migrations(old, target=1)  # the warehouse as the first release left it
    articles, events = load_dataset()
    from warehouse.load import start_run, store_articles

    run_id = start_run(old, "nightly")
    store_articles(old, run_id, articles, events, "old-0.1")
    before = (
        old.execute("SELECT count(*) FROM articles").fetchone()[0],
        old.execute("SELECT count(*) FROM deal_events").fetchone()[0],
    )
    assert (
        old.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'v_deals_per_month'").fetchone()[0]
        == 0
    )
    old.close()

    con = open_warehouse(path)
    after = (
        con.execute("SELECT count(*) FROM articles").fetchone()[0],
        con.execute("SELECT count(*) FROM deal_events").fetchone()[0],
    )
    assert after == before == (9, 10)
    assert schema_version(con) == migration_files()[-1][0]
    # The new objects exist and work on the old rows.
    from warehouse.cluster import cluster_new_events

    cluster_new_events(con, run_id)
    assert con.execute("SELECT sum(n_deals) FROM v_deals_per_month").fetchone()[0] == 5
    assert con.execute("SELECT count(*) FROM sectors").fetchone()[0] > 10
    con.close()


def test_failed_migration_is_rolled_back_and_reported(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    shutil.copy(MIGRATIONS_DIR / "001_core.sql", folder)
    (folder / "002_broken.sql").write_text(
        "CREATE TABLE half_done (x INTEGER);\nSELECT * FROM no_such_table;\n"
    )
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    with pytest.raises(WarehouseError, match="002_broken.sql failed and was rolled back"):
        apply_migrations(con, folder=folder)
    assert schema_version(con) == 1
    assert (
        con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'half_done'").fetchone()[0] == 0
    )
    con.close()


# --- the single-writer lock ------------------------------------------------------------------------------


def hold_read_only(path: Path) -> subprocess.Popen:
    """Another process (like an analyst's DuckDB session) holding the file read-only."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def release(holder: subprocess.Popen) -> None:
    holder.communicate("done\n", timeout=30)  # also closes the pipes


def test_held_file_delays_the_writer_which_then_succeeds(filled, caplog):
    holder = hold_read_only(filled)
    timer = threading.Timer(1.0, release, [holder])
    timer.start()
    try:
        with caplog.at_level(logging.WARNING, logger="warehouse.db"):
            con = open_warehouse(filled, lock_timeout_s=60)
    finally:
        timer.join()
    assert any(
        "held by another process" in r.getMessage() and "waiting" in r.getMessage() for r in caplog.records
    )
    con.execute("INSERT INTO runs (run_id, kind, started_at) VALUES ('after-wait', 'nightly', now())")
    assert con.execute("SELECT count(*) FROM deal_events").fetchone()[0] == 10
    con.close()


def test_writer_gives_up_clearly_and_nothing_is_lost(filled):
    holder = hold_read_only(filled)
    try:
        with pytest.raises(WarehouseLocked) as raised:
            open_warehouse(filled, lock_timeout_s=0.5)
    finally:
        release(holder)
    message = str(raised.value)
    assert str(filled) in message and "another process" in message and "nothing is lost" in message
    assert raised.value.transient
    con = open_warehouse(filled, lock_timeout_s=5)
    assert con.execute("SELECT count(*) FROM deal_events").fetchone()[0] == 10
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 9
    con.close()


def test_reader_meeting_the_writer_is_told_to_retry_later(filled):
    writer = open_warehouse(filled)  # this process writes; a reader in another process must wait
    try:
        result = subprocess.run(
            [sys.executable, "-c", "import sys; from warehouse.db import query_readonly; "
             "query_readonly(sys.argv[1], 'SELECT 1')", str(filled)],
            capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[1],
        )  # fmt: skip
    finally:
        writer.close()
    assert result.returncode != 0
    assert "WarehouseLocked" in result.stderr and "being written by another process" in result.stderr


def test_readers_do_not_block_each_other(filled):
    holder = hold_read_only(filled)
    try:
        columns, rows = query_readonly(filled, "SELECT count(*) AS n FROM deals")
    finally:
        release(holder)
    assert (columns, rows) == (["n"], [(5,)])


# --- read-only SQL ---------------------------------------------------------------------------------------


def test_query_readonly_returns_columns_and_rows_and_releases_the_file(filled):
    columns, rows = query_readonly(filled, "SELECT target, n_sources FROM deals WHERE target = 'Satispay'")
    assert columns == ["target", "n_sources"] and rows == [("Satispay", 3)]
    open_warehouse(filled, lock_timeout_s=0).close()  # nothing left holding the file


@pytest.mark.parametrize(
    ("sql", "said"),
    [
        ("INSERT INTO runs (run_id, kind, started_at) VALUES ('x', 'y', now())", "read-only.*INSERT"),
        ("DELETE FROM deals", "read-only.*DELETE"),
        ("CREATE TABLE x AS SELECT 1", "read-only.*CREATE"),
        ("ATTACH '/tmp/elsewhere.duckdb' AS other", "ATTACH is not allowed"),
        ("COPY deals TO '/tmp/deals.csv'", "COPY is not allowed"),
        ("copy (select 1) to 'x.parquet' (format parquet)", "COPY is not allowed"),
        ("INSTALL httpfs", "LOAD is not allowed"),
        ("SELECT 1; DROP TABLE deals", "exactly one statement"),
        ("SELEC nonsense", "cannot parse"),
    ],
)
def test_query_readonly_refuses_writes(filled, sql, said):
    with pytest.raises(WarehouseError, match=said):
        query_readonly(filled, sql)
    assert query_readonly(filled, "SELECT count(*) FROM deals")[1] == [(5,)]


def test_reading_statements_of_every_kind_run(filled):
    assert query_readonly(filled, "SELECT 'copy to attach' AS s")[1] == [("copy to attach",)]
    assert ("deals",) in query_readonly(filled, "SHOW TABLES")[1]
    assert query_readonly(filled, "FROM v_deals_per_month SELECT sum(n_deals)")[1] == [(5,)]
    assert query_readonly(filled, "SELECT count(*) FROM deals WHERE n_sources >= ?", [2])[1] == [(1,)]


def test_missing_warehouse_read_only_is_a_clear_error_but_sql_sees_empty_tables(tmp_path):
    with pytest.raises(WarehouseError, match="does not exist yet"):
        open_warehouse(tmp_path / "nothing.duckdb", read_only=True)
    # `dealradar sql` before the first run: the schema with every table empty, and no file made
    assert query_readonly(tmp_path / "nothing.duckdb", "SELECT count(*) AS n FROM deals") == (["n"], [(0,)])
    with pytest.raises(WarehouseError, match="read-only"):
        query_readonly(tmp_path / "nothing.duckdb", "DELETE FROM deals")
    assert not (tmp_path / "nothing.duckdb").exists()


# --- unwritable places -----------------------------------------------------------------------------------

RO_SCRIPT = """
import sys
from warehouse.db import WarehouseUnwritable, open_warehouse
try:
    open_warehouse(sys.argv[1], lock_timeout_s=1)
except WarehouseUnwritable as exc:
    print("UNWRITABLE", exc)
con = open_warehouse(sys.argv[1], read_only=True)
print("ROWS", con.execute("SELECT count(*) FROM deal_events").fetchone()[0])
"""


def test_read_only_file_system_gives_a_clear_error_and_keeps_the_file(filled):
    # Tests run as root, for whom chmod does not stop writes: mount the folder read-only instead, in a
    # private mount namespace that vanishes with the child process.
    if not shutil.which("unshare") or not shutil.which("mount"):
        pytest.skip("unshare/mount not available")
    folder = filled.parent
    before = filled.read_bytes()
    script = (
        f"mount --bind -o ro '{folder}' '{folder}' && exec '{sys.executable}' -c '{RO_SCRIPT}' '{filled}'"
    )
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    if result.returncode != 0 and "mount" in result.stderr and "UNWRITABLE" not in result.stdout:
        pytest.skip(f"cannot mount read-only here: {result.stderr.strip()}")
    assert "UNWRITABLE" in result.stdout, result.stderr
    assert "read-only" in result.stdout and str(filled) in result.stdout
    assert "ROWS 10" in result.stdout
    assert filled.read_bytes() == before


def test_unwritable_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(WarehouseUnwritable, match="cannot create the warehouse folder"):
        open_warehouse(blocker / "w.duckdb")


DISK_FULL_SCRIPT = """
import sys
from extractors.models import Article
from warehouse.db import WarehouseUnwritable, open_warehouse
from warehouse.load import start_run, store_articles

def page(i, size):
    return Article(url=f"https://a.it/{i}", final_url=None, site="a.it", feed_name=None, feed_url=None,
                   title="t", author=None, published=None, text=str(i) + "y" * size, language="it",
                   extraction="page")

con = open_warehouse(sys.argv[1])
store_articles(con, start_run(con, "first"), [page(0, 10)], {}, "v")
con.close()
con = open_warehouse(sys.argv[1])
try:
    store_articles(con, start_run(con, "second"), [page(i, 200_000) for i in range(1, 40)], {}, "v")
except WarehouseUnwritable as exc:
    print("UNWRITABLE", exc)
con.close()
con = open_warehouse(sys.argv[1], read_only=True)
print("ROWS", con.execute("SELECT count(*) FROM articles").fetchone()[0])
"""


def test_disk_full_rolls_the_batch_back_with_a_clear_error(tmp_path):
    # A 4 MB file system (tmpfs in a private mount namespace) fills up half-way through a batch.
    if not shutil.which("unshare") or not shutil.which("mount"):
        pytest.skip("unshare/mount not available")
    small = tmp_path / "small"
    small.mkdir()
    script = (
        f"mount -t tmpfs -o size=4m tmpfs '{small}' && "
        f"exec '{sys.executable}' -c '{DISK_FULL_SCRIPT}' '{small}/w.duckdb'"
    )
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    if "UNWRITABLE" not in result.stdout and "mount" in result.stderr:
        pytest.skip(f"cannot mount a small file system here: {result.stderr.strip()}")
    assert "UNWRITABLE disk full" in result.stdout, result.stdout + result.stderr
    assert "rolled back" in result.stdout
    assert "ROWS 1" in result.stdout  # the first batch is intact, the failed one left nothing behind


def test_an_analysts_duckdb_cli_session_holds_off_the_writer_until_it_quits(filled):
    cli = subprocess.Popen(
        [duckdb_cli(), "-readonly", "-csv", "-noheader", str(filled)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        cli.stdin.write("SELECT count(*) FROM deals;\n")
        cli.stdin.flush()
        assert cli.stdout.readline().strip() == "5"  # the session is open and holds the file
        with pytest.raises(WarehouseLocked, match="duckdb"):
            open_warehouse(filled, lock_timeout_s=0.3)
    finally:
        cli.communicate(".quit\n", timeout=30)
    con = open_warehouse(filled, lock_timeout_s=5)
    assert con.execute("SELECT count(*) FROM deal_events").fetchone()[0] == 10
    con.close()
