"""Opening the DuckDB warehouse: storage version, forward migrations, and waiting for the single-writer lock.

DuckDB allows one writing process per file, and a process holding the file read-only (an analyst's
`duckdb data/dealradar.duckdb`) blocks writers. `open_warehouse` therefore retries with back-off for a
bounded time and then raises `WarehouseLocked`, a transient error: the run stops before writing anything,
and the next run picks up everything (feed state is only saved after the data it guards).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import duckdb

from extractors.clock import utc_now_naive
from warehouse.settings import WarehouseSettings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{3})_([A-Za-z0-9_]+)\.sql$")
_FIRST_WAIT_S = 0.2
_MAX_WAIT_S = 5.0


class WarehouseError(Exception):
    """A warehouse problem; `transient` says whether running again later can fix it."""

    transient = False


class WarehouseLocked(WarehouseError):
    """Another process holds the file: retry on the next run."""

    transient = True


class WarehouseUnwritable(WarehouseError):
    """The file or its folder cannot be written (read-only file system, permissions, disk full)."""


def open_warehouse(
    settings: WarehouseSettings | str | Path,
    *,
    read_only: bool = False,
    lock_timeout_s: float | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse and bring its schema up to date.

    A new file is written in `settings.storage_version` so that older DuckDB CLIs open it. A writable open
    applies pending migrations. While another process holds the file, waits with back-off up to
    `lock_timeout_s` (default: the settings' value) and then raises `WarehouseLocked`.
    """
    if not isinstance(settings, WarehouseSettings):
        settings = WarehouseSettings(path=str(settings))
    path = Path(settings.path)
    timeout = settings.lock_timeout_s if lock_timeout_s is None else lock_timeout_s
    if read_only and not path.exists():
        raise WarehouseError(
            f"warehouse {path} does not exist yet: run `dealradar run` or `dealradar demo` first"
        )
    if not read_only:
        _ensure_folder(path)
    con = _connect_waiting(
        path, read_only=read_only, storage_version=settings.storage_version, timeout=timeout
    )
    if not read_only:
        try:
            apply_migrations(con)
        except duckdb.Error as exc:
            con.close()
            raise _classify_write_error(path, exc) from exc
    return con


def query_readonly(
    path: str | Path, sql: str, params: Sequence[Any] | None = None, *, limit: int | None = None
) -> tuple[list[str], list[tuple]]:
    """Run one statement on a read-only connection and close it at once (for `dealradar sql`); at most
    `limit` rows are fetched.

    Only reading statements (SELECT/FROM/WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN, PRAGMA, CALL) are run:
    a read-only connection refuses INSERT/UPDATE/DELETE/CREATE, but would still let ATTACH open another
    file for writing or COPY ... TO write files, so those are refused up front with a clear error.
    Before the first run there is no file: the statement runs on an empty in-memory warehouse with the
    same schema (every table empty), so `SELECT 42` and `SELECT count(*) FROM deals` still answer.
    """
    _check_reading_statement(sql)
    if Path(path).exists():
        con = open_warehouse(path, read_only=True, lock_timeout_s=0)
    else:
        log.info("no warehouse at %s yet: querying an empty one", path)
        con = duckdb.connect(":memory:")
        apply_migrations(con)
    try:
        try:
            result = con.execute(sql, params) if params else con.execute(sql)
        except duckdb.Error as exc:
            if "read-only" in str(exc).lower():
                raise WarehouseError(f"`dealradar sql` is read-only: {exc}") from exc
            raise
        if result.description is None:
            return [], []
        columns = [d[0] for d in result.description]
        return columns, result.fetchall() if limit is None else result.fetchmany(limit)
    finally:
        con.close()


_READING = {"SELECT", "EXPLAIN", "PRAGMA", "CALL"}


def _check_reading_statement(sql: str) -> None:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot parse the SQL: {exc}") from exc
    if len(statements) != 1:
        raise WarehouseError(f"`dealradar sql` runs exactly one statement; got {len(statements)}")
    kind = statements[0].type.name
    if kind not in _READING:
        raise WarehouseError(
            f"`dealradar sql` only reads the warehouse (it is read-only); {kind} is not allowed"
        )


def _ensure_folder(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseUnwritable(
            f"cannot create the warehouse folder {path.parent}: {exc.strerror}"
        ) from exc


def _connect_waiting(
    path: Path, *, read_only: bool, storage_version: str | None, timeout: float
) -> duckdb.DuckDBPyConnection:
    config = {}
    if storage_version and not read_only:
        # Decides the format of a file being created; an existing file keeps its own format. Passed on
        # every writable open so that two connections in one process share one configuration (DuckDB
        # refuses a second connection to the same file with a different one).
        config["storage_compatibility_version"] = storage_version
    deadline = time.monotonic() + timeout
    wait = _FIRST_WAIT_S
    waited = False
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            if not _is_lock_conflict(exc):
                raise _classify_write_error(path, exc) from exc
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WarehouseLocked(_locked_message(path, exc, timeout, read_only)) from exc
            if not waited:
                log.warning(
                    "warehouse %s is held by another process (%s); waiting up to %g s",
                    path,
                    _holder(exc),
                    timeout,
                )
                waited = True
            time.sleep(min(wait, remaining))
            wait = min(wait * 2, _MAX_WAIT_S)
        except duckdb.Error as exc:
            raise _classify_write_error(path, exc) from exc
        else:
            if waited:
                log.info("warehouse %s released; continuing", path)
            return con


def _locked_message(path: Path, exc: Exception, timeout: float, read_only: bool) -> str:
    if read_only:
        return (
            f"warehouse {path} is being written by another process ({_holder(exc)}), probably the nightly "
            "run; try again when it has finished"
        )
    return (
        f"warehouse {path} is held by another process ({_holder(exc)}) and was not released within "
        f"{timeout:g} s; nothing was written and nothing is lost: the next run catches up. Close the other "
        "DuckDB session (or use `dealradar sql`, which closes at once)."
    )


def _is_lock_conflict(exc: Exception) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Conflicting lock" in text or "Could not set lock" in text)


def _holder(exc: Exception) -> str:
    match = re.search(r"Conflicting lock is held in (.+?) \(PID (\d+)\)", str(exc))
    return f"PID {match.group(2)}, {match.group(1)}" if match else "unknown process"


def _classify_write_error(path: Path, exc: Exception) -> WarehouseError:
    text = str(exc)
    lowered = text.lower()
    if "no space left" in lowered or "disk is full" in lowered:
        return WarehouseUnwritable(
            f"disk full while writing warehouse {path}: this batch was rolled back and the file keeps "
            f"what it had before; free some space and run again. ({text})"
        )
    if "read-only" in lowered or "permission denied" in lowered or "read only" in lowered:
        return WarehouseUnwritable(
            f"warehouse {path} cannot be written (read-only file or file system, or no permission); "
            f"the file is unchanged: {text}"
        )
    return WarehouseError(f"warehouse {path}: {text}")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN ... COMMIT, rolled back on any error; disk-full / read-only errors become WarehouseUnwritable.

    DuckDB may already have aborted the transaction itself (e.g. a failed write at COMMIT): the rollback
    then has nothing to do, and the original error is the one reported.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException as exc:
        with suppress(duckdb.Error):  # DuckDB may have rolled back already
            con.execute("ROLLBACK")
        if isinstance(exc, duckdb.Error):
            classified = _classify_write_error(_database_path(con), exc)
            if isinstance(classified, WarehouseUnwritable):
                raise classified from exc
        raise


def _database_path(con: duckdb.DuckDBPyConnection) -> Path:
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return Path(row[0]) if row and row[0] else Path(":memory:")


# --- migrations --------------------------------------------------------------------------------------------


def migration_files(folder: Path = MIGRATIONS_DIR) -> list[tuple[int, str, Path]]:
    """The migrations in `folder`, as (version, name, path), in version order."""
    found = []
    for file in folder.glob("*.sql"):
        match = _MIGRATION_NAME.match(file.name)
        if not match:
            log.warning("ignoring %s: migration files are named NNN_name.sql", file.name)
            continue
        found.append((int(match.group(1)), match.group(2), file))
    versions = [v for v, _, _ in found]
    if len(versions) != len(set(versions)):
        raise WarehouseError(f"two migrations share a version number in {folder}: {sorted(versions)}")
    return sorted(found)


def applied_versions(con: duckdb.DuckDBPyConnection) -> set[int]:
    _create_version_table(con)
    return {row[0] for row in con.execute("SELECT version FROM schema_version").fetchall()}


def apply_migrations(
    con: duckdb.DuckDBPyConnection, *, target: int | None = None, folder: Path = MIGRATIONS_DIR
) -> list[int]:
    """Apply, in order, each migration not yet recorded in `schema_version` (up to `target`, inclusive).

    Each migration runs in its own transaction together with its `schema_version` row, so a crash leaves it
    either fully applied or not at all. Returns the versions applied now.
    """
    done = applied_versions(con)
    applied = []
    for version, name, file in migration_files(folder):
        if version in done or (target is not None and version > target):
            continue
        sql = file.read_text(encoding="utf-8")
        try:
            with transaction(con):
                con.execute(sql)
                con.execute(
                    "INSERT INTO schema_version VALUES (?, ?, ?)",
                    [version, name, utc_now_naive()],
                )
        except duckdb.Error as exc:
            raise WarehouseError(f"migration {file.name} failed and was rolled back: {exc}") from exc
        log.info("applied warehouse migration %s", file.name)
        applied.append(version)
    return applied


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest applied migration version (0 for an empty warehouse)."""
    return max(applied_versions(con), default=0)


def _create_version_table(con: duckdb.DuckDBPyConnection) -> None:
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() "
        "WHERE table_name = 'schema_version' AND database_name = current_database()"
    ).fetchone()[0]
    if exists:
        return
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
        "applied_at TIMESTAMP NOT NULL)"
    )
