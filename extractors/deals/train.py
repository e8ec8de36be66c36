"""`make train`: rebuild the shipped deal model from the shared gold sets (a quarter of an hour on 2 cores).

1. corpora: the articles of train.jsonl + train2.jsonl with every occurrence of their `orgs` marked, as
   spaCy DocBins made with the extraction tokenizer; every tenth article picks the best checkpoint;
2. `spacy train model_src/config.cfg`: the organisation recogniser, once on all articles (shipped) and once
   per half (`FOLDS`), in parallel;
3. the assigner's classifiers (`assign.py`), fitted on every training article (and dev.jsonl) as the
   shipped pipeline would see it, except that each half's organisations come from the recogniser trained on
   the other half: the classifiers learn from the recogniser's real mistakes, not from gold names.

valid.jsonl is never read here: it measures what unseen articles will show (benchmarks/deals.py).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import spacy

from .corpus import read_jsonl, write_docbin
from .rules import customise_tokenizer

HERE = Path(__file__).parent
CONFIG = HERE / "model_src" / "config.cfg"
MODEL_DIR = HERE / "trained"
ASSIGNER_DIR = "dealradar_assign"
NER_FILES = ("train.jsonl", "train2.jsonl")
ASSIGNER_ONLY_FILES = ("dev.jsonl",)  # no org lists: its names are unknown, so it teaches the assigner only
FOLDS = 2

log = logging.getLogger(__name__)


def _bucket(row_id: str, n: int) -> int:
    """A stable bucket by id: the same split on every machine and run."""
    return zlib.crc32(str(row_id).encode()) % n


def _corpus(rows: list[dict], out: Path) -> tuple[Path, Path]:
    nlp = spacy.blank("it")
    customise_tokenizer(nlp)
    # salted: the checkpoint tenth must not coincide with a fold (crc % 10 == 0 implies crc % 2 == 0)
    write_docbin(nlp, [r for r in rows if _bucket(f"{r['id']}/checkpoint", 10)], out / "train.spacy")
    write_docbin(nlp, [r for r in rows if not _bucket(f"{r['id']}/checkpoint", 10)], out / "dev.spacy")
    return out / "train.spacy", out / "dev.spacy"


def _train_command(train: Path, dev: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "spacy",
        "train",
        str(CONFIG),
        "--output",
        str(out),
        "--paths.train",
        str(train),
        "--paths.dev",
        str(dev),
    ]


def train_recognisers(rows: list[dict], work: Path) -> tuple[Path, list[Path]]:
    """The shipped recogniser and one per fold (trained without that fold), all trained at once."""
    jobs = {"all": rows}
    for k in range(FOLDS):
        jobs[f"fold{k}"] = [r for r in rows if _bucket(r["id"], FOLDS) != k]
    procs = []
    for name, subset in jobs.items():
        train, dev = _corpus(subset, work / name)
        log.info("recogniser %s: %d articles", name, len(subset))
        logf = open(work / f"{name}.log", "w")  # noqa: SIM115  (closed below)
        procs.append(
            (
                name,
                subprocess.Popen(
                    _train_command(train, dev, work / name / "run"), stdout=logf, stderr=subprocess.STDOUT
                ),
                logf,
            )
        )
    for name, proc, logf in procs:
        proc.wait()
        logf.close()
        if proc.returncode:
            sys.stderr.write((work / f"{name}.log").read_text())
            raise SystemExit(f"spacy train failed for {name}")
    best = work / "all" / "run" / "model-best"
    return best, fold_models(work)


def cross_parsed(rows: list[dict], extra: list[dict], folds: list[Path]):
    """Every training article as a Doc analysed by the fold recogniser that never saw it (`extra`, which
    trained no recogniser, with the first fold's), and the last fold's pipeline: what the assigner learns
    from, in `make train`, `benchmarks/ablation.py` and `benchmarks/crossval.py`."""
    from .assign import parsed  # noqa: PLC0415
    from .pipeline import statistical_pipeline  # noqa: PLC0415

    examples = []
    for k, fold_model in enumerate(folds):
        nlp = statistical_pipeline(fold_model)
        held = [r for r in rows if _bucket(r["id"], FOLDS) == k] + (extra if k == 0 else [])
        examples += parsed(nlp, held)
        log.info("fold %d: %d articles analysed by the recogniser that never saw them", k, len(held))
    return examples, nlp


def fold_models(work: Path) -> list[Path]:
    return [work / f"fold{k}" / "run" / "model-best" for k in range(FOLDS)]


def training_rows_of(shared: Path) -> tuple[list[dict], list[dict]]:
    """The articles that train the recogniser, and those that train only the assigner."""
    rows = [r for name in NER_FILES for r in read_jsonl(shared / name)]
    extra = [r for name in ASSIGNER_ONLY_FILES if (shared / name).exists() for r in read_jsonl(shared / name)]
    return rows, extra


def fit_assigner_cross(rows: list[dict], extra: list[dict], folds: list[Path], out: Path) -> None:
    from .assign import fit_tuned  # noqa: PLC0415

    examples, nlp = cross_parsed(rows, extra, folds)
    fit_tuned(nlp, examples).to_disk(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=Path("../shared/deals"), help="folder of the gold sets")
    ap.add_argument("--out", type=Path, default=MODEL_DIR, help="where the trained pipeline goes")
    ap.add_argument(
        "--work", type=Path, default=None, help="keep corpora and checkpoints here (default: temp)"
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rows, extra = training_rows_of(args.shared)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        best, folds = train_recognisers(rows, work)
        fit_assigner_cross(rows, extra, folds, work / ASSIGNER_DIR)
        shutil.rmtree(args.out, ignore_errors=True)
        shutil.copytree(best, args.out)
        shutil.copytree(work / ASSIGNER_DIR, args.out / ASSIGNER_DIR)
    log.info("trained deal model written to %s", args.out)


if __name__ == "__main__":
    main()
