"""The extraction worker process starts whatever the parent's main module is: a scheduled run's main is
`python -m prefect.engine`, a user's may be a script read from stdin, which spawn cannot re-import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json
from extractors.settings import ExtractionSettings
from flows.extraction import extract_docs, extraction_process, stop_extraction_process

settings = ExtractionSettings()
extraction_process(settings, [])
docs = [("Gruppo Ardesia acquisisce Lumen Data per 12 milioni di euro",
         "Gruppo Ardesia ha annunciato l'acquisizione di Lumen Data per 12 milioni di euro.")]
events = extract_docs(docs, settings, [], use_process=True)
stop_extraction_process()
print(json.dumps([[e.deal_type, e.target] for e in events[0]]))
"""


@pytest.mark.slow
def test_the_worker_extracts_for_a_script_read_from_stdin() -> None:
    done = subprocess.run(
        [sys.executable, "-"], input=SCRIPT, capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert '["acquisition", "Lumen Data"]' in done.stdout
