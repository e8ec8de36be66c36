"""What each family of evidence earns: valid F1 of the assigner refitted without it.

usage: python benchmarks/ablation.py --work DIR   (DIR: the work folder of `python -m extractors.deals.train
       --work DIR`, holding the recognisers trained per fold)

Each row refits the assigner on the training articles (organisations from the fold recognisers, as
`make train` does) with one family switched off, and scores ../shared/deals/valid.jsonl. "rules only" is
the rule layer's own output. Nothing is tuned on valid: it is only scored.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.deals import SETS, load_scorer, read  # noqa: E402

VARIANTS = [
    ("all evidence", set()),
    ("without rule events", {"rules"}),
    ("without rule organisations", {"rule_orgs"}),
    ("without the recogniser (NER)", {"ner"}),
    ("without deal-word table", {"deal_words"}),
    ("without context words", {"context"}),
    ("without headline/lead words", {"article_words"}),
    ("without rules at all", {"rules", "rule_orgs"}),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True)
    a = ap.parse_args()
    from extractors.deals import assign
    from extractors.deals.pipeline import make_doc, statistical_pipeline
    from extractors.deals.train import cross_parsed, fold_models, training_rows_of

    examples, _ = cross_parsed(*training_rows_of(SETS["valid"].parent), fold_models(a.work))
    shipped = statistical_pipeline(ROOT / "extractors" / "deals" / "trained")
    valid = read(SETS["valid"])
    docs = list(shipped.pipe(make_doc(shipped, r.get("title"), r["text"]) for r in valid))
    gold = {str(r["id"]): r["events"] for r in valid}
    scorer = load_scorer()
    rules = {str(r["id"]): [e for e in d.user_data.get(assign.RULE_EVENTS_KEY) or []]
             for r, d in zip(valid, docs, strict=True)}
    res = scorer.score(gold, rules)
    print(f"{'variant':<32} {'P':>5} {'R':>5} {'F1':>5} {'FA':>5}")
    print(f"{'rules only (no learning)':<32} {res['precision']:.3f} {res['recall']:.3f} {res['f1']:.3f} "
          f"{res['false_alarm_rate']:.2f}")
    for name, off in VARIANTS:
        assign.DISABLED.clear()
        assign.DISABLED.update(off)
        fitted = assign.fit_tuned(shipped, examples)
        pairs = zip(valid, docs, strict=True)
        pred = {str(r["id"]): [e.to_dict() for e in fitted.events(d)] for r, d in pairs}
        res = scorer.score(gold, pred)
        print(f"{name:<32} {res['precision']:.3f} {res['recall']:.3f} {res['f1']:.3f} "
              f"{res['false_alarm_rate']:.2f}", flush=True)
    assign.DISABLED.clear()


if __name__ == "__main__":
    main()
