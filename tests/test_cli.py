"""The `dealradar` command as a user meets it: help everywhere, documented, fast to start, clear errors."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from fixtures.flow.sites import Webhook, write_config

from flows.cli import main

ROOT = Path(__file__).resolve().parents[1]


def all_commands(group: click.Group = main, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(all_commands(command, path + " "))
    return found


def invoke(*args: str) -> click.testing.Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def empty_warehouse(tmp_path: Path, **sections: object) -> Path:
    from warehouse.db import open_warehouse

    config = write_config(tmp_path, [], **sections)
    open_warehouse(tmp_path / "wh" / "dealradar.duckdb").close()
    return config


def test_every_command_and_option_has_help_text() -> None:
    commands = all_commands()
    assert {p for p, _ in commands} >= {
        "run", "demo", "sql", "extract-deals", "reextract", "trends", "deals", "alerts", "alerts test",
        "alerts pending", "serve", "export",
    }  # fmt: skip
    for path, command in commands:
        assert (command.help or "").strip(), f"dealradar {path} has no help text"
        for param in command.params:
            if isinstance(param, click.Option):
                assert (param.help or "").strip(), f"dealradar {path} {param.opts[0]} has no help text"
        result = invoke(*path.split(), "--help")
        assert result.exit_code == 0 and "Usage:" in result.output


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [path for path, _ in all_commands() if f"dealradar {path}" not in readme]
    assert not missing, f"README.md does not mention: {', '.join('dealradar ' + m for m in missing)}"


def test_help_starts_without_loading_the_heavy_libraries() -> None:
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom flows.cli import main\n"
        "assert CliRunner().invoke(main, ['--help']).exit_code == 0\n"
        "print(sorted(m for m in ('prefect', 'spacy', 'duckdb', 'trafilatura', 'httpx') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("fetch:\n  read_timeout: 5\n", "fetch.read_timeout: unknown key"),
        ("fetch:\n  per_host_concurrency: many\n", "fetch.per_host_concurrency"),
        ("feeds:\n  - {name: Senza URL}\n", "feeds.0.url"),
        ("feeds: [\n", "not valid YAML"),
    ],
)
def test_a_bad_config_stops_with_the_key_and_the_file_named(
    tmp_path: Path, content: str, expected: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "--config", str(bad)])
    assert result.exit_code == 2
    assert expected in result.output and str(bad) in result.output
    assert "Traceback" not in result.output


def test_config_comes_from_the_environment_when_not_given(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["sql", "SELECT 1"], env={"DEALRADAR_CONFIG": str(tmp_path / "missing.yaml")}
    )
    assert result.exit_code == 2 and "missing.yaml: no such config file" in result.output


def test_sql_reads_and_refuses_writes(tmp_path: Path) -> None:
    config = empty_warehouse(tmp_path)
    ok = invoke("sql", "--config", str(config), "SELECT count(*) AS n_articles FROM articles")
    assert ok.exit_code == 0 and "n_articles" in ok.output and "(1 row)" in ok.output
    refused = CliRunner().invoke(main, ["sql", "--config", str(config), "DELETE FROM articles"])
    assert refused.exit_code == 1 and "read-only" in refused.output and "Traceback" not in refused.output


def test_commands_on_an_empty_warehouse_answer_without_errors(tmp_path: Path) -> None:
    config = str(empty_warehouse(tmp_path))
    assert (
        "(0 deals)" in invoke("deals", "--config", config, "--since", "30d", "--type", "acquisition").output
    )
    chart = tmp_path / "chart.html"
    trends = invoke("trends", "--config", config, "--chart", str(chart))
    assert trends.exit_code == 0 and chart.exists()
    assert "(0 messages)" in invoke("alerts", "pending", "--config", config).output
    export = invoke("export", "--config", config)
    assert export.exit_code == 0 and (tmp_path / "parquet" / "articles.parquet").exists()
    bad_since = CliRunner().invoke(main, ["deals", "--config", config, "--since", "ieri"])
    assert bad_since.exit_code == 1 and "--since" in bad_since.output


def test_extract_deals_writes_one_line_per_article(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    articles = [
        {"id": "a1", "title": "Ferrovie Digitali acquisisce Binario Software per 40 milioni di euro",
         "text": "Ferrovie Digitali ha acquisito Binario Software, società genovese di software per la "
                 "logistica, per 40 milioni di euro. L'operazione sarà chiusa entro marzo."},
        {"id": "a2", "title": "Il meteo del fine settimana",
         "text": "Sabato e domenica sole su tutta la penisola, con temperature in aumento al Centro-Sud."},
    ]  # fmt: skip
    source.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = invoke("extract-deals", str(source), "-o", str(out))
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert result.exit_code == 0 and "2 articles" in result.output
    assert [line["id"] for line in lines] == ["a1", "a2"]
    assert [e["deal_type"] for e in lines[0]["events"]] == ["acquisition"]
    assert lines[0]["events"][0]["amount"] == 40_000_000 and lines[1]["events"] == []


def test_alerts_test_sends_a_sample_to_the_rule_and_names_unknown_rules(tmp_path: Path) -> None:
    with Webhook() as hook:
        config = str(empty_warehouse(tmp_path, alerts={"urls": [hook.url]}))
        sent = invoke("alerts", "test", "default", "--config", config)
        unknown = CliRunner().invoke(main, ["alerts", "test", "nessuna", "--config", config])
    assert sent.exit_code == 0 and "1 sent, 0 failed" in sent.output and len(hook.calls) == 1
    assert unknown.exit_code == 1 and "nessuna" in unknown.output and "Traceback" not in unknown.output


def test_serve_without_a_prefect_server_says_how_to_start_one(tmp_path: Path) -> None:
    config = write_config(tmp_path, [])
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")  # a profile with no API configured
    out = subprocess.run(
        [sys.executable, "-m", "flows.cli", "serve", "--config", str(config)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2
    assert "prefect server start" in out.stdout and "--start-server" in out.stdout


def test_the_served_deployment_follows_the_config_schedule_and_never_overlaps(tmp_path: Path) -> None:
    from flows.config import load_config
    from flows.serve import nightly_deployment

    config = write_config(tmp_path, [], schedule={"cron": "30 3 * * 1-5", "timezone": "Europe/Rome"})
    deployment = nightly_deployment(config, load_config(config))
    schedule = deployment.schedules[0].schedule
    assert (schedule.cron, schedule.timezone) == ("30 3 * * 1-5", "Europe/Rome")
    assert deployment.concurrency_limit == 1
    assert deployment.concurrency_options.collision_strategy.value == "CANCEL_NEW"
    assert deployment.parameters == {"config_path": str(config.resolve())}


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_demo_runs_offline_and_prints_the_deals(tmp_path: Path) -> None:
    result = invoke("demo", "--dir", str(tmp_path / "demo-data"))
    assert result.exit_code == 0, result.output
    assert "Deals in the demo warehouse" in result.output
    assert "DataVela" in result.output and "dealradar sql --config" in result.output
    assert (tmp_path / "demo-data" / "dealradar.duckdb").exists()


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_run_with_the_warehouse_held_by_an_analyst_fails_clearly_and_stores_nothing(tmp_path: Path) -> None:
    config = empty_warehouse(tmp_path, warehouse={"lock_timeout_s": 1})
    db = tmp_path / "wh" / "dealradar.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(db)!r}, read_only=True); "
                               "print('open', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        result = CliRunner().invoke(main, ["run", "--config", str(config)])
    finally:
        holder.communicate("")
    assert result.exit_code == 1
    assert "dealradar: error:" in result.output and str(db) in result.output
    assert "Traceback" not in result.output
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (0,)
    finally:
        con.close()


def run_as_a_user(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "--config", str(config)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


@pytest.mark.slow
def test_run_without_a_prefect_server_says_what_the_temporary_one_cost_and_how_to_avoid_it(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")  # a profile with no API either
    done = run_as_a_user(write_config(tmp_path, []), env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "no server configured" in done.stderr
    started = re.search(r"temporary server took (\d+\.\d) s to start and (\d+\.\d) s to stop", done.stderr)
    assert started is not None, done.stderr[-2000:]
    assert float(started.group(1)) > 0
    assert "prefect server start" in done.stderr and "export PREFECT_API_URL=" in done.stderr


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_run_with_a_configured_prefect_server_says_so_and_records_the_run_there(tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterStartTime
    from prefect.settings import PREFECT_API_URL
    from prefect.types._datetime import now

    url = str(PREFECT_API_URL.value())
    before = now("UTC")
    done = run_as_a_user(write_config(tmp_path, []), {**os.environ, "PREFECT_API_URL": url})
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"the server at {url}" in done.stderr
    assert "temporary" not in done.stderr
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=before))
        )
    assert [r.state_name for r in runs] == ["Completed"]


# --- output formats, limits, verbosity, progress ---------------------------------------------------------


def stored_warehouse(tmp_path: Path) -> str:
    """A config whose warehouse holds the small known dataset (deals with long evidence texts)."""
    from test_warehouse_support import load_dataset, store_and_cluster

    from warehouse.db import open_warehouse

    config = write_config(tmp_path, [])
    con = open_warehouse(tmp_path / "wh" / "dealradar.duckdb")
    try:
        store_and_cluster(con, *load_dataset())
    finally:
        con.close()
    return str(config)


def test_sql_json_is_exactly_the_rows_and_needs_no_warehouse_yet(tmp_path: Path) -> None:
    config = str(write_config(tmp_path, []))  # no warehouse file yet: the tables are empty, SELECT 42 works
    assert invoke("sql", "--config", config, "--format", "json", "SELECT 42 AS x").output == '[{"x": 42}]\n'
    empty = invoke("sql", "--config", config, "--format", "json", "SELECT count(*) AS n FROM deals")
    assert json.loads(empty.output) == [{"n": 0}] and not (tmp_path / "wh" / "dealradar.duckdb").exists()


def test_json_of_dates_decimals_nan_lists_and_structs_is_valid(tmp_path: Path) -> None:
    config = str(write_config(tmp_path, []))
    query = (
        "SELECT DATE '2025-01-02' AS d, TIMESTAMP '2025-01-02 10:30:00' AS t, "
        "12.50::DECIMAL(10, 2) AS price, 3::DECIMAL(10, 2) AS whole, 'nan'::DOUBLE AS nan, "
        "['a', 'b'] AS tags, {'k': DATE '2025-01-03'} AS s"
    )
    rows = json.loads(invoke("sql", "--config", config, "--format", "json", query).output)
    assert rows == [{"d": "2025-01-02", "t": "2025-01-02T10:30:00", "price": 12.5, "whole": 3, "nan": None,
                     "tags": ["a", "b"], "s": {"k": "2025-01-03"}}]  # fmt: skip
    line = invoke("sql", "--config", config, "--format", "jsonl", query).output
    assert json.loads(line) == rows[0] and line.count("\n") == 1


def test_only_the_table_trims_long_cells(tmp_path: Path) -> None:
    config = stored_warehouse(tmp_path)
    query = "SELECT text AS evidence FROM articles WHERE length(text) > 60 ORDER BY url"
    full = [
        r["evidence"] for r in json.loads(invoke("sql", "--config", config, "--format", "json", query).output)
    ]
    assert full and all(len(e) > 60 for e in full)
    as_csv = invoke("sql", "--config", config, "--format", "csv", query).output
    assert [row["evidence"] for row in csv.DictReader(io.StringIO(as_csv))] == full
    jsonl = invoke("sql", "--config", config, "--format", "jsonl", query).output.splitlines()
    assert [json.loads(line)["evidence"] for line in jsonl] == full
    table = invoke("sql", "--config", config, query).output
    assert "…" in table and full[0] not in table and f"({len(full)} rows)" in table


def test_limit_and_formats_on_deals_trends_and_alerts(tmp_path: Path) -> None:
    config = stored_warehouse(tmp_path)
    all_deals = json.loads(
        invoke("deals", "--config", config, "--since", "2020-01-01", "--format", "json").output
    )
    two = invoke(
        "deals", "--config", config, "--since", "2020-01-01", "--format", "jsonl", "--limit", "2"
    ).output
    assert len(all_deals) > 2 and [json.loads(line) for line in two.splitlines()] == all_deals[:2]
    rounds = invoke(
        "deals", "--config", config, "--since", "2020-01-01", "--type", "funding_round", "--format", "csv"
    )
    types = {row["deal_type"] for row in csv.DictReader(io.StringIO(rounds.output))}
    assert types == {"funding_round"}

    bad_type = CliRunner().invoke(main, ["deals", "--config", config, "--type", "aquisition"])
    assert bad_type.exit_code == 2 and "'aquisition' is not one of" in bad_type.output
    assert "funding_round" in bad_type.output

    trends = json.loads(invoke("trends", "--config", config, "--format", "json").output)
    assert {"v_deals_per_month", "v_top_investors", "v_deals_by_sector"} <= set(trends)
    assert trends["v_amount_by_month"][0]["month"] == "2025-01-01"
    investors = invoke(
        "trends", "--config", config, "--view", "v_top_investors", "--format", "csv", "--limit", "1"
    )
    assert investors.output.splitlines()[0] == "investor,n_deals,total_amount_eur,last_deal"
    assert len(investors.output.splitlines()) == 2
    many = CliRunner().invoke(main, ["trends", "--config", config, "--format", "csv"])
    assert many.exit_code == 2 and "--view" in many.output
    lines = invoke("trends", "--config", config, "--format", "jsonl", "--view", "v_deals_per_month").output
    assert {json.loads(line)["view"] for line in lines.splitlines()} == {"v_deals_per_month"}

    assert invoke("alerts", "pending", "--config", config, "--format", "json").output == "[]\n"
    from alerts.outbox import TABLE_COLUMNS

    header = invoke("alerts", "pending", "--config", config, "--format", "csv").output
    assert header == ",".join(TABLE_COLUMNS) + "\n"


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_verbose_shows_our_info_lines_and_quiet_hides_warnings(tmp_path: Path) -> None:
    config = str(write_config(tmp_path, []))
    quiet_default = run_cli("sql", "--config", config, "SELECT 1 AS one")
    verbose = run_cli("-v", "sql", "--config", config, "SELECT 1 AS one")
    assert "querying an empty one" not in quiet_default.stderr
    assert "INFO" in verbose.stderr and "querying an empty one" in verbose.stderr
    assert verbose.stdout == quiet_default.stdout  # the result itself does not change


def test_extract_deals_shows_progress_lines_when_not_on_a_terminal(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(json.dumps({"id": f"a{i}", "title": "Titolo", "text": "Nessuna notizia oggi."}) + "\n"
                for i in range(3)),
        encoding="utf-8",
    )  # fmt: skip
    shown = run_cli("extract-deals", str(source), "-o", str(tmp_path / "out.jsonl"))
    assert shown.returncode == 0 and "articles: 0/3" in shown.stderr and "articles: 3/3" in shown.stderr
    quiet = run_cli("-q", "extract-deals", str(source), "-o", str(tmp_path / "out2.jsonl"))
    assert quiet.returncode == 0 and "articles:" not in quiet.stderr and "3 articles" in quiet.stdout


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_run_warns_once_per_failed_feed_and_shows_progress_lines(tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    config = write_config(tmp_path, [{"name": "Feed Spento", "url": "http://127.0.0.1:9/feed.xml"}])
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}  # the session's test server
    shown = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--config", str(config)],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert shown.stderr.count("feed Feed Spento (http://127.0.0.1:9/feed.xml) failed") == 1, shown.stderr
    assert "feeds: 0/1" in shown.stderr and "feeds: 1/1" in shown.stderr  # not a terminal: plain lines
    assert shown.returncode == 1 and "every feed failed" in shown.stderr
    quiet = subprocess.run([sys.executable, "-m", "flows.cli", "-q", "run", "--config", str(config)],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert "Feed Spento (" not in quiet.stderr and "feeds:" not in quiet.stderr
    assert quiet.returncode == 1 and "failed feed Feed Spento" in quiet.stdout  # the summary still says it
