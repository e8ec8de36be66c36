"""The `dealradar` command. Heavy libraries (Prefect, spaCy, DuckDB) are imported inside the commands
that need them, so `dealradar --help` answers at once."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

CONFIG_ENV = "DEALRADAR_CONFIG"
# Our packages' exceptions are messages for the user (bad config, locked file, unknown rule...).
_OUR_PACKAGES = ("flows.", "warehouse.", "extractors.", "alerts.")


def _is_user_error(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    if module.startswith(_OUR_PACKAGES) or module.startswith("duckdb"):
        return True
    return isinstance(exc, OSError | ValueError)


def _exit_code(exc: BaseException) -> int:
    from flows.config import ConfigError

    return 2 if isinstance(exc, ConfigError) else 1


class _Group(click.Group):
    """Turns library errors into one clear line and exit code 1 (2 for a bad config), no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("DEALRADAR_DEBUG") or not _is_user_error(exc):
                raise
            click.echo(f"dealradar: error: {exc}", err=True)
            ctx.exit(_exit_code(exc))


class _NoTracebackForUserErrors(logging.Filter):
    """Prefect logs a failed flow run's exception with its traceback; for a library error (locked file,
    bad feed...) the console gets the message only, as the CLI prints it again in one line. The run's log
    in the Prefect API keeps the traceback (its handler sees the record first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None and _is_user_error(record.exc_info[1]):
            record.exc_info = None
            record.exc_text = None
        return True


def _quiet_prefect_tracebacks() -> None:
    for name in ("prefect", ""):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, _NoTracebackForUserErrors) for f in handler.filters):
                handler.addFilter(_NoTracebackForUserErrors())


def config_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--config",
        "config_path",
        default="config.yaml",
        envvar=CONFIG_ENV,
        show_default=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"Configuration file (or set {CONFIG_ENV}).",
    )(fn)


def _load(config_path: Path) -> Any:
    from flows.config import load_config

    return load_config(config_path)


def print_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain-text table, in the warehouse's format (one look across commands)."""
    from warehouse.trends import format_table

    click.echo(format_table(list(columns), [tuple(r) for r in rows]))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dealradar")
def main() -> None:
    """dealradar: Italian tech-deal news -> deal events -> a DuckDB warehouse -> alerts.

    Start with `dealradar demo` (offline, bundled sample sites); then edit config.yaml and
    `dealradar run`. Set DEALRADAR_DEBUG=1 to see tracebacks.
    """


@main.command()
@config_option
def run(config_path: Path) -> None:
    """Run the nightly flow once, now, and print its summary (exit code 1 when every feed failed)."""
    from flows.report import format_summary

    _load(config_path)  # fail on a bad config before Prefect starts
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # a local Prefect server stays quiet
    from flows.nightly import run_nightly
    from flows.prefect_api import AVOID_TEMPORARY_SERVER, api_url, prefect_api

    _quiet_prefect_tracebacks()
    url = api_url()
    if url:
        click.echo(f"Prefect: the server at {url} (PREFECT_API_URL) records this run", err=True)
    else:
        click.echo("Prefect: no server configured (PREFECT_API_URL): starting a temporary one...", err=True)
    with prefect_api() as temporary:
        summary = run_nightly(config_path)
    click.echo(format_summary(summary))
    if temporary.start_s is not None:
        click.echo(
            f"Prefect's temporary server took {temporary.start_s:.1f} s to start and "
            f"{temporary.stop_s or 0:.1f} s to stop, on top of the run.\n{AVOID_TEMPORARY_SERVER}",
            err=True,
        )
    if summary["feeds_failed"] and not (summary["feeds_fetched"] or summary["feeds_not_modified"]):
        click.echo("dealradar: error: every feed failed (no network? see the reasons above)", err=True)
        sys.exit(1)


@main.command()
@click.option(
    "--dir",
    "data_dir",
    default="demo-data",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the demo config, warehouse and Parquet export.",
)
def demo(data_dir: Path) -> None:
    """Run the real nightly flow offline against bundled Italian sample sites and show the deals."""
    from flows.demo import run_demo

    run_demo(data_dir, echo=click.echo)


@main.command()
@click.argument("query")
@config_option
def sql(query: str, config_path: Path) -> None:
    """Run one read-only SQL QUERY on the warehouse and print the result as a table."""
    from warehouse.db import query_readonly

    config = _load(config_path)
    columns, rows = query_readonly(config.warehouse_path, query)
    if columns:
        print_table(columns, rows)
        click.echo(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


@main.command("extract-deals")
@click.argument(
    "input_path", metavar="INPUT.jsonl", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--output",
    "output_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write one JSON line per article: {id, events}.",
)
def extract_deals(input_path: Path, output_path: Path) -> None:
    """Extract deal events from INPUT.jsonl (one article a line: id, title, text) without the warehouse."""
    from extractors.deals import extract_jsonl

    stats = extract_jsonl(input_path, output_path) or {}
    click.echo(
        f"{stats.get('articles', '?')} articles, {stats.get('events', '?')} deal events, "
        f"{stats.get('errors', 0)} bad lines -> {output_path}"
    )


@main.command()
@click.option(
    "--since", default=None, help="Only articles published on or after this date (YYYY-MM-DD or 30d)."
)
@config_option
def reextract(since: str | None, config_path: Path) -> None:
    """Re-run deal extraction over stored articles extracted by an older version (no refetching)."""
    _load(config_path)
    from flows.reextract import run_reextract

    _quiet_prefect_tracebacks()
    summary = run_reextract(config_path, since)
    click.echo(
        f"re-extracted {summary['articles']} articles with extractor {summary['extractor_version']}: "
        f"{summary['events_new']} events (was {summary['events_removed']}), "
        f"{summary.get('deals_new', 0)} new deals, {summary.get('deals_updated', 0)} updated"
    )


@main.command()
@click.option(
    "--chart",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write an HTML page charting deals and amounts per month (opens offline).",
)
@config_option
def trends(chart: Path | None, config_path: Path) -> None:
    """Print the main trend tables: deals by month and type, amounts, top acquirers and investors."""
    from warehouse import trends as tr
    from warehouse.db import open_warehouse

    config = _load(config_path)
    con = open_warehouse(config.warehouse_path, read_only=True, lock_timeout_s=0)
    try:
        for title, columns, rows in tr.trend_tables(con):
            click.echo(f"\n== {title} ==")
            print_table(columns, rows)
        if chart is not None:
            written = tr.write_trend_chart(con, chart)
            click.echo(f"\nchart written to {written or chart}")
    finally:
        con.close()


@main.command()
@click.option(
    "--out",
    "out_path",
    default="report.html",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="HTML file to write: one page that opens offline in any browser.",
)
@click.option(
    "--limit",
    default=100,
    show_default=True,
    type=click.IntRange(min=1),
    help="Rows of the latest-deals table.",
)
@config_option
def report(out_path: Path, limit: int, config_path: Path) -> None:
    """Write the analyst's report: trend charts and the latest deals with links to their articles."""
    from warehouse.db import open_warehouse
    from warehouse.report import write_report

    config = _load(config_path)
    con = open_warehouse(config.warehouse_path, read_only=True, lock_timeout_s=0)
    try:
        written = write_report(con, out_path, limit=limit)
    finally:
        con.close()
    click.echo(f"report written to {written} ({written.stat().st_size / 1e6:.1f} MB, opens offline)")


@main.command()
@click.option("--since", default="7d", show_default=True, help="Deals seen since: 7d, 4w, 3m or a date.")
@click.option(
    "--type",
    "deal_types",
    multiple=True,
    help="Only this deal type (acquisition, funding_round, investment, ...); repeat for several.",
)
@click.option("--min-amount", type=float, default=None, help="Only deals of at least this amount in EUR.")
@config_option
def deals(since: str, deal_types: tuple[str, ...], min_amount: float | None, config_path: Path) -> None:
    """List deals seen recently, newest first."""
    from warehouse import trends as tr
    from warehouse.db import open_warehouse

    config = _load(config_path)
    cutoff = tr.parse_since(since)
    con = open_warehouse(config.warehouse_path, read_only=True, lock_timeout_s=0)
    try:
        columns, rows = tr.list_deals(con, since=cutoff, types=deal_types, min_amount_eur=min_amount)
    finally:
        con.close()
    print_table(columns, rows)
    click.echo(f"({len(rows)} deal{'s' if len(rows) != 1 else ''})")


@main.group(cls=_Group)
def alerts() -> None:
    """Alert channels: send a test message, list the outbox."""


@alerts.command("test")
@click.argument("rule")
@config_option
def alerts_test(rule: str, config_path: Path) -> None:
    """Send a sample alert to every channel of RULE (use "default" for alerts.urls)."""
    from alerts.send import send_test

    config = _load(config_path)
    result = send_test(config.alerts, rule)
    click.echo(f"rule {result['rule']}: {result['sent']} sent, {result['failed']} failed")
    for channel, error in (result.get("errors") or {}).items():
        click.echo(f"  {channel}: {error}")
    if result["failed"]:
        sys.exit(1)


@alerts.command("pending")
@click.option("--all", "include_sent", is_flag=True, help="Also list messages already sent.")
@config_option
def alerts_pending(include_sent: bool, config_path: Path) -> None:
    """List alert messages not delivered yet (pending, retrying, parked as failed)."""
    from alerts.outbox import outbox_table
    from warehouse.db import open_warehouse

    config = _load(config_path)
    con = open_warehouse(config.warehouse_path, read_only=True, lock_timeout_s=0)
    try:
        columns, rows = outbox_table(con, include_sent=include_sent)
    finally:
        con.close()
    print_table(columns, rows)
    click.echo(f"({len(rows)} message{'s' if len(rows) != 1 else ''})")


@main.command()
@click.option(
    "--start-server",
    is_flag=True,
    help="Without PREFECT_API_URL, start `prefect server start` as a subprocess and use it.",
)
@config_option
def serve(start_server: bool, config_path: Path) -> None:
    """Keep the nightly flow scheduled (schedule.cron / schedule.timezone of the config) via Prefect."""
    from flows.serve import serve_nightly

    config = _load(config_path)
    sys.exit(serve_nightly(config_path, config, start_server=start_server, echo=click.echo))


@main.command()
@click.option(
    "--to",
    "folder",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write (default: warehouse.parquet_dir of the config).",
)
@config_option
def export(folder: Path | None, config_path: Path) -> None:
    """Export the warehouse tables to Parquet files (one per table)."""
    from flows.nightly import writer
    from warehouse.export import export_parquet

    config = _load(config_path)
    target = folder or config.parquet_dir
    if target is None:
        raise click.UsageError("warehouse.parquet_dir is null in the config: pass --to FOLDER")
    with writer(config) as con:
        export_parquet(con, target)
    click.echo(f"tables exported to {target}")


if __name__ == "__main__":  # pragma: no cover
    main()
