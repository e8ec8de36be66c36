"""Deal-extractor benchmark: quality on the shared dev set (whole and two halves) and throughput.

usage: python benchmarks/deals.py [--gold ../shared/deals/dev.jsonl] [--scorer PATH] [--details]
                                  [--half tune|held]

Any gold file in the same format can be scored, e.g. the synthetic set in the repo:
    python benchmarks/deals.py --gold benchmarks/data/it_varied.jsonl --scorer ../shared/deals/score.py

The dev set is split by sorted id, alternating: even positions are the half the rules were tuned on
("tune"), odd positions the half they were not ("held"). Scores come from the shared score.py.
Throughput is measured on the dev articles and on synthetic 2,000-character articles, on one core.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_GOLD = ROOT.parent / "shared" / "deals" / "dev.jsonl"


DEFAULT_SCORER = ROOT.parent / "shared" / "deals" / "score.py"


def load_scorer(path: Path):
    spec = importlib.util.spec_from_file_location("deal_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_gold(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def halves(rows: list[dict]) -> dict[str, set[str]]:
    ids = sorted(str(r["id"]) for r in rows)
    return {"tune": set(ids[0::2]), "held": set(ids[1::2])}


def predict(rows: list[dict], nlp) -> dict[str, list[dict]]:
    from extractors.deals import extract_deals

    results = extract_deals(((r.get("title"), r["text"]) for r in rows), nlp=nlp)
    return {str(r["id"]): [e.to_dict() for e in events] for r, events in zip(rows, results, strict=True)}


def report(name: str, scorer, gold: dict, pred: dict) -> dict:
    res = scorer.score(gold, pred)
    args = ", ".join(f"{k}={v}" for k, v in res["arguments"].items())
    print(
        f"{name:>6}: P={res['precision']:.3f} R={res['recall']:.3f} F1={res['f1']:.3f} "
        f"(tp={res['tp']} fp={res['fp']} fn={res['fn']}) false-alarms={res['false_alarm_rate']}  [{args}]"
    )
    return res


def synthetic_articles(n: int) -> list[tuple[str, str]]:
    """2,000-character Italian articles with a deal in the lead and filler prose after it."""
    filler = (
        "Il mercato italiano dell'innovazione continua a crescere e le imprese guardano con interesse alle "
        "nuove tecnologie. Gli analisti osservano che la domanda di servizi digitali resta sostenuta, mentre "
        "la concorrenza internazionale spinge le aziende a investire in ricerca e sviluppo. "
    )
    out = []
    for i in range(n):
        lead = (
            f"La startup Alfa{i} Robotics ha raccolto 12 milioni di euro in un round di Serie A guidato "
            f"dal fondo Beta{i} Ventures. "
        )
        body = lead
        while len(body) < 2000:
            body += filler
        out.append((f"Alfa{i} Robotics raccoglie 12 milioni", body[:2000]))
    return out


def throughput(nlp, docs: list[tuple[str | None, str]]) -> float:
    from extractors.deals import extract_deals

    start = time.perf_counter()
    extract_deals(docs, nlp=nlp)
    return len(docs) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    ap.add_argument(
        "--scorer", type=Path, help="score.py to use (default: next to the gold file, else the shared one)"
    )
    ap.add_argument("--details", action="store_true", help="list false positives and negatives")
    ap.add_argument("--half", choices=["tune", "held"], help="details for one half only")
    ap.add_argument("--no-halves", action="store_true", help="score the whole file only (no dev split)")
    a = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says

    from extractors.deals import load_pipeline

    t0 = time.perf_counter()
    nlp = load_pipeline()
    print(f"pipeline loaded in {time.perf_counter() - t0:.2f} s")
    if not a.gold.exists():
        print(f"{a.gold} not found: quality skipped")
        rows = []
    else:
        rows = read_gold(a.gold)
        scorer_path = a.scorer or a.gold.parent / "score.py"
        if not scorer_path.exists():
            scorer_path = DEFAULT_SCORER
        scorer = load_scorer(scorer_path)
        t0 = time.perf_counter()
        pred = predict(rows, nlp)
        elapsed = time.perf_counter() - t0
        gold = {str(r["id"]): r["events"] for r in rows}
        res = report("whole", scorer, gold, pred)
        if a.no_halves and a.details:
            for row in res["details"]:
                print("   ", *row, sep="\t")
        for name, ids in ({} if a.no_halves else halves(rows)).items():
            res = report(
                name,
                scorer,
                {k: v for k, v in gold.items() if k in ids},
                {k: v for k, v in pred.items() if k in ids},
            )
            if a.details and (a.half in (None, name)):
                for row in res["details"]:
                    print("   ", *row, sep="\t")
        print(f"dev: {len(rows)} articles in {elapsed:.2f} s = {len(rows) / elapsed:.0f} articles/s")
    synth = synthetic_articles(400)
    print(f"synthetic 2,000-char articles: {throughput(nlp, synth):.0f} articles/s (one core)")


if __name__ == "__main__":
    main()
