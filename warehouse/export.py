"""Parquet export of the warehouse: one file per table and trend view, for any tool an analyst prefers."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

# Internal bookkeeping, not worth a file.
_SKIP_TABLES = frozenset({"schema_version"})


def exported_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables (all, including other modules' such as the alerts outbox) and views that get exported."""
    rows = con.execute(
        """
        SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary
        UNION ALL
        SELECT view_name FROM duckdb_views() WHERE database_name = current_database() AND NOT internal
              AND NOT temporary
        ORDER BY 1
        """
    ).fetchall()
    return [name for (name,) in rows if name not in _SKIP_TABLES]


def export_parquet(con: duckdb.DuckDBPyConnection, folder: str | Path) -> list[Path]:
    """Write each table and view to `folder/<name>.parquet`; returns the files written.

    Each file is written under a temporary name in the same folder and then renamed over the old one, so a
    reader sees either the previous complete file or the new complete file, never half of one.
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in exported_names(con):
        final = target / f"{name}.parquet"
        partial = target / f".{name}.parquet.{os.getpid()}.tmp"
        try:
            con.execute(f"COPY (SELECT * FROM \"{name}\") TO '{_sql_path(partial)}' (FORMAT parquet)")
            os.replace(partial, final)
        finally:
            partial.unlink(missing_ok=True)
        written.append(final)
    log.info("exported %d tables and views to %s", len(written), target)
    return written


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
