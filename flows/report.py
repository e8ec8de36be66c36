"""What a run shows its user: the summary printed by the CLI and the Prefect artifacts (UI)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

import duckdb

from warehouse.report import Figure

log = logging.getLogger(__name__)

DEAL_COLUMNS = ("deal_type", "acquirer", "target", "amount", "currency", "stake_pct", "status", "n_sources")


def new_deals_rows(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    """Deals created or revised by this run, biggest first, as plain rows."""
    result = con.execute(
        f"""
        SELECT CASE WHEN created_run_id = $1 THEN 'new' ELSE 'updated' END AS change,
               {", ".join(DEAL_COLUMNS)}
        FROM deals WHERE created_run_id = $1 OR updated_run_id = $1
        ORDER BY change, amount_eur DESC NULLS LAST, deal_type, target
        """,
        [run_id],
    )
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


def format_summary(summary: dict[str, Any]) -> str:
    """The run summary as a few readable lines (CLI output and the markdown artifact)."""
    skipped = summary.get("articles_skipped") or {}
    skipped_text = ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())) or "none"
    lines = [
        f"Run {summary.get('run_id', '?')}: {summary.get('status', '?')} "
        f"in {summary.get('elapsed_s', '?')} s",
        f"Feeds:    {summary.get('feeds_fetched', 0)} fetched, {summary.get('feeds_not_modified', 0)} not "
        f"modified, {summary.get('feeds_failed', 0)} failed",
        f"Articles: {summary.get('articles_new', 0)} new; skipped: {skipped_text}",
        f"Deals:    {summary.get('deal_events', 0)} deal events found; "
        f"{summary.get('deals_new', 0)} new deals, {summary.get('deals_updated', 0)} updated",
        f"Alerts:   {summary.get('alerts_sent', 0)} sent, {summary.get('alerts_pending', 0)} pending, "
        f"{summary.get('alerts_held_back', 0)} held back (news older than alerts.max_age_days, or first run)",
    ]
    deferred = summary.get("deferred") or {}
    if deferred:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(deferred.items()))
        lines.append(f"Deferred: {sum(deferred.values())} entries to the next run ({reasons}); "
                     f"{summary.get('pending_entries', 0)} waiting in all")  # fmt: skip
        for name, counts in (summary.get("deferred_by_feed") or {}).items():
            why = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            lines.append(f"  deferred from {name}: {why}")
    lines.extend(format_timings(summary))
    for name, error in (summary.get("feed_failures") or {}).items():
        lines.append(f"  failed feed {name}: {error}")
    for error in summary.get("errors") or []:
        lines.append(f"  problem: {error}")
    return "\n".join(lines)


BUSY_STAGES = ("page text", "deal extraction")  # summed over workers, overlapping the downloads


def format_timings(summary: dict[str, Any]) -> list[str]:
    """Where the run's time went, one line per stage, and how busy it kept the cores."""
    stages = summary.get("stage_s") or {}
    cpu = summary.get("cpu") or {}
    if not stages:
        return []
    where = f"{cpu['workers']} worker processes" if cpu.get("workers") else "the flow's process"
    lines = ["Time:     stage             seconds"]
    for stage, seconds in stages.items():
        note = f"  busy, in {where}" if stage in BUSY_STAGES else ""
        lines.append(f"          {stage:<17}{seconds:7.2f}{note}")
    if cpu:
        lines.append(
            f"CPU:      {cpu['flow_s'] + cpu['workers_s']:.1f} s in {summary.get('elapsed_s', '?')} s on "
            f"{cpu['cores']} cores = {cpu['utilisation_pct']:.0f} % used "
            f"(flow process {cpu['flow_s']:.1f} s, workers {cpu['workers_s']:.1f} s)"
        )
    return lines


def publish_artifacts(
    summary: dict[str, Any], new_deals: list[dict[str, Any]], figures: Sequence[Figure] = ()
) -> None:
    """A table of new deals, a markdown summary and the report's figures (one table each, the data
    `dealradar report` charts), visible on the flow run in the Prefect UI."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    try:
        rows = [{k: ("" if v is None else v) for k, v in row.items()} for row in new_deals]
        create_table_artifact(
            key="new-deals", table=rows or [{"change": "", "deal_type": "no new deals"}],
            description=f"Deals created or revised by run {summary.get('run_id')}",
        )  # fmt: skip
        failures = summary.get("feed_failures") or {}
        markdown = "## dealradar nightly run\n\n```\n" + format_summary(summary) + "\n```\n"
        if failures:
            markdown += "\n| feed | failure |\n|---|---|\n" + "".join(
                f"| {_md(name)} | {_md(error)} |\n" for name, error in failures.items()
            )
        create_markdown_artifact(key="nightly-summary", markdown=markdown, description="Run summary")
        for figure in figures:
            table = [{k: _plain(v) for k, v in row.items()} for row in figure.records()]
            create_table_artifact(
                key=f"report-{figure.spec.key}", table=table or [{figure.spec.x: "no deals yet"}],
                description=f"{figure.spec.title} (a chart of `dealradar report`)",
            )  # fmt: skip
    except Exception:  # artifacts are a convenience; the run's data is already stored
        log.warning("could not publish the run's artifacts", exc_info=True)


def _plain(value: object) -> object:
    """A table cell Prefect can serialise: dates as ISO text, missing values empty."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return value


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")[:300]
