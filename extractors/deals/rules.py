"""The rule components: sentence breaks, the tokenizer's exceptions for names, headline clean-up and the rule
extractor (triggers -> organisations -> events: events.py, roles.py) whose findings feed the learned assigner.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from spacy.lang.char_classes import ALPHA_LOWER, ALPHA_UPPER, CONCAT_QUOTES
from spacy.language import Language
from spacy.tokens import Doc, Token
from spacy.util import compile_infix_regex, compile_suffix_regex

from . import lemmas, money, orgs, triggers  # noqa: F401  (registers the factories)
from .document import RULE_EVENTS_KEY, RULE_ORGS_KEY, TITLE_END_KEY
from .events import doc_events
from .orgs import clean_name

# spaCy splits "fine.Inizio" (a missing space after a full stop) at the stop. In a dotted abbreviation whose
# last letter is a capital ("S.p.A.", "S.a.p.A.", "S.r.L.") that rule cut the company's legal form in three
# ("S.p" "." "A."), and the sentencizer ended a sentence inside the company's name. Such a form now keeps
# its letters together and, like "S.r.l.", gives its final full stop a token of its own: the sentence
# breaks there only when a capitalised word follows ("Alfa S.p.A. acquisisce" stays one sentence).
_GLUED_SENTENCES = rf"(?<=[{ALPHA_LOWER}{CONCAT_QUOTES}])\.(?=[{ALPHA_UPPER}{CONCAT_QUOTES}])"
_GLUED_SENTENCES_OUTSIDE_ABBREVIATIONS = (
    rf"(?<=[{ALPHA_LOWER}{CONCAT_QUOTES}])(?<!\.[{ALPHA_LOWER}])\.(?=[{ALPHA_UPPER}{CONCAT_QUOTES}])"
)
_ABBREVIATION_STOP = rf"(?<=\.[{ALPHA_LOWER}]\.[{ALPHA_UPPER}])\."


def customise_tokenizer(nlp: Language) -> None:
    infixes = [_GLUED_SENTENCES_OUTSIDE_ABBREVIATIONS if x == _GLUED_SENTENCES else x
               for x in nlp.Defaults.infixes]  # fmt: skip
    # "Hp-Compaq", "Leonardo-Fincantieri": headline pairs of names split into two names
    infixes = [*infixes, r"(?<=[a-z0-9])-(?=[A-Z])"]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    # "la rete 5G. Nel pomeriggio...": a sentence's full stop after a code like 5G or 4K is its own token
    suffixes = [*nlp.Defaults.suffixes, r"(?<=[0-9][A-Za-z])\.", _ABBREVIATION_STOP]
    nlp.tokenizer.suffix_search = compile_suffix_regex(suffixes).search


def add_rule_components(nlp: Language, before: str | None = None) -> None:
    """Sentence breaks, lemmas, money, deal triggers, organisations and the rule events, in that order."""
    where = {"before": before} if before else {}
    for factory, name, config in (
        ("dealradar_breaks_v1", None, {}),
        ("sentencizer", None, {}),
        # spaCy's lookup lemmatizer, same lemmas, its 333,682-form table in ~4 MB instead of ~90 MB
        ("dealradar_lemmas_v1", "lemmatizer", {}),
        ("dealradar_lemma_case_v1", None, {}),
        ("dealradar_money_v1", None, {}),
        ("dealradar_triggers_v1", None, {}),
        ("dealradar_orgs_v1", None, {}),
        ("dealradar_rule_events_v1", None, {}),
    ):
        nlp.add_pipe(factory, name=name, config=config, **where)
    nlp.get_pipe("lemmatizer").initialize()


_WRAPPED_LINE = re.compile(r"(?<=[\w,;])\n(?=[\w(])")
_FINAL_PUNCT = frozenset({".", "!", "?", ":", '"', "”", "»"})


def _paragraph_break(space: Token, before: Token | None) -> bool:
    """A blank line, or a line break after a finished sentence; a wrapped line ("la\nCommissione") is not."""
    text = space.text
    if text.count("\n") >= 2 or "  " in text or "\n" not in text:
        return True
    return before is not None and before.text in _FINAL_PUNCT


def _after_abbreviation(tok: Token, prev: Token, before: Token | None) -> bool:
    """A lower-case word or a comma right after a full stop ("S.r.l., società di", "Inc. nata")."""
    if prev.text == "." and (tok.text in {",", ";", ")"} or tok.is_lower):
        return True
    return (
        tok.is_lower
        and prev.text in {",", ";", ")"}
        and before is not None
        and before.text.endswith(".")
        and "\n" not in prev.whitespace_ + before.whitespace_
    )


class Breaks:
    """Sentence starts the punctuation sentencizer cannot see: after the title and at paragraph breaks."""

    def __init__(self, nlp: Language, name: str):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        t_end = int(doc.user_data.get(TITLE_END_KEY, 0))
        tokens = list(doc)  # one Token object per word, not one per look at a neighbour
        for i in range(1, len(tokens)):
            tok, prev = tokens[i], tokens[i - 1]
            before = tokens[i - 2] if i >= 2 else None
            if (
                i == t_end
                or (prev.is_space and not tok.is_space and _paragraph_break(prev, before))
                or "\n" in prev.whitespace_
                and prev.text in _FINAL_PUNCT
            ):
                tok.is_sent_start = True
            elif _after_abbreviation(tok, prev, before):
                # "Neurotech Pharma Inc., nata a Siena": a full stop of an abbreviation ends no sentence
                tok.is_sent_start = False
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 32) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)


@Language.factory("dealradar_breaks_v1")
def make_breaks(nlp: Language, name: str) -> Breaks:
    return Breaks(nlp, name)


class RuleEvents:
    """The rule extractor's events (triggers + organisations + figures) and organisation names, kept in
    doc.user_data for the learned assigner, which weighs them against what the models see."""

    def __init__(self, nlp: Language, name: str):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        doc.user_data[RULE_EVENTS_KEY] = [e.to_dict() for e in doc_events(doc)]
        doc.user_data[RULE_ORGS_KEY] = sorted({clean_name(s) for s in doc.spans.get("org", [])})
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 32) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)


@Language.factory("dealradar_rule_events_v1")
def make_rule_events(nlp: Language, name: str) -> RuleEvents:
    return RuleEvents(nlp, name)
