"""Deal-extraction benchmark: quality per gold set, calibration of confidence, and speed as a user runs it.

usage: python benchmarks/deals.py [--sets valid,train,...] [--no-speed]

- Quality: every gold set on its own row (P, R, F1, false alarms on negatives, every argument's accuracy),
  scored by ../shared/deals/score.py. valid.jsonl is the honest row: nothing was fitted to it. train,
  train2 and dev were trained on (their rows show fit, not generalisation); the it_* sets are synthetic
  articles we wrote (benchmarks/data/). "rules only" scores the rule layer alone on the same articles.
- Calibration: on valid, how often a predicted event at each confidence is right (matches a gold event).
- Speed: `dealradar extract-deals` as a process on one core over the real articles of train, train2 and
  valid (process start and model loading included), with its peak memory.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "deals"
SETS = {
    "valid": SHARED / "valid.jsonl",
    "train": SHARED / "train.jsonl",
    "train2": SHARED / "train2.jsonl",
    "dev": SHARED / "dev.jsonl",
    "it_varied": ROOT / "benchmarks" / "data" / "it_varied.jsonl",
    "it_blind": ROOT / "benchmarks" / "data" / "it_blind.jsonl",
    "it_blind2": ROOT / "benchmarks" / "data" / "it_blind2.jsonl",
    "it_blind3": ROOT / "benchmarks" / "data" / "it_blind3.jsonl",
}
ARGS = ("acquirer", "amount", "currency", "stake_pct", "status")


def load_scorer():
    spec = importlib.util.spec_from_file_location("deal_score", SHARED / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def row(name: str, res: dict) -> str:
    args = " ".join(f"{(res['arguments'][k] or 0):.2f}" for k in ARGS)
    fa = res["false_alarm_rate"]
    return (
        f"{name:<22} {res['precision']:.3f} {res['recall']:.3f} {res['f1']:.3f} "
        f"{'-' if fa is None else f'{fa:.2f}':>5}  {args}   tp={res['tp']} fp={res['fp']} fn={res['fn']}"
    )


def calibration(scorer, rows: list[dict], pred: dict[str, list[dict]]) -> None:
    bins = [(0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.01)]
    counts = {b: [0, 0] for b in bins}
    for r in rows:
        for p in pred[str(r["id"])]:
            b = next(b for b in bins if b[0] <= p["confidence"] < b[1])
            counts[b][1] += 1
            counts[b][0] += any(scorer.events_match(g, p) for g in r["events"])
    print("\ncalibration on valid (a predicted event is right when it matches a gold event):")
    for (lo, hi), (right, n) in counts.items():
        share = f"{right / n:.2f}" if n else "-"
        print(f"  confidence {lo:.1f}-{min(hi, 1.0):.1f}: {n:>4} events, right {share}")


def speed() -> None:
    rows = [r for name in ("train", "train2", "valid") if SETS[name].exists() for r in read(SETS[name])]
    if not rows:
        print("speed: no real articles (../shared/deals absent)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        src.write_text(
            "".join(
                json.dumps({"id": r["id"], "title": r.get("title"), "text": r["text"]}, ensure_ascii=False)
                + "\n"
                for r in rows
            ),
            encoding="utf-8",
        )
        exe = Path(sys.executable).with_name("dealradar")
        cmd = ["taskset", "-c", "0", str(exe), "extract-deals", str(src), "-o", str(out)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"\nspeed: `dealradar extract-deals` on {len(rows)} real articles, one core, process start included: "
        f"{wall:.1f} s = {len(rows) / wall:.0f} articles/s; peak memory {peak:.0f} MB"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated gold sets to score")
    ap.add_argument("--no-speed", action="store_true")
    a = ap.parse_args()
    if not (SHARED / "score.py").exists():
        sys.exit("../shared/deals/score.py not found: nothing to score against")
    scorer = load_scorer()
    from extractors.deals import extract_deals, extract_rule_deals, load_pipeline

    nlp = load_pipeline()
    print(f"{'set':<22} {'P':>5} {'R':>5} {'F1':>5} {'FA':>5}  acq   amt   cur   stake status")
    for name in a.sets.split(","):
        path = SETS[name]
        if not path.exists():
            print(f"{name:<22} (not found)")
            continue
        rows = read(path)
        gold = {str(r["id"]): r["events"] for r in rows}
        docs = [(r.get("title"), r["text"]) for r in rows]
        pred = {
            str(r["id"]): [e.to_dict() for e in evs]
            for r, evs in zip(rows, extract_deals(docs, nlp=nlp), strict=True)
        }
        print(row(name, scorer.score(gold, pred)))
        if name == "valid":
            rules = {
                str(r["id"]): [e.to_dict() for e in evs]
                for r, evs in zip(rows, extract_rule_deals(docs, nlp=nlp), strict=True)
            }
            print(row("valid (rules only)", scorer.score(gold, rules)))
            valid_rows, valid_pred = rows, pred
    if "valid" in a.sets.split(",") and SETS["valid"].exists():
        calibration(scorer, valid_rows, valid_pred)
    if not a.no_speed:
        speed()


if __name__ == "__main__":
    main()
