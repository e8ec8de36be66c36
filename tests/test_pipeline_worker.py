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
from extractors.articles import FetchedPage
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
