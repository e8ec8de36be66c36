"""The deal-extraction pipeline: spacy.blank("it") + our components, and the functions other stages call.

Pipeline order: breaks (title/paragraph boundaries) -> sentencizer -> lookup lemmatizer -> lemma case
fix -> money -> entity ruler (known companies, aliases) -> triggers -> organisations -> events.
The result of each Doc is `doc._.deal_events` (list[DealEvent]).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import spacy
from spacy.lang.it.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import compile_infix_regex, compile_suffix_regex

from ..models import DealEvent
from ..settings import ExtractionSettings
from . import lexicon, money, orgs, triggers  # noqa: F401  (registers the factories)
from .events import TITLE_END_KEY, doc_events

log = logging.getLogger(__name__)

EXTRACTOR_VERSION = "deals-1.4.0"
MAX_BODY_CHARS = 100_000
MAX_TITLE_CHARS = 1_000

if not Doc.has_extension("deal_events"):
    Doc.set_extension("deal_events", default=None)


_WRAPPED_LINE = re.compile(r"(?<=[\w,;])\n(?=[\w(])")
_FINAL_PUNCT = frozenset({".", "!", "?", ":", '"', "”", "»"})


def _paragraph_break(space) -> bool:
    """A blank line, or a line break after a finished sentence; a wrapped line ("la\nCommissione") is not."""
    text = space.text
    if text.count("\n") >= 2 or "  " in text or "\n" not in text:
        return True
    return space.i > 0 and space.nbor(-1).text in _FINAL_PUNCT


def _after_abbreviation(tok) -> bool:
    """A lower-case word or a comma right after a full stop ("S.r.l., società di", "Inc. nata")."""
    prev = tok.nbor(-1)
    if prev.text == "." and (tok.text in {",", ";", ")"} or tok.is_lower):
        return True
    return (
        tok.is_lower
        and prev.text in {",", ";", ")"}
        and tok.i >= 2
        and tok.nbor(-2).text.endswith(".")
        and "\n" not in prev.whitespace_ + tok.nbor(-2).whitespace_
    )


class Breaks:
    """Sentence starts the punctuation sentencizer cannot see: after the title and at paragraph breaks."""

    def __init__(self, nlp: Language, name: str):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        t_end = int(doc.user_data.get(TITLE_END_KEY, 0))
        for tok in doc[1:]:
            prev = tok.nbor(-1)
            if (
                tok.i == t_end
                or (prev.is_space and not tok.is_space and _paragraph_break(prev))
                or "\n" in prev.whitespace_
                and prev.text in _FINAL_PUNCT
            ):
                tok.is_sent_start = True
            elif _after_abbreviation(tok):
                # "Neurotech Pharma Inc., nata a Siena": a full stop of an abbreviation ends no sentence
                tok.is_sent_start = False
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 32) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)


@Language.factory("dealradar_breaks_v1")
def make_breaks(nlp: Language, name: str) -> Breaks:
    return Breaks(nlp, name)


class EventAssembler:
    """Turns triggers + organisations + figures into the article's DealEvents (doc._.deal_events)."""

    def __init__(self, nlp: Language, name: str, min_confidence: float):
        self.name = name
        self.min_confidence = min_confidence

    def __call__(self, doc: Doc) -> Doc:
        events = doc_events(doc)
        doc._.deal_events = [e for e in events if e.confidence >= self.min_confidence]
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 32) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)


@Language.factory("dealradar_events_v1", default_config={"min_confidence": 0.0})
def make_event_assembler(nlp: Language, name: str, min_confidence: float) -> EventAssembler:
    return EventAssembler(nlp, name, min_confidence)


def _trustworthy_memory(name: str | None) -> bool:
    """Companies remembered from past extractions may hold its mistakes ("Prodotto", "Milano"): a single
    common Italian word or a listed place/institution is not taught back (config aliases always are)."""
    name = (name or "").strip()
    if len(name) < 2 or not any(c.isalpha() for c in name):
        return False
    folded = lexicon.fold(name)
    if folded in lexicon.places() or folded in lexicon.institutions() or folded in lexicon.common_caps():
        return False
    single = len(name.split()) == 1
    marked = any(c.isupper() for c in name[1:]) or any(c.isdigit() for c in name)  # OpenAI, P101, AOL
    return not (single and not marked and folded in lexicon.italian_vocabulary())


def _ruler_patterns(known_companies: Iterable[str], aliases: dict[str, list[str]]) -> list[dict[str, Any]]:
    patterns: list[dict[str, Any]] = []
    seen: set[str] = set()
    remembered = [(c, [c]) for c in known_companies if _trustworthy_memory(c)]
    for canonical, names in remembered + [(c, [c, *a]) for c, a in aliases.items()]:
        for name in names:
            name = (name or "").strip()
            if len(name) < 2 or name in seen:
                continue
            seen.add(name)
            patterns.append({"label": "ORG", "pattern": name, "id": canonical.strip()})
    return patterns


def load_pipeline(
    settings: ExtractionSettings | None = None, known_companies: Iterable[str] = ()
) -> Language:
    """Build and initialise the pipeline (about a second: the lemma tables load); callers cache it."""
    settings = settings or ExtractionSettings()
    if settings.model == "blank":
        nlp = spacy.blank("it")
    else:
        # an installed statistical pipeline: keep its tokenizer and vectors, use our rules on top
        nlp = spacy.load(settings.model, exclude=["ner", "lemmatizer", "senter", "parser"])
    nlp.batch_size = settings.batch_size
    # "Hp-Compaq", "Leonardo-Fincantieri": headline pairs of names split into two names
    infixes = [*nlp.Defaults.infixes, r"(?<=[a-z0-9])-(?=[A-Z])"]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    # "la rete 5G. Nel pomeriggio...": a sentence's full stop after a code like 5G or 4K is its own token
    suffixes = [*nlp.Defaults.suffixes, r"(?<=[0-9][A-Za-z])\."]
    nlp.tokenizer.suffix_search = compile_suffix_regex(suffixes).search
    nlp.add_pipe("dealradar_breaks_v1")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.add_pipe("dealradar_lemma_case_v1")
    nlp.add_pipe("dealradar_money_v1")
    patterns = _ruler_patterns(known_companies, settings.aliases)
    ruler = None
    if patterns:  # an empty ruler warns on every call
        ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "ORTH"})
    nlp.add_pipe("dealradar_triggers_v1")  # before names: a deal verb after a bare word vouches for it
    nlp.add_pipe("dealradar_orgs_v1")
    nlp.add_pipe("dealradar_events_v1", config={"min_confidence": settings.min_confidence})
    if settings.model == "blank":
        nlp.initialize()
    else:
        # initialising a trained pipeline would reset its weights: only the lookup tables load here
        nlp.get_pipe("lemmatizer").initialize()
    if ruler is not None:  # initialize() clears a ruler: patterns go in afterwards
        ruler.add_patterns(patterns)
    return nlp


_DEFAULT_NLP: Language | None = None


def default_pipeline() -> Language:
    global _DEFAULT_NLP
    if _DEFAULT_NLP is None:
        _DEFAULT_NLP = load_pipeline()
    return _DEFAULT_NLP


_SITE_SUFFIX = re.compile(r"\s+[|–—-]\s+([^|–—-]{1,40})$")


_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def _normalise_headline_case(title: str) -> str:
    """ "Nvidia Acquisisce La Startup Groq", "NVIDIA ACQUISISCE GROQ": in a Title Case or upper-case
    headline capitals mark nothing, so Italian words go to lower case and the other words keep a capital."""
    words = _WORD.findall(title)
    # function words ("La", "Per", "Di") capitalised inside the headline give Title Case away
    inner = [w for w in words[1:] if w.lower() in STOP_WORDS]
    title_case = len(inner) >= 2 and all(w[0].isupper() for w in inner)
    if not (title_case or (title.isupper() and len(words) >= 3)):
        return title
    vocabulary = lexicon.italian_vocabulary()

    def fix(m: re.Match[str]) -> str:
        w = m.group(0)
        if lexicon.fold(w) in vocabulary:
            return w.lower()
        return w[0] + w[1:].lower() if w.isupper() and len(w) > 4 else w

    return _WORD.sub(fix, title)


def _strip_site_suffix(title: str) -> str:
    """ "Faro compra Scoglio - Il Post", "... | StartupItalia": the outlet's name is no party of the deal."""
    m = _SITE_SUFFIX.search(title)
    if m and len(m.group(1).split()) <= 4 and m.start() > 0:
        return title[: m.start()]
    return title


def make_doc(nlp: Language, title: str | None, text: str) -> Doc:
    """One Doc for title + body; the title's end is remembered so that it stays its own sentence."""
    # "L’ok" -> "L'ok": the tokenizer splits elisions on the straight apostrophe only (offsets kept)
    title = _strip_site_suffix(" ".join((title or "").split())[:MAX_TITLE_CHARS].replace("’", "'"))
    title = _normalise_headline_case(title)
    # a line wrapped inside a sentence ("22,3 miliardi di\ndollari") is a space; offsets stay the same
    # deals are told in the lead: a huge page is cut (spaCy refuses texts over nlp.max_length)
    body = _WRAPPED_LINE.sub(" ", (text or "")[:MAX_BODY_CHARS].replace("’", "'"))
    if not title:
        doc = nlp.make_doc(body)
        doc.user_data[TITLE_END_KEY] = 0
        return doc
    doc = nlp.make_doc(f"{title}\n\n{body}")
    head = nlp.make_doc(title)
    doc.user_data[TITLE_END_KEY] = len(head)
    return doc


def extract_deals(
    docs: Iterable[tuple[str | None, str]], nlp: Language | None = None, batch_size: int = 32
) -> list[list[DealEvent]]:
    """Deal events of each (title, text) pair, in order: one list per article (empty when none)."""
    nlp = nlp or default_pipeline()
    made = (make_doc(nlp, title, text) for title, text in docs)
    return [list(doc._.deal_events or []) for doc in nlp.pipe(made, batch_size=batch_size)]


JSONL_CHUNK = 256  # articles held in memory at once: input files can be any size


def extract_jsonl(
    input_path: str | Path, output_path: str | Path, nlp: Language | None = None
) -> dict[str, int]:
    """`dealradar extract-deals`: one output line per input line; a bad line gets "events": [] and "error"."""
    nlp = nlp or default_pipeline()
    stats = {"articles": 0, "events": 0, "errors": 0}
    with open(input_path, encoding="utf-8") as f, open(output_path, "w", encoding="utf-8") as out:
        chunk: list[tuple[int, dict[str, Any] | None, str | None]] = []
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            chunk.append((n, *_parse_line(line, n)))
            if len(chunk) >= JSONL_CHUNK:
                _write_chunk(chunk, nlp, out, stats, input_path)
                chunk = []
        _write_chunk(chunk, nlp, out, stats, input_path)
    return stats


def _write_chunk(chunk, nlp: Language, out, stats: dict[str, int], input_path) -> None:
    good = [(n, row) for n, row, error in chunk if error is None and row is not None]
    results = extract_deals(((row.get("title"), row["text"]) for _, row in good), nlp=nlp)
    by_line = {n: events for (n, _), events in zip(good, results, strict=True)}
    for n, row, error in chunk:
        stats["articles"] += 1
        if error is not None:
            stats["errors"] += 1
            log.warning("%s:%d: %s", input_path, n, error)
            rid = row.get("id") if isinstance(row, dict) else None
            out.write(json.dumps({"id": rid, "events": [], "error": f"line {n}: {error}"}) + "\n")
            continue
        events = [e.to_dict() for e in by_line[n]]
        stats["events"] += len(events)
        out.write(json.dumps({"id": row["id"], "events": events}, ensure_ascii=False) + "\n")


def _parse_line(line: str, n: int) -> tuple[dict[str, Any] | None, str | None]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        return None, f"not JSON: {e}"
    if not isinstance(row, dict):
        return None, "not a JSON object"
    if "id" not in row:
        return row, "missing 'id'"
    if not isinstance(row.get("text"), str):
        return row, "missing or non-string 'text'"
    if row.get("title") is not None and not isinstance(row["title"], str):
        return row, "'title' is not a string"
    return row, None
