"""The worker processes (page text and deal extraction) start whatever the parent's main module is: a
scheduled run's main is `python -m prefect.engine`, a user's may be a script read from stdin, which spawn
cannot re-import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json
from extractors.page_text import FetchedPage
from extractors.models import FeedEntry
from extractors.settings import ExtractionSettings
from flows.extraction import start_workers, stop_workers, submit_pages

settings = ExtractionSettings(workers=2)
start_workers(settings, [])
title = "Gruppo Ardesia acquisisce Lumen Data per 12 milioni di euro"
body = ("Gruppo Ardesia ha annunciato oggi l'acquisizione di Lumen Data, societa milanese di dati, "
        "per 12 milioni di euro. L'operazione sara completata entro la fine dell'anno. ") * 3
html = f"<html><head><title>{title}</title></head><body><nav>Home | Economia</nav><article><h1>{title}</h1>"
html += f"<p>{body}</p><p>{body}</p></article></body></html>"
url = "https://notizie.example/ardesia"
page = FetchedPage(FeedEntry("Notizie", "https://notizie.example/feed", url, url, title), html.encode(),
                   url, "text/html; charset=utf-8")
work = submit_pages([page], ["it"], settings, []).result()
stop_workers()
print(json.dumps({"extraction": work.articles[0].extraction, "in_worker": work.worker is not None,
                  "events": [[e.deal_type, e.target] for e in work.events[url]]}))
"""


@pytest.mark.slow
def test_the_worker_extracts_for_a_script_read_from_stdin() -> None:
    done = subprocess.run(
        [sys.executable, "-"], input=SCRIPT, capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    # The page's text was taken by trafilatura and its deal extracted, both in a worker process.
    assert out["extraction"] == "page" and out["in_worker"]
    assert ["acquisition", "Lumen Data"] in out["events"]


@pytest.mark.slow
def test_a_worker_killed_mid_run_costs_deal_events_never_articles() -> None:
    """The out-of-memory killer takes a worker: every page of the night is still stored with its text
    (made in the flow's process), and the run counts the articles left without events for reextract."""
    import asyncio
    import os
    import signal

    import psutil
    from support.server import LoopbackServer, Response

    from extractors.crawl import crawl
    from extractors.models import FeedSource
    from extractors.settings import ExtractionSettings, FetchSettings
    from flows.extraction import start_workers, stop_workers, submit_pages

    body = ("<p>Alfa Software ha annunciato l'acquisizione di Beta Cloud per dieci milioni di euro, con "
            "l'obiettivo di crescere in Italia e in Europa nei prossimi anni.</p>") * 4  # fmt: skip
    server = LoopbackServer()
    paths = [f"/notizia-{i}" for i in range(6)]
    for path in paths:
        html = f"<html><head><title>{path}</title></head><body><article>{body}</article></body></html>"
        server.routes[path] = Response(200, html.encode(), {"Content-Type": "text/html"})
    items = "".join(f"<item><title>Notizia {p}</title><link>{server.url(p)}</link></item>" for p in paths)
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    server.routes["/feed.xml"] = Response(200, feed.encode(), {"Content-Type": "application/rss+xml"})
    settings = ExtractionSettings(workers=1)
    killed: list[int] = []

    def work(pages: list) -> object:
        if not killed:  # the first batch finds its worker gone
            for child in psutil.Process().children(recursive=True):
                if any("spawn_main" in part for part in child.cmdline()):
                    os.kill(child.pid, signal.SIGKILL)
                    killed.append(child.pid)
        return submit_pages(pages, ["it"], settings, []).result()

    fetch = FetchSettings(allow_private_addresses=True, retries=0)
    with server:
        start_workers(settings, []).submit(os.getpid).result()  # the worker is up
        try:
            result = asyncio.run(crawl([FeedSource("Notizie", server.url("/feed.xml"))], {}, fetch,
                                       known=lambda urls: set(), work=work, batch_size=2))  # fmt: skip
        finally:
            stop_workers()
    assert killed
    assert sorted(a.url for a in result.articles) == sorted(server.url(p) for p in paths)
    assert all(a.extraction == "page" and a.text for a in result.articles)
    assert result.extraction_failures == len(paths) and not result.events_by_url


LEAN_SCRIPT = """
import json, sys
from flows.extraction import _warm
from extractors.settings import ExtractionSettings

_warm(ExtractionSettings(), [])  # what a worker process does before its first batch
loaded = sorted(m for m in ("httpx", "httpcore", "feedparser", "typer", "rich", "weasel", "requests")
                if m in sys.modules)
import spacy
info = spacy.info(silent=True)  # spaCy's CLI is still there for whoever asks
import spacy.cli
print(json.dumps({"loaded": loaded, "spacy_info": sorted(info)[:3],
                  "cli_train": hasattr(spacy.cli, "train")}))
"""


@pytest.mark.slow
def test_an_extraction_worker_loads_neither_the_http_stack_nor_spacys_command_line() -> None:
    """Two workers run beside the flow: each library a worker does not need adds to every night's peak
    memory (the HTTP stack 15 MB, spaCy's CLI 18 MB per worker)."""
    done = subprocess.run(
        [sys.executable, "-c", LEAN_SCRIPT], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["loaded"] == []
    assert out["spacy_info"] and out["cli_train"]
