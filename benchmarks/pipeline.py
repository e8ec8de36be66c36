"""Pipeline benchmark, measured the way a user meets it: `dealradar run` as a process, against real Italian
article text on loopback news sites with internet-like latency, side by side with a naive script.

    .venv/bin/python benchmarks/pipeline.py                      # 966 articles, 20 hosts, 150 ms
    .venv/bin/python benchmarks/pipeline.py --articles 200 --naive-articles 60   # quicker, extrapolated

The web: the texts of ../shared/deals/valid.jsonl (read here as data, never copied into the repository;
cycled under distinct URLs up to --articles), each wrapped in a realistic page (navigation, cookie banner,
an ad slot, related links, footer: the demo's layout) and listed in one RSS feed per host, on --hosts
loopback addresses answering after --latency seconds, with ETags (a second run gets 304s). The web runs in
a process of its own.

Measured, in one invocation:
- the naive script: feedparser + urllib + trafilatura + a keyword rule, one page after another (a process);
- `dealradar run --json` as a process, twice (a first night, then a quiet one with every feed 304), in two
  settings: against a running Prefect server (`prefect server start`, PREFECT_API_URL: the production
  set-up) and with none configured (Prefect starts a temporary server inside the run);
- wall time, the ratio to the naive script, per-stage seconds and CPU use from the run's summary, and peak
  memory (RSS sampled every 50 ms) of all dealradar processes together (the CLI and its workers; the
  temporary Prefect server apart, as it is Prefect's) and of the naive script.

Without ../shared/deals the benchmark says so and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_TEXTS = ROOT.parent / "shared" / "deals" / "valid.jsonl"
BIN = Path(sys.executable).parent

# --- the web, in its own process -------------------------------------------------------------------------


def _paragraphs(text: str) -> list[str]:
    parts = [p.strip() for p in text.split("\n") if p.strip()]
    if len(parts) > 1:
        return parts
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    return [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]


def build_sites(texts: list[dict[str, str]], n_articles: int, n_hosts: int) -> list[dict[str, Any]]:
    """One site per host; article i carries text i mod len(texts) under its own URL."""
    sites = [
        {"name": f"Notizie Economia {h}", "domain_hint": f"notizie{h}", "feed_format": "rss",
         "feed_path": "/feed.xml", "tagline": "Economia, imprese e tecnologia",
         "nav": ["Home", "Economia", "Tecnologia", "Startup", "Finanza", "Lavoro"], "articles": []}
        for h in range(n_hosts)
    ]  # fmt: skip
    for i in range(n_articles):
        source = texts[i % len(texts)]
        site = sites[i % n_hosts]
        body = _paragraphs(source["text"])
        site["articles"].append(
            {"slug": f"articolo-{i}", "days_ago": 1 + i % 5, "author": "Redazione", "section": "Economia",
             "title": source["title"] or body[0][:90], "summary": body[0][:240], "body": body, "related": []}
        )  # fmt: skip
    for site in sites:  # three related links per page, as publishers put under an article
        slugs = [a["slug"] for a in site["articles"]]
        for k, article in enumerate(site["articles"]):
            article["related"] = [slugs[(k + d) % len(slugs)] for d in (1, 2, 3) if len(slugs) > d]
    return sites


def _serve(n_articles: int, n_hosts: int, latency: float, conn: Any) -> None:
    from flows.demo_pages import render_site
    from flows.demo_server import LoopbackSites, loopback_hosts

    with SHARED_TEXTS.open(encoding="utf-8") as f:
        texts = [{"title": row.get("title") or "", "text": row["text"]} for row in map(json.loads, f)]
    server = LoopbackSites(loopback_hosts(n_hosts), latency_s=latency)
    feeds = []
    for h, site in enumerate(build_sites(texts, n_articles, n_hosts)):
        server.set_pages(h, render_site(site, server.base_url(h)))
        feeds.append({"name": site["name"], "url": server.base_url(h) + site["feed_path"]})
    with server:
        conn.send((feeds, len(texts)))
        conn.recv()  # until the benchmark is done


def start_web(n_articles: int, n_hosts: int, latency: float) -> tuple[Any, Any, list[dict], int]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(n_articles, n_hosts, latency, child), daemon=True)
    proc.start()
    feeds, n_texts = parent.recv()
    return proc, parent, feeds, n_texts


# --- the naive script --------------------------------------------------------------------------------------

DEAL_WORDS = re.compile(
    r"\b(acquisi\w+|acquist\w+|rileva\w*|round|raccolt\w+|raccoglie|investiment\w+|fusione|ipo|quotazione)\b",
    re.IGNORECASE,
)


def naive(feeds: list[dict[str, str]], max_articles: int | None) -> dict[str, Any]:
    """What a first script does: each feed, then each article, one after another."""
    import feedparser
    import trafilatura

    def get(url: str) -> bytes:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.read()

    started, requests, deals = time.perf_counter(), 0, 0
    links = []
    for feed in feeds:
        links.extend(e.link for e in feedparser.parse(get(feed["url"])).entries)
        requests += 1
    for link in links[:max_articles] if max_articles else links:
        text = trafilatura.extract(get(link), url=link) or ""
        requests += 1
        deals += bool(DEAL_WORDS.search(text))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": time.perf_counter() - started, "requests": requests, "articles": len(links),
            "deal_articles": deals, "peak_mb": peak_mb}  # fmt: skip


# --- dealradar as a process --------------------------------------------------------------------------------


def is_prefect_server(proc: Any) -> bool:
    with contextlib.suppress(Exception):
        cmd = " ".join(proc.cmdline())
        return "uvicorn" in cmd or "prefect.server" in cmd or "server start" in cmd
    return False


class TreeMemory:
    """Peak RSS of a process and all its descendants (sampled every 50 ms), Prefect's own server apart."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.root = psutil.Process(pid)
        self.peak_mb = 0.0  # sum of RSS: each process's shared library pages counted in full
        self.peak_pss_mb = 0.0  # sum of PSS: pages shared between processes counted once overall
        self.peak_server_mb = 0.0
        self.processes: set[int] = set()
        self.peak_by_process: dict[str, float] = {}  # role (flow, worker N, ...) -> peak MB
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import psutil

        while not self._stop.is_set():
            ours = server = pss = 0
            with contextlib.suppress(psutil.Error):
                for proc in [self.root, *self.root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        if is_prefect_server(proc):
                            server += proc.memory_info().rss
                            continue
                        info = proc.memory_full_info()
                        rss = info.rss
                        ours += rss
                        pss += info.pss
                        self.processes.add(proc.pid)
                        role = "flow (CLI)" if proc.pid == self.root.pid else f"pid {proc.pid}"
                        self.peak_by_process[role] = max(self.peak_by_process.get(role, 0), rss / 2**20)
            self.peak_mb = max(self.peak_mb, ours / 2**20)
            self.peak_pss_mb = max(self.peak_pss_mb, pss / 2**20)
            self.peak_server_mb = max(self.peak_server_mb, server / 2**20)
            self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def dealradar_run(config: Path, env: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN / "dealradar"), "run", "--json", "--config", str(config)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    memory = TreeMemory(proc.pid)
    out, err = proc.communicate(timeout=900)
    wall = time.perf_counter() - started
    memory.stop()
    if proc.returncode != 0:
        raise SystemExit(f"dealradar run failed ({proc.returncode}):\n{err[-3000:]}")
    summary = json.loads(out.strip().splitlines()[-1])
    return {"wall_s": wall, "summary": summary, "peak_mb": memory.peak_mb,
            "server_mb": memory.peak_server_mb, "pss_mb": memory.peak_pss_mb,
            "processes": len(memory.processes),
            "by_process": memory.peak_by_process}  # fmt: skip


def write_config(folder: Path, feeds: list[dict[str, str]]) -> Path:
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "feeds": feeds,
        "warehouse": {"path": "dealradar.duckdb", "parquet_dir": "parquet"},
        "fetch": {"allow_private_addresses": True, "max_entries_per_feed": 1000},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def night_pair(folder: Path, feeds: list[dict[str, str]], env: dict[str, str]) -> tuple[dict, dict]:
    config = write_config(folder, feeds)
    return dealradar_run(config, env), dealradar_run(config, env)


# --- report ------------------------------------------------------------------------------------------------


def stage_table(summary: dict[str, Any]) -> str:
    from flows.report import format_timings

    return "\n".join(line.replace("Time:     ", "          ", 1) for line in format_timings(summary))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=966, help="articles served (default 966)")
    parser.add_argument("--hosts", type=int, default=20, help="loopback hosts, one feed each (default 20)")
    parser.add_argument("--latency", type=float, default=0.15, help="seconds added to every response")
    parser.add_argument("--naive-articles", type=int, default=0,
                        help="articles the naive script fetches, extrapolated (0: all)")  # fmt: skip
    parser.add_argument("--naive-only", help=argparse.SUPPRESS)  # internal: the naive script on FEEDS.json
    args = parser.parse_args()
    if args.naive_only:
        feeds, limit = json.loads(Path(args.naive_only).read_text())
        print(json.dumps(naive(feeds, limit)))
        return
    if not SHARED_TEXTS.exists():
        print(f"pipeline benchmark skipped: {SHARED_TEXTS} is absent (its article texts are the web)")
        return

    web, web_conn, feeds, n_texts = start_web(args.articles, args.hosts, args.latency)
    print(f"web: {args.articles} articles (the {n_texts} texts of {SHARED_TEXTS.name}, cycled under "
          f"distinct URLs) in realistic pages on {len(feeds)} loopback hosts, "
          f"{args.latency * 1000:.0f} ms per request")  # fmt: skip
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    base_env |= {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}
    results: dict[str, tuple[dict, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="dealradar-bench-") as tmp_name:
        tmp = Path(tmp_name)
        from flows.serve import free_port, start_prefect_server

        server_env = {**base_env, "PREFECT_HOME": str(tmp / "prefect-server")}
        server, url = start_prefect_server(
            lambda _: None, port=free_port(4300), env=server_env, output=subprocess.DEVNULL
        )
        try:
            env = {**base_env, "PREFECT_HOME": str(tmp / "home-running"), "PREFECT_API_URL": url}
            results["running server"] = night_pair(tmp / "running", feeds, env)
        finally:
            server.terminate()
            server.wait(timeout=30)
        env = {**base_env, "PREFECT_HOME": str(tmp / "home-temporary")}
        results["temporary server"] = night_pair(tmp / "temporary", feeds, env)

        limit = args.naive_articles or None
        feeds_file = tmp / "feeds.json"
        feeds_file.write_text(json.dumps([feeds, limit]))
        done = subprocess.run([sys.executable, __file__, "--naive-only", str(feeds_file)],
                              capture_output=True, text=True, check=True)  # fmt: skip
        base = json.loads(done.stdout.strip().splitlines()[-1])
    web_conn.send("done")
    web.join(timeout=10)

    total_requests = len(feeds) + base["articles"]
    naive_s = base["seconds"] / base["requests"] * total_requests
    how = f", extrapolated from {base['requests']} requests in {base['seconds']:.1f} s" if limit else ""
    print(f"naive script: {naive_s:.1f} s for {base['articles']} articles, one page after another "
          f"({base['deal_articles']} pages matched the keyword rule{how}); "
          f"peak {base['peak_mb']:.0f} MB")  # fmt: skip
    print()
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores; load average now {load[0]:.1f} (5 min {load[1]:.1f}, 15 min "
          f"{load[2]:.1f}): other work on the machine slows the CPU-bound stages")  # fmt: skip
    print("| setting | naive | dealradar run | ratio | quiet second run | peak memory, dealradar processes |")
    print("|---|---|---|---|---|---|")
    for setting, (first, second) in results.items():
        server_note = f" (+{first['server_mb']:.0f} MB Prefect's server)" if first["server_mb"] else ""
        ratio = naive_s / first["wall_s"]
        print(f"| {setting} | {naive_s:.1f} s | {first['wall_s']:.1f} s | **{ratio:.1f}x** "
              f"| {second['wall_s']:.1f} s | {first['peak_mb']:.0f} MB RSS, {first['pss_mb']:.0f} MB PSS, "
              f"{first['processes']} processes"
              f"{server_note} |")  # fmt: skip
    for setting, (first, second) in results.items():
        s = first["summary"]
        print(f"\n{setting}, first run: {s['articles_new']} new articles, {s['deal_events']} deal events, "
              f"{s['deals_new']} deals; flow body {s['elapsed_s']} s of {first['wall_s']:.1f} s "
              "wall")  # fmt: skip
        print(stage_table(s))
        by_process = ", ".join(f"{k} {v:.0f}" for k, v in sorted(first["by_process"].items()))
        print(f"          peak RSS by process, MB: {by_process} (workers and multiprocessing's tracker)")
        cost = s.get("prefect_temporary_server")
        if cost:
            print(f"          Prefect's temporary server: {cost['start_s']:.1f} s to start, "
                  f"{cost['stop_s']:.1f} s to stop (first run)")  # fmt: skip
        q = second["summary"]
        print(f"{setting}, quiet second run: {second['wall_s']:.2f} s wall ({q['feeds_not_modified']} "
              f"feeds not modified, {q['articles_new']} new; flow body {q['elapsed_s']} s), "
              f"peak {second['peak_mb']:.0f} MB")  # fmt: skip
    first, second = results["running server"]
    print("\ntargets (running server): "
          f">= 10x naive: {naive_s / first['wall_s']:.1f}x; "
          f"quiet second run <= 3 s: {second['wall_s']:.2f} s; "
          f"peak memory of dealradar processes < 600 MB: {first['peak_mb']:.0f} MB (sum of RSS; "
          f"{first['pss_mb']:.0f} MB sum of PSS)")  # fmt: skip


if __name__ == "__main__":
    main()
