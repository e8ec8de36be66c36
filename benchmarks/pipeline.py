"""Pipeline benchmark: the real nightly flow against N feeds x M articles on loopback hosts with a
per-request latency standing in for the internet.

    .venv/bin/python benchmarks/pipeline.py                       # 20 feeds x 50 articles, 150 ms
    .venv/bin/python benchmarks/pipeline.py --feeds 5 --articles 10 --latency 0.05

Prints wall time, articles/s and peak memory of the flow's process; the ratio to
(a) a naive sequential baseline: a plain GET + feedparser.parse per feed, then a plain GET +
    trafilatura.extract per article, one after another (timed on a subset and extrapolated per request
    unless --full-baseline), and
(b) the latency bound: requests x latency / allowed concurrency (min(total_concurrency, hosts x
    per_host_concurrency));
then a second run with nothing new (every feed answers 304) as a percentage of the first.

Runs go through `run_nightly`, as `dealradar run` does (Prefect's flow-run heartbeats off: no deployment
to watch); the quiet run is also timed once as a scheduled deployment run would go, heartbeats on.

The web sites run in a separate process, so the flow's process is measured alone. The Prefect API
(a temporary local server unless PREFECT_API_URL is set) is started before timing; with the temporary
server the flow's process also imports Prefect's server stack (~80 MB more than a run against a real
API, as under `dealradar serve` or a worker).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import random
import resource
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# --- synthetic Italian news -------------------------------------------------------------------------------

_NAMES = ["Alfa", "Borea", "Cintra", "Dorsa", "Elvia", "Fenix", "Gaia", "Iride", "Lumen", "Mirto", "Nereo",
          "Orsa", "Pavo", "Quarzo", "Rovere", "Sirio", "Tarvisio", "Urbe", "Vega", "Zefiro"]  # fmt: skip
_KINDS = ["Software", "Robotics", "Energia", "Cloud", "Pay", "Bio", "Mobility", "Data", "Labs", "Digital"]
_FILLER = [
    "La società ha sede a {city} e impiega circa {n} persone tra sviluppo, vendite e assistenza ai clienti.",
    "Negli ultimi dodici mesi i ricavi sono cresciuti in modo costante grazie ai contratti con la grande "
    "distribuzione e con la pubblica amministrazione.",
    "Il mercato italiano del settore vale secondo gli analisti oltre due miliardi di euro e cresce a "
    "due cifre.",
    "Il management ha spiegato che le nuove risorse serviranno soprattutto per l'espansione all'estero, a "
    "partire da Spagna, Francia e Germania.",
    "Secondo gli osservatori l'operazione conferma l'interesse degli investitori per le imprese tecnologiche "
    "italiane, nonostante un contesto macroeconomico incerto.",
    "Il fondatore ha ricordato gli inizi in un piccolo ufficio di {city} e i primi clienti conquistati con "
    "il passaparola tra le aziende del territorio.",
]
_CITIES = ["Milano", "Torino", "Bologna", "Firenze", "Roma", "Napoli", "Bari", "Padova", "Verona", "Trento"]


def _company(rng: random.Random) -> str:
    return f"{rng.choice(_NAMES)} {rng.choice(_KINDS)}"


def _article(rng: random.Random, feed: int, i: int) -> dict[str, Any]:
    a, b = _company(rng), _company(rng)
    while b == a:
        b = _company(rng)
    amount = rng.choice([3, 5, 8, 12, 20, 35, 60, 120])
    kind = i % 4
    if kind == 0:
        title = f"{a} acquisisce {b} per {amount} milioni di euro"
        lead = f"{a} ha annunciato l'acquisizione di {b} per {amount} milioni di euro."
    elif kind == 1:
        title = f"{b} raccoglie {amount} milioni in un round guidato da {a}"
        lead = f"{b} ha chiuso un round di finanziamento da {amount} milioni di euro guidato da {a}."
    elif kind == 2:
        title = f"{a} e {b} firmano un accordo di partnership"
        lead = f"{a} e {b} hanno firmato un accordo di partnership strategica per sviluppare nuovi servizi."
    else:
        title = f"{a}, i conti del trimestre e le prospettive per il {2026 + rng.randint(0, 2)}"
        lead = f"{a} ha presentato i risultati del trimestre, in linea con le attese degli analisti."
    body = [lead] + [
        rng.choice(_FILLER).format(city=rng.choice(_CITIES), n=rng.randint(20, 900)) for _ in range(8)
    ]
    paragraphs = [" ".join(body[j : j + 3]) for j in range(0, len(body), 3)]
    return {
        "slug": f"f{feed}-articolo-{i}", "days_ago": 1 + i % 5, "author": "Redazione", "section": "Imprese",
        "title": title, "summary": lead, "body": paragraphs, "related": [],
    }  # fmt: skip


def _site(feed: int, n_articles: int) -> dict[str, Any]:
    rng = random.Random(feed)
    return {
        "name": f"Notizie {feed}", "domain_hint": f"notizie{feed}", "feed_format": "rss",
        "feed_path": f"/feed-{feed}.xml", "tagline": "Economia e tecnologia", "nav": ["Home", "Imprese"],
        "articles": [_article(rng, feed, i) for i in range(n_articles)],
    }  # fmt: skip


# --- the web, in its own process ----------------------------------------------------------------------------


def _serve(n_feeds: int, n_articles: int, n_hosts: int, latency: float, conn: Any) -> None:
    from flows.demo_pages import render_site
    from flows.demo_server import LoopbackSites, Page, loopback_hosts

    server = LoopbackSites(loopback_hosts(n_hosts), latency_s=latency)
    pages: list[dict[str, Page]] = [{} for _ in range(n_hosts)]
    feeds = []
    for f in range(n_feeds):
        host = f % n_hosts
        site = _site(f, n_articles)
        pages[host].update(render_site(site, server.base_url(host)))
        feeds.append({"name": site["name"], "url": server.base_url(host) + site["feed_path"]})
    for host, host_pages in enumerate(pages):
        server.set_pages(host, host_pages)
    with server:
        conn.send((feeds, [server.base_url(h) for h in range(n_hosts)]))
        conn.recv()  # until the benchmark is done


def start_web(
    n_feeds: int, n_articles: int, n_hosts: int, latency: float
) -> tuple[Any, list[dict], list[str]]:
    parent, child = mp.get_context("spawn").Pipe()
    proc = mp.get_context("spawn").Process(
        target=_serve, args=(n_feeds, n_articles, n_hosts, latency, child), daemon=True
    )
    proc.start()
    feeds, bases = parent.recv()
    return (proc, parent), feeds, bases


# --- measurements --------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


class PeakSampler:
    """Samples the RSS (psutil) of this process plus the children the flow starts (its extraction worker;
    the web sites and the Prefect API server are left out) while a run goes: the peak of that run."""

    def __init__(self, not_ours: set[int]) -> None:
        import psutil

        self._proc = psutil.Process()
        self.not_ours = not_ours
        self.peak = 0
        self.child_cpu: dict[int, float] = {}  # CPU seconds of the flow's own children, by pid
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            self._stop.wait(0.05)

    def rss(self) -> int:
        import psutil

        total = self._proc.memory_info().rss
        for child in self._proc.children(recursive=True):
            if child.pid in self.not_ours:
                continue
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
                # The run ends its worker: its CPU is read while it lives (last value seen).
                self.child_cpu[child.pid] = sum(child.cpu_times()[:2])
        return total

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def cpu_seconds(web_pid: int) -> dict[str, float]:
    """CPU seconds used so far by this process and the web sites (the worker's: PeakSampler.child_cpu)."""
    import psutil

    me = psutil.Process()
    out = {"flow": sum(me.cpu_times()[:2]), "web": 0.0}
    for child in me.children(recursive=True):
        if child.pid == web_pid:
            with contextlib.suppress(psutil.Error):
                out["web"] += sum(child.cpu_times()[:2])
    return out


def naive_baseline(feeds: list[dict[str, str]], max_articles: int | None) -> tuple[float, int]:
    """feedparser.parse on a plain GET of each feed, then a plain GET + trafilatura.extract per article,
    one after another. Returns (seconds, requests made)."""
    import feedparser
    import trafilatura

    def get(url: str) -> bytes:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.read()

    started, requests = time.perf_counter(), 0
    links = []
    for feed in feeds:
        parsed = feedparser.parse(get(feed["url"]))
        requests += 1
        links.extend(e.link for e in parsed.entries)
    for link in links[:max_articles] if max_articles is not None else links:
        trafilatura.extract(get(link), url=link)
        requests += 1
    return time.perf_counter() - started, requests


def warm_up_prefect() -> None:
    from prefect import flow

    @flow
    def warm_up() -> int:
        return 1

    warm_up()


def write_config(folder: Path, feeds: list[dict[str, str]], per_host: int, total: int) -> Path:
    import yaml

    config = {
        "feeds": feeds,
        "warehouse": {"path": "dealradar.duckdb", "parquet_dir": "parquet"},
        "fetch": {"allow_private_addresses": True, "per_host_concurrency": per_host,
                  "total_concurrency": total, "max_entries_per_feed": 1000},
    }  # fmt: skip
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=20, help="feeds served (default 20)")
    parser.add_argument("--articles", type=int, default=50, help="articles per feed (default 50)")
    parser.add_argument("--hosts", type=int, default=10, help="loopback hosts the feeds are spread over")
    parser.add_argument("--latency", type=float, default=0.15, help="seconds added to every response")
    parser.add_argument("--per-host", type=int, default=2, help="fetch.per_host_concurrency (default 2)")
    parser.add_argument("--total", type=int, default=32, help="fetch.total_concurrency (default 32)")
    parser.add_argument("--baseline-articles", type=int, default=40,
                        help="articles the naive baseline fetches (extrapolated); 0 = all")  # fmt: skip
    parser.add_argument("--extraction", choices=["auto", "thread", "process"], default="auto",
                        help="deal extraction: flow default, its threads, a second process")  # fmt: skip
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

    web, feeds, _ = start_web(args.feeds, args.articles, args.hosts, args.latency)
    n_articles = args.feeds * args.articles
    n_hosts = len({f["url"].split("/")[2] for f in feeds})
    print(f"web: {args.feeds} feeds x {args.articles} articles on {n_hosts} "
          f"loopback hosts, {args.latency * 1000:.0f} ms per request")  # fmt: skip

    from flows.nightly import nightly, run_nightly

    in_process = {"auto": None, "thread": False, "process": True}[args.extraction]

    warm_up_prefect()
    before = {c.pid for c in __import__("psutil").Process().children(recursive=True)}  # Prefect server, web
    with tempfile.TemporaryDirectory(prefix="dealradar-bench-") as tmp:
        config = write_config(Path(tmp), feeds, args.per_host, args.total)
        cpu0 = cpu_seconds(web[0].pid)
        with PeakSampler(before) as first_mem:
            t0 = time.perf_counter()
            first = run_nightly(config, extraction_process=in_process)  # as `dealradar run` does
            first_s = time.perf_counter() - t0
        cpu1 = cpu_seconds(web[0].pid)
        with PeakSampler(before) as second_mem:
            t0 = time.perf_counter()
            second = run_nightly(config, extraction_process=in_process)
            second_s = time.perf_counter() - t0
        # The same quiet night as a scheduled deployment run, which keeps Prefect's flow-run heartbeats.
        t0 = time.perf_counter()
        nightly(str(config), in_process)
        beating_s = time.perf_counter() - t0

    sample = None if args.baseline_articles <= 0 else min(args.baseline_articles, n_articles)
    sample_feeds = feeds if sample is None else feeds[: max(1, -(-sample // args.articles))]
    base_s, base_requests = naive_baseline(sample_feeds, sample)
    total_requests = args.feeds + n_articles
    naive_s = base_s / base_requests * total_requests
    hosts = len({f["url"].split("/")[2].split(":")[0] for f in feeds})
    concurrency = min(args.total, hosts * args.per_host)
    # Feeds are fetched before their articles: the bound is the two phases, each at full concurrency,
    # plus one robots.txt per host.
    bound_s = (
        -(-args.feeds // min(concurrency, args.feeds)) + -(-(n_articles + hosts) // concurrency)
    ) * args.latency

    web[1].send("done")
    web[0].join(timeout=10)
    print(f"first run:   {first_s:7.2f} s  {first['articles_new'] / first_s:7.1f} articles/s  "
          f"({first['articles_new']} new articles, {first['deal_events']} deal events, "
          f"{first['feeds_fetched']} feeds fetched, {first['feeds_failed']} failed)")  # fmt: skip
    used = {k: round(cpu1[k] - cpu0[k], 1) for k in cpu0}
    used["worker"] = round(sum(first_mem.child_cpu.values()), 1)
    print(f"cpu:         {used} seconds of CPU during the first run ({os.cpu_count()} cores)")
    print(f"stages:      {first.get('stage_s')} (flow body; the rest is Prefect's bookkeeping)")
    print(
        f"peak memory: {first_mem.peak / 2**20:7.0f} MB (RSS of the flow's process + its extraction worker; "
        f"flow process alone: max {peak_rss_mb():.0f} MB)"
    )
    extrapolated = "" if sample is None else f", extrapolated from {base_requests} requests in {base_s:.1f} s"
    print(f"naive:       {naive_s:7.1f} s sequential ({total_requests} requests{extrapolated})"
          f"  -> flow is {naive_s / first_s:5.1f}x faster (target >= 10x)")  # fmt: skip
    print(f"bound:       {bound_s:7.2f} s = requests x {args.latency} s / {concurrency} allowed in flight "
          f"(min(total {args.total}, {hosts} hosts x {args.per_host}))  -> flow is {first_s / bound_s:4.2f}x "
          "the bound (target <= 1.5x)" if bound_s else "")  # fmt: skip
    print(f"second run:  {second_s:7.2f} s  ({second['feeds_not_modified']} feeds not modified, "
          f"{second['articles_new']} new) = {second_s / first_s * 100:.1f} % of the first (target < 5 %); "
          f"peak {second_mem.peak / 2**20:.0f} MB")  # fmt: skip
    body = sum(second.get("stage_s", {}).values())
    print(f"             flow body {body:.2f} s {second.get('stage_s')}; the rest ({second_s - body:.2f} s) "
          "is Prefect: flow and task run records, states, artifacts")  # fmt: skip
    print(f"             heartbeats on (a scheduled deployment run): {beating_s:.2f} s = "
          f"{beating_s / first_s * 100:.1f} % (Prefect 3.9 waits for its heartbeat's 1 s tick)")  # fmt: skip


if __name__ == "__main__":
    main()
