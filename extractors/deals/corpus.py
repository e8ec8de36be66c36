"""Gold deal sets (`shared/deals/*.jsonl`, see GUIDELINES.md) as training material.

An article becomes the same text extraction reads (`document.article_text`) with ORG entities: every
occurrence of each name in the article's `orgs` list.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, DocBin

from ..names import written_at
from .document import article_text


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def required_events(row: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in row.get("events") or [] if e.get("required", True)]


def _ambiguous(name: str) -> bool:
    """A list item that is also a number or a lower-case word ("3", "tempo") cannot be found by string
    search without marking every ordinary use of the word as a company."""
    return len(name) < 2 or name.isdigit() or name[0].islower() and " " not in name


def org_spans(text: str, orgs: Iterable[str]) -> list[tuple[int, int]]:
    """Character spans of every whole-word occurrence of the names, longest names first, no overlaps."""
    taken: list[tuple[int, int]] = []
    for name in sorted({o.strip() for o in orgs if o and o.strip()}, key=len, reverse=True):
        if _ambiguous(name):
            continue
        for s in written_at(text, name):
            e = s + len(name)
            if all(e <= a or s >= b for a, b in taken):
                taken.append((s, e))
    return sorted(taken)


def annotated_doc(nlp: Language, row: dict[str, Any]) -> Doc:
    text, _ = article_text(row.get("title"), row.get("text"))
    doc = nlp.make_doc(text)
    orgs = row.get("orgs")
    ents = []
    for s, e in org_spans(text, orgs or []):
        span = doc.char_span(s, e, label="ORG", alignment_mode="strict")
        if span is not None:
            ents.append(span)
    # an article without an org list teaches deal types only: its names are unknown, not absent
    doc.set_ents(ents, default="outside" if orgs is not None else "missing")
    return doc


def write_docbin(nlp: Language, rows: Iterable[dict[str, Any]], path: str | Path) -> int:
    db = DocBin(store_user_data=False)
    n = 0
    for row in rows:
        db.add(annotated_doc(nlp, row))
        n += 1
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db.to_disk(path)
    return n
