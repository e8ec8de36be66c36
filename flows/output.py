"""How the CLI prints rows: a table for people, CSV / JSON / JSON lines for programs (never cut).

Like sqlite-utils and the DuckDB CLI: `--format table` (the default) trims long cells to keep the terminal
readable; every other format prints each value whole. JSON is always valid: dates and times are ISO 8601
strings, DECIMAL values numbers, NaN and infinities null, lists and structs JSON arrays and objects.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any
from uuid import UUID

import click

FORMATS = ("table", "csv", "json", "jsonl")


def format_option(fn: Any) -> Any:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="table for reading (long cells trimmed); csv, json or jsonl for programs (nothing cut).",
    )(fn)


def limit_option(fn: Any) -> Any:
    return click.option(
        "--limit", type=click.IntRange(min=0), default=None, help="Print at most this many rows."
    )(fn)


def plain(value: Any) -> Any:
    """`value` as JSON can hold it: ISO dates, numbers for decimals, null for NaN, lists and objects."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return str(value)


def _json(record: Mapping[str, Any]) -> str:
    return json.dumps({k: plain(v) for k, v in record.items()}, ensure_ascii=False, allow_nan=False)


def _csv_cell(value: Any) -> Any:
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def write_rows(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, out: IO[str], *, noun: str = "row"
) -> None:
    """Print `rows` in `fmt`; the table format ends with a count line ("(3 rows)")."""
    if fmt == "table":
        from warehouse.trends import format_table

        out.write(format_table(list(columns), [tuple(r) for r in rows]) + "\n")
        out.write(f"({len(rows)} {noun}{'s' if len(rows) != 1 else ''})\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_csv_cell(v) for v in row] for row in rows)
    elif fmt == "json":
        records = [_json(dict(zip(columns, row, strict=True))) for row in rows]
        out.write("[" + ",\n ".join(records) + "]\n")
    elif fmt == "jsonl":
        for row in rows:
            out.write(_json(dict(zip(columns, row, strict=True))) + "\n")
    else:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


def echo_rows(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str = "table", noun: str = "row"
) -> None:
    buffer = io.StringIO()
    write_rows(columns, rows, fmt, buffer, noun=noun)
    click.echo(buffer.getvalue(), nl=False)


def print_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain-text table, in the warehouse's format (one look across commands), without a count line."""
    from warehouse.trends import format_table

    click.echo(format_table(list(columns), [tuple(r) for r in rows]))
