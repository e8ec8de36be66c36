"""The deal-extraction pipeline and the functions other stages call.

One spaCy pipeline, shipped inside the package (`trained/`, rebuilt by `make train`):

    rules: sentence breaks -> lemmas -> money -> [known names] -> triggers -> organisations -> rule events
    statistics: tok2vec -> ner (ORG, trained on the shared gold sets), run on the article's lead (lead_ner.py)
    assigner: learned classifiers weigh what the recogniser, the rules and the words around each name say,
              and write `doc._.deal_events` (list[DealEvent])

Rules stay where language is regular (money, percentages, sentence breaks) and as evidence the assigner
weighs; which organisation is bought, by whom, and whether the article reports it as news is learned.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import minibatch

from ..models import DealEvent
from ..settings import BUNDLED_MODEL, ExtractionSettings
from . import assign, lexicon  # noqa: F401  (registers the assigner's factory)
from .document import RULE_EVENTS_KEY, make_doc
from .lead_ner import LEAD_RECOGNISER, read_lead_only
from .money import MONEY_KEY
from .rules import add_rule_components, customise_tokenizer
from .tables import deal_family

log = logging.getLogger(__name__)

EXTRACTOR_VERSION = "deals-2.1.1"
# Docs per pipe() batch: the recogniser's working arrays grow with the batch (32 articles: +180 MB over the
# loaded pipeline, 8: +70 MB, 4: +43 MB at the same speed as 8 on the benchmark pages), so the batch stays
# small whatever the task size.
PIPE_BATCH = 4
ASSIGNER = "dealradar_assign"

if not Doc.has_extension("deal_events"):
    Doc.set_extension("deal_events", default=None)


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


def statistical_pipeline(model_dir: str | Path = BUNDLED_MODEL) -> Language:
    """The trained recogniser with the rule components in front of it (no assigner): what training reads."""
    model_dir = Path(model_dir)
    if not (model_dir / "config.cfg").exists():
        raise FileNotFoundError(f"{model_dir}: no trained deal model here (run `make train`)")
    nlp = spacy.load(model_dir, exclude=[ASSIGNER])
    customise_tokenizer(nlp)
    add_rule_components(nlp, before="tok2vec")
    read_lead_only(nlp)
    return nlp


def load_pipeline(
    settings: ExtractionSettings | None = None, known_companies: Iterable[str] = ()
) -> Language:
    """Load the shipped pipeline (about a second); callers cache it. Configured aliases (and
    `known_companies`) are names the rules and the recogniser take as organisations."""
    settings = settings or ExtractionSettings()
    model_dir = settings.model_path()
    nlp = statistical_pipeline(model_dir)
    patterns = _ruler_patterns(known_companies, settings.aliases)
    if patterns:  # an empty ruler warns on every call
        config = {"phrase_matcher_attr": "ORTH"}
        ruler = nlp.add_pipe("entity_ruler", before="dealradar_triggers_v1", config=config)
        ruler.add_patterns(patterns)
    config = {"min_confidence": settings.min_confidence}
    assigner = nlp.add_pipe(ASSIGNER + "_v1", name=ASSIGNER, config=config)
    assigner.from_disk(model_dir / ASSIGNER)
    return nlp


_DEFAULT_NLP: Language | None = None


def default_pipeline() -> Language:
    global _DEFAULT_NLP
    if _DEFAULT_NLP is None:
        _DEFAULT_NLP = load_pipeline()
    return _DEFAULT_NLP


# Cheap work first: the components up to the deal triggers (sentences, lemmas, money, triggers) take ~15 % of
# an article's time; organisations, the recogniser and the assigner the rest. An article in which they find
# no deal trigger, no money figure and no word of the deal vocabulary (data/deal_words.tsv) tells no deal:
# the costly components never see it.
COSTLY_FROM = "dealradar_orgs_v1"
SKIP_CHUNK = 16  # docs held between the cheap and the costly components (memory: `dealradar extract-deals`)


def worth_extracting(doc: Doc) -> bool:
    """Whether the cheap components found anything a deal is told with: a trigger, a money figure or a
    deal word ("collaborazione", "firma", "cessione": `tables.deal_family`)."""
    if doc.spans.get("deal_trigger") or doc.spans.get(MONEY_KEY):
        return True
    return any(deal_family(token.text) for token in doc if token.is_alpha)


def extract_deals(
    docs: Iterable[tuple[str | None, str]], nlp: Language | None = None, batch_size: int = PIPE_BATCH
) -> list[list[DealEvent]]:
    """Deal events of each (title, text) pair, in order: one list per article (empty when none).

    Articles without a deal trigger, a money figure or a deal word skip the organisation rules, the
    recogniser and the assigner (`worth_extracting`): the same scores with and without the skip (README)."""
    nlp = nlp or default_pipeline()
    made = (make_doc(nlp, title, text) for title, text in docs)
    names = nlp.pipe_names
    cut = names.index(COSTLY_FROM) if COSTLY_FROM in names else len(names)
    found: list[list[DealEvent]] = []
    for chunk in minibatch(made, size=SKIP_CHUNK):  # a few docs held at once, whatever the input's size
        with nlp.select_pipes(enable=names[:cut]):
            parsed = list(nlp.pipe(chunk, batch_size=batch_size))
        todo = [doc for doc in parsed if worth_extracting(doc)]
        if todo and cut < len(names):
            with nlp.select_pipes(enable=names[cut:]):
                todo = list(nlp.pipe(todo, batch_size=batch_size))
        events = {id(doc): list(doc._.deal_events or []) for doc in todo}
        found.extend(events.get(id(doc), []) for doc in parsed)
    return found


def extract_rule_deals(
    docs: Iterable[tuple[str | None, str]], nlp: Language | None = None, batch_size: int = PIPE_BATCH
) -> list[list[DealEvent]]:
    """What the rule layer alone finds (background events included): its tests and the ablation read it."""
    nlp = nlp or default_pipeline()
    made = (make_doc(nlp, title, text) for title, text in docs)
    with nlp.select_pipes(disable=[ASSIGNER, LEAD_RECOGNISER]):
        parsed = list(nlp.pipe(made, batch_size=batch_size))
    return [[DealEvent(**e) for e in doc.user_data.get(RULE_EVENTS_KEY) or []] for doc in parsed]


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
