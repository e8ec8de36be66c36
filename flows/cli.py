"""The `dealradar` command. Heavy libraries (Prefect, spaCy, DuckDB) are imported inside the commands
that need them, so `dealradar --help` answers at once."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from extractors.models import DEAL_TYPES
from flows import progress
from flows.output import echo_rows, format_option, limit_option, plain
from warehouse.views import TREND_VIEW_NAMES

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


def _configure_logging(verbose: int, quiet: bool) -> None:
    """-q: errors only; default: warnings; -v: our info lines; -vv: our debug lines. Prefect follows
    (its level is read when it is first imported, after this)."""
    if not (verbose or quiet):
        return  # Python's default: warnings and errors
    level = logging.ERROR if quiet else logging.INFO if verbose == 1 else logging.DEBUG
    for package in _OUR_PACKAGES:
        logging.getLogger(package.rstrip(".")).setLevel(level)
    if quiet:
        os.environ["PREFECT_LOGGING_LEVEL"] = "ERROR"
    elif verbose:
        os.environ["PREFECT_LOGGING_LEVEL"] = "INFO"
    root = logging.getLogger()
    if verbose and not root.handlers:  # before Prefect sets up its console handler (it replaces this one)
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s | %(levelname)-7s | %(name)s - %(message)s"))
        root.addHandler(handler)


def _quiet(ctx: click.Context) -> bool:
    return bool((ctx.find_root().obj or {}).get("quiet"))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dealradar")
@click.option("-v", "--verbose", count=True, help="Show dealradar's info lines (-v) and debug lines (-vv).")
@click.option("-q", "--quiet", is_flag=True, help="Errors and the result only: no warnings, no progress.")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """dealradar: Italian tech-deal news -> deal events -> a DuckDB warehouse -> alerts.

    Start with `dealradar demo` (offline, bundled sample sites); then edit config.yaml and
    `dealradar run`. Set DEALRADAR_DEBUG=1 to see tracebacks.
    """
    ctx.obj = {"quiet": quiet, "verbose": verbose}
    _configure_logging(verbose, quiet)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON instead of text.")
@config_option
def run(as_json: bool, config_path: Path) -> None:
    """Run the nightly flow once, now, and print its summary (exit code 1 when every feed failed)."""
    from flows.report import format_summary

    _load(config_path)  # fail on a bad config before Prefect starts
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # a local Prefect server stays quiet
    from flows.nightly import run_nightly
    from flows.prefect_api import AVOID_TEMPORARY_SERVER, api_url, prefect_api

    _quiet_prefect_tracebacks()
    quiet = _quiet(click.get_current_context())
    url = api_url()
    if quiet:
        pass
    elif url:
        click.echo(f"Prefect: the server at {url} (PREFECT_API_URL) records this run", err=True)
    else:
        click.echo("Prefect: no server configured (PREFECT_API_URL): starting a temporary one...", err=True)
    display = progress.for_stream(sys.stderr, quiet=quiet)
    with prefect_api() as temporary, progress.use(display):
        summary = run_nightly(config_path)
    if as_json:
        cost = {"start_s": temporary.start_s, "stop_s": temporary.stop_s} if temporary.start_s else None
        click.echo(json.dumps({**summary, "prefect_temporary_server": cost}, default=str))
    else:
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
@format_option
@limit_option
@config_option
def sql(query: str, fmt: str, limit: int | None, config_path: Path) -> None:
    """Run one read-only SQL QUERY on the warehouse; print the result as a table, CSV, JSON or JSON lines."""
    from warehouse.db import query_readonly

    config = _load(config_path)
    columns, rows = query_readonly(config.warehouse_path, query, limit=limit)
    if columns:
        echo_rows(columns, rows, fmt)


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
    from concurrent.futures import ThreadPoolExecutor

    from extractors.deals import extract_jsonl

    with open(input_path, "rb") as f:
        total = sum(1 for line in f if line.strip())
    display = progress.for_stream(sys.stderr, quiet=_quiet(click.get_current_context()))
    with progress.use(display), ThreadPoolExecutor(1) as pool:
        progress.start("articles", total)
        job = pool.submit(extract_jsonl, input_path, output_path)
        progress.follow_lines(output_path, "articles", job)  # one output line per article
        stats = job.result() or {}
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
    display = progress.for_stream(sys.stderr, quiet=_quiet(click.get_current_context()))
    with progress.use(display):
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
@click.option(
    "--view",
    "views",
    multiple=True,
    type=click.Choice(TREND_VIEW_NAMES),
    help="Only this trend view (repeat for several); csv prints exactly one.",
)
@format_option
@limit_option
@config_option
def trends(
    chart: Path | None, views: tuple[str, ...], fmt: str, limit: int | None, config_path: Path
) -> None:
    """Print the main trend tables: deals by month and type, amounts, top acquirers and investors.

    --format json prints one object keyed by view name; jsonl one line per row with its "view".
    """
    from warehouse import trends as tr
    from warehouse.db import open_warehouse

    if fmt == "csv" and len(views) != 1:
        raise click.UsageError(
            "--format csv prints one table: choose it with --view (e.g. --view v_top_investors)"
        )
    config = _load(config_path)
    con = open_warehouse(config.warehouse_path, read_only=True, lock_timeout_s=0)
    try:
        results = tr.trend_results(con, views=views or None, limit=limit)
        if chart is not None:
            written = tr.write_trend_chart(con, chart)
    finally:
        con.close()
    if fmt == "table":
        for _, title, columns, rows in results:
            click.echo(f"\n== {title} ==")
            echo_rows(columns, rows)
    elif fmt == "json":
        records = {
            view: [dict(zip(cols, row, strict=True)) for row in rows] for view, _, cols, rows in results
        }
        click.echo(json.dumps(plain(records), ensure_ascii=False, allow_nan=False))
    elif fmt == "jsonl":
        for view, _, columns, rows in results:
            echo_rows(["view", *columns], [(view, *row) for row in rows], "jsonl")
    else:
        echo_rows(results[0][2], results[0][3], fmt)
    if chart is not None:
        click.echo(f"chart written to {written}", err=fmt != "table")


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
    type=click.Choice(DEAL_TYPES),
    help="Only this deal type; repeat for several.",
)
@click.option("--min-amount", type=float, default=None, help="Only deals of at least this amount in EUR.")
@format_option
@limit_option
@config_option
def deals(
    since: str,
    deal_types: tuple[str, ...],
    min_amount: float | None,
    fmt: str,
    limit: int | None,
    config_path: Path,
) -> None:
    """List deals seen recently, newest first."""
    from warehouse import trends as tr
    from warehouse.db import open_warehouse

    config = _load(config_path)
    cutoff = tr.parse_since(since)
    con = open_warehouse(config.warehouse_path, read_only=True, lock_timeout_s=0)
    try:
        columns, rows = tr.list_deals(
            con, since=cutoff, types=deal_types, min_amount_eur=min_amount, limit=limit
        )
    finally:
        con.close()
    echo_rows(columns, rows, fmt, noun="deal")


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
@format_option
@limit_option
@config_option
def alerts_pending(include_sent: bool, fmt: str, limit: int | None, config_path: Path) -> None:
    """List alert messages not delivered yet (pending, retrying, parked as failed)."""
    from alerts.outbox import outbox_table
    from warehouse.db import open_warehouse

    config = _load(config_path)
    con = open_warehouse(config.warehouse_path, read_only=True, lock_timeout_s=0)
    try:
        columns, rows = outbox_table(con, include_sent=include_sent)
    finally:
        con.close()
    echo_rows(columns, rows if limit is None else rows[:limit], fmt, noun="message")


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
