"""CI gate: the deal extractor must not lose quality on the shared dev set (skipped when it is absent).

Floors sit a little under the figures reached when the gate was set (see benchmarks/deals.py): whole set
F1 0.853, precision 1.0, amount accuracy 0.81, no false alarm on the no-deal articles. Raise them when the
extractor improves.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from extractors.deals import extract_deals, load_pipeline

SHARED_DEALS = Path(__file__).resolve().parents[1].parent / "shared" / "deals"
GOLD = SHARED_DEALS / "dev.jsonl"
F1_FLOOR = 0.82
PRECISION_FLOOR = 0.90
FALSE_ALARM_CEILING = 0.10
AMOUNT_FLOOR = 0.75

pytestmark = pytest.mark.skipif(not GOLD.exists(), reason=f"{GOLD} not present")


@pytest.fixture(scope="module")
def result():
    spec = importlib.util.spec_from_file_location("deal_score", SHARED_DEALS / "score.py")
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    predicted = extract_deals([(r.get("title"), r["text"]) for r in rows], nlp=load_pipeline())
    gold = {str(r["id"]): r["events"] for r in rows}
    pred = {str(r["id"]): [e.to_dict() for e in events] for r, events in zip(rows, predicted, strict=True)}
    return scorer.score(gold, pred)


def test_f1_does_not_drop(result):
    assert result["f1"] >= F1_FLOOR, result["details"]


def test_precision_does_not_drop(result):
    assert result["precision"] >= PRECISION_FLOOR, [d for d in result["details"] if d[0] == "FP"]


def test_false_alarms_stay_rare(result):
    assert result["false_alarm_rate"] <= FALSE_ALARM_CEILING


def test_amounts_stay_right(result):
    assert result["arguments"]["amount"] >= AMOUNT_FLOOR
