"""Cross-validated event F1 of the assigner on the training articles: how design choices were decided
without looking at valid.

usage: python benchmarks/crossval.py --work DIR [--repeats 3] [--without FAMILY ...]
       (DIR: the work folder of `python -m extractors.deals.train --work DIR`, holding the recognisers
       trained per fold)

Each training article (train, train2, dev) is analysed by the fold recogniser that never saw it, as
`make train` does. Then, for each of --repeats random halvings, the assigner is fitted (`fit_tuned`:
thresholds and calibration included) on one half and scored on the other, both ways, with
../shared/deals/score.py. It prints each repeat and the mean; splits differ by 0.02-0.03, so compare means.
valid.jsonl is not read.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.deals import SETS, load_scorer  # noqa: E402


def _half(row_id: str, repeat: int) -> int:
    # md5, not crc32: crc32 is affine, so salts of one length give the same split or its mirror
    return hashlib.md5(f"{row_id}/crossval{repeat}".encode()).digest()[0] % 2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--without",
        action="append",
        default=[],
        help="a family of evidence to leave out (benchmarks/ablation.py)",
    )
    a = ap.parse_args()
    from extractors.deals import assign

    assign.DISABLED.update(a.without)
    from extractors.deals.train import cross_parsed, fold_models, training_rows_of

    examples, nlp = cross_parsed(*training_rows_of(SETS["valid"].parent), fold_models(a.work))
    scorer = load_scorer()
    print(f"{'repeat':<8} {'P':>5} {'R':>5} {'F1':>5} {'FA':>5} {'acq':>5} {'amt':>5} {'status':>6}")
    results = []
    for repeat in range(a.repeats):
        halves = [_half(str(r["id"]), repeat) for _, r in examples]
        gold, pred = {}, {}
        for k in (0, 1):
            fitted = assign.fit_tuned(nlp, [e for e, h in zip(examples, halves, strict=True) if h != k])
            for (doc, row), h in zip(examples, halves, strict=True):
                if h == k:
                    gold[str(row["id"])] = row.get("events") or []
                    pred[str(row["id"])] = [e.to_dict() for e in fitted.events(doc)]
        res = scorer.score(gold, pred)
        results.append(res)
        print(_line(str(repeat), res))
    mean = {
        k: sum(r[k] for r in results) / len(results)
        for k in ("precision", "recall", "f1", "false_alarm_rate")
    }
    mean["arguments"] = {
        k: sum(r["arguments"][k] or 0 for r in results) / len(results)
        for k in ("acquirer", "amount", "status")
    }
    print(_line("mean", mean))


def _line(name: str, res: dict) -> str:
    args = res["arguments"]
    return (
        f"{name:<8} {res['precision']:.3f} {res['recall']:.3f} {res['f1']:.3f} {res['false_alarm_rate']:.3f} "
        f"{args['acquirer'] or 0:.3f} {args['amount'] or 0:.3f} {args['status'] or 0:>6.3f}"
    )


if __name__ == "__main__":
    main()
