"""Deal triggers: lemma-based Matcher patterns, one label per deal type, into doc.spans["deal_trigger"].

A trigger only proposes a deal; events.py decides whether the sentence around it holds one (named parties,
no negation, not a statistic).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import numpy as np
from spacy.attrs import LEMMA, LOWER, ORTH
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from .lemmas import lemma_table


def _lemmas(*words: str) -> list[list[dict]]:
    return [[{"LEMMA": w}] for w in words]


def _lowers(*words: str) -> list[list[dict]]:
    return [[{"LOWER": w}] for w in words]


def _phrase(text: str) -> list[dict]:
    return [{"LOWER": w} for w in text.split()]


_PASSARE = r"^pass(a|ano|ò|ato|ata|ati|ate|erà|eranno|erebbe|erebbero|ando|are)$"

PATTERNS: dict[str, list[list[dict]]] = {
    "acquisition": [
        *_lemmas("acquisire", "acquistare", "rilevare", "comprare"),
        [{"LOWER": {"IN": ["offerta", "offerte", "scalata"]}}],
        # "X prende il 25% di Y"
        [{"LEMMA": "prendere"}, {"LOWER": {"IN": ["il", "l'", "un", "una"]}}, {"LIKE_NUM": True}],
        # participles the lookup table files under adjectives ("acquisita" -> "acquisito")
        [{"LOWER": {"REGEX": "^(acquisit|acquistat|rilevat|comprat)[oaie]$"}}],
        *_lowers("acquisizione", "acquisizioni", "opa", "ops", "takeover", "acquisto", "acquirente"),
        [
            {"LEMMA": {"IN": ["prendere", "conquistare", "assumere", "ottenere", "acquisire", "rilevare"]}},
            {"LOWER": {"IN": ["il", "l'"]}, "OP": "?"},
            {"LOWER": "controllo"},
        ],
        [
            {"LOWER": {"REGEX": "^(pres|conquistat|assunt|ottenut|acquisit|rilevat)[oaie]$"}},
            {"LOWER": {"IN": ["il", "l'"]}, "OP": "?"},
            {"LOWER": "controllo"},
        ],
        [
            {"LOWER": "offerta"},
            {"LOWER": "pubblica"},
            {"LOWER": "di"},
            {"LOWER": {"IN": ["acquisto", "scambio"]}},
        ],
        # "passa" is filed under the noun "passo": forms of "passare" are listed
        [{"LOWER": {"REGEX": _PASSARE}}, {"LOWER": "nelle"}, {"LOWER": "mani"}],
        [{"LOWER": {"REGEX": _PASSARE}}, {"LOWER": "sotto"}, {"LOWER": "il"}, {"LOWER": "controllo"}],
        [{"LEMMA": "mettere"}, {"LOWER": "le"}, {"LOWER": "mani"}, {"LOWER": {"IN": ["su", "sul", "sulla"]}}],
        # "X si aggiudica Y", "si è aggiudicata l'asta per Y"
        [{"LOWER": "si"}, {"LOWER": {"REGEX": "^aggiudic"}}],
        [{"LOWER": "si"}, {"LOWER": {"IN": ["è", "sono"]}}, {"LOWER": {"REGEX": "^aggiudicat"}}],
        # "Y entra nel gruppo X", "Y entra a far parte del gruppo X": X takes Y over
        [{"LEMMA": "entrare"}, {"LOWER": {"IN": ["nel", "in"]}}, {"LOWER": "gruppo"}],
        [{"LEMMA": "entrare"}, {"LOWER": "a"}, {"LOWER": "far"}, {"LOWER": "parte"}],
        # the seller's side: "X cede Y a Z", "la cessione di Y a Z"
        *_lemmas("cedere", "vendere"),
        [{"LOWER": {"REGEX": "^(cedut|vendut)[oaie]$"}}],
        *_lowers("cessione", "vendita"),
    ],
    "investment": [
        *_lemmas("investire"),
        [{"LOWER": {"REGEX": "^investit[oaie]$"}}],
        *_lowers("investimento", "quota", "partecipazione"),
        # "X scommette/punta 50 milioni su Y": a headline way to say it invests
        [{"LEMMA": {"IN": ["scommettere", "puntare"]}}, {"LIKE_NUM": True}],
        [{"LEMMA": "entrare"}, {"LOWER": {"IN": ["nel", "in"]}}, {"LOWER": "capitale"}],
        [{"LOWER": "ingresso"}],
        [{"LEMMA": "entrare"}, {"LOWER": "in"}],
        # "X sale al 30% di Y"
        [{"LEMMA": "salire"}, {"LOWER": {"IN": ["al", "all'"]}}],
    ],
    "funding_round": [
        *_lemmas("raccogliere", "incassare", "ottenere"),
        [{"LOWER": {"REGEX": "^raccolt[oaie]$"}, "LEMMA": {"NOT_IN": ["raccolta"]}}],
        *_lowers("round", "seed", "crowdfunding", "finanziamento", "tornata"),
        [{"LOWER": "serie"}, {"LOWER": {"IN": ["a", "b", "c", "d"]}}],
        [{"LOWER": "series"}, {"LOWER": {"IN": ["a", "b", "c", "d"]}}],
        [{"LOWER": "aumento"}, {"LOWER": "di"}, {"LOWER": "capitale"}],
        _phrase("venture debt"),
    ],
    "partnership": [
        *_lowers("accordo", "intesa", "partnership", "alleanza", "memorandum", "partner"),
        _phrase("joint venture"),
        [{"LOWER": "collaborazione"}, {"LOWER": "strategica"}],
        # supply and licensing contracts between companies: "un contratto di fornitura", a PPA
        [
            {"LOWER": {"IN": ["contratto", "contratti"]}},
            {"LOWER": "di"},
            {"LOWER": {"IN": ["fornitura", "licenza", "distribuzione", "servizio", "servizi"]}},
        ],
        [{"LOWER": {"IN": ["contratto", "contratti"]}}, {"LOWER": {"IN": ["quadro", "pluriennale"]}}],
        _phrase("power purchase agreement"),
        [{"LOWER": {"IN": ["ppa", "licensing"]}}],
        # "X si allea con Y"
        [{"LOWER": "si"}, {"LOWER": {"REGEX": "^alle(a|ano|erà|eranno|ato|ata|ati)$"}}],
    ],
    "merger": [
        *_lowers("fusione", "incorporazione", "merger", "nozze", "matrimonio"),
        # "l'integrazione di X nella Y" (the role rules want both names; "integrazione dei sistemi" is none)
        *_lowers("integrazione"),
        *_lemmas("incorporare"),
        [{"LOWER": "si"}, {"LEMMA": "fondere"}],
        [{"LOWER": {"IN": ["fondersi", "fondendosi"]}}],
        # a SPAC's "business combination" with its target
        _phrase("business combination"),
    ],
    # a deal named without its kind: only lends its figures to the article's deal (events.fill_from_lead)
    "generic": [
        *_lowers("operazione", "affare", "deal", "transazione", "assegno"),
        # "Il corrispettivo è fissato in 12,5 milioni", "Il prezzo pagato è di 28 milioni": the price
        *_lowers("corrispettivo", "controvalore", "esborso", "closing", "perfezionamento"),
        [
            {"LOWER": "prezzo"},
            {
                "LOWER": {
                    "IN": ["pagato", "complessivo", "concordato", "dell'operazione", "dell'acquisizione"]
                }
            },
        ],
        [{"LOWER": "prezzo"}, {"LOWER": "di"}, {"LOWER": {"IN": ["acquisto", "cessione", "vendita"]}}],
    ],
    "ipo": [
        *_lowers("ipo", "quotazione", "matricola", "quotarsi"),
        # longer than the acquisition trigger "offerta": an IPO, not a takeover bid
        _phrase("offerta pubblica iniziale"),
        # "si è quotata al Nasdaq" (a bare "quotata a Piazza Affari" only describes a listed company)
        [{"LOWER": "si"}, {"LOWER": {"IN": ["è", "sono"]}}, {"LOWER": {"REGEX": "^quotat[oaie]$"}}],
        [{"LOWER": "si"}, {"LOWER": {"REGEX": "^quot(a|ano|erà|eranno|erebbe|erebbero)$"}}],
        [{"LEMMA": {"IN": ["debutto", "debuttare", "sbarco", "sbarcare", "approdo", "approdare"]}}],
        [
            {"LOWER": {"IN": ["ammessa", "ammesse", "ammesso", "ammessi"]}},
            {"LOWER": "alle"},
            {"LOWER": "negoziazioni"},
        ],
        # "ha presentato a Borsa Italiana la domanda di ammissione alle negoziazioni"
        [{"LOWER": {"IN": ["domanda", "richiesta"]}}, {"LOWER": "di"}, {"LOWER": "ammissione"}],
    ],
}


_REMEMBERED_PAIRS = 20_000  # (lower case, lemma) pairs FirstTokenFilter remembers: about 4 MB
_OPTIONAL = frozenset({"?", "*", "!"})  # a first token that may be absent (or must not match)
_UNBOUNDED = frozenset({"*", "+"})


class FirstTokenFilter:
    """Whether a token can open any of the patterns: a superset test built from each pattern's first token
    (its LOWER or LEMMA as a value, an IN list or a REGEX; anything else, an optional first token or a
    repeated one, lets every token through).

    spaCy's Matcher tries every pattern's first token on every token (the triggers took 20 % of an article's
    extraction time); a trigger word is rare, so the matcher runs only on the few windows that open with
    one, and finds the same matches."""

    def __init__(self, patterns: Iterable[list[dict]]):
        self.words: dict[str, set[str]] = {"LOWER": set(), "LEMMA": set()}
        regexes: dict[str, list[str]] = {"LOWER": [], "LEMMA": []}
        self.any_token = False
        for pattern in patterns:
            first = pattern[0]
            if any(spec.get("OP") in _UNBOUNDED for spec in pattern) or first.get("OP") in _OPTIONAL:
                self.any_token = True  # a match longer than the pattern, or opened by its second token
                continue
            tests = [(attr, first[attr]) for attr in ("LOWER", "LEMMA") if attr in first]
            usable = [(a, v) for a, v in tests if isinstance(v, str) or set(v) & {"IN", "REGEX"}]
            if not usable:
                self.any_token = True
                continue
            attr, value = usable[0]  # one of the token's conditions suffices for a superset
            if isinstance(value, str):
                self.words[attr].add(value)
            elif "IN" in value:
                self.words[attr].update(value["IN"])
            else:
                regexes[attr].append(f"(?:{value['REGEX']})")
        self.regexes = {a: re.compile("|".join(r)) for a, r in regexes.items() if r}
        self._seen: dict[tuple[int, int], bool] = {}

    def can_open(self, lower: str, lemma: str) -> bool:
        if lower in self.words["LOWER"] or lemma in self.words["LEMMA"]:
            return True
        return any(regex.search(lower if attr == "LOWER" else lemma) for attr, regex in self.regexes.items())

    def openers(self, doc: Doc) -> list[int]:
        """The indices of the tokens that can open a pattern. Each (lower case, lemma) pair is judged once
        and remembered: words repeat, and reading them as hashes spares a Token object per word."""
        strings, seen = doc.vocab.strings, self._seen
        found = []
        for i, pair in enumerate(doc.to_array([LOWER, LEMMA]).tolist()):
            hit = seen.get(pair := tuple(pair))
            if hit is None:
                if len(seen) >= _REMEMBERED_PAIRS:  # a long-lived process reads an open vocabulary
                    seen.clear()
                hit = seen[pair] = self.can_open(strings[pair[0]], strings[pair[1]])
            if hit:
                found.append(i)
        return found


class TriggerFinder:
    """Sets doc.spans["deal_trigger"]: one span per trigger phrase, label = deal type."""

    def __init__(self, nlp: Language, name: str):
        self.name = name
        self.matcher = Matcher(nlp.vocab)
        for label, patterns in PATTERNS.items():
            self.matcher.add(label, patterns)
        everything = [p for patterns in PATTERNS.values() for p in patterns]
        self.opens = FirstTokenFilter(everything)
        self.longest = max(len(p) for p in everything)

    def windows(self, doc: Doc) -> list[Span]:
        """Stretches of `doc` that hold every possible match: from each token that can open a pattern,
        as many tokens as the longest pattern has (overlapping stretches joined)."""
        if self.opens.any_token:
            return [doc[:]]
        out: list[list[int]] = []
        for i in self.opens.openers(doc):
            end = min(len(doc), i + self.longest)
            if out and i <= out[-1][1]:
                out[-1][1] = end
            else:
                out.append([i, end])
        return [doc[start:end] for start, end in out]

    def __call__(self, doc: Doc) -> Doc:
        spans = [span for window in self.windows(doc) for span in self.matcher(window, as_spans=True)]
        doc.spans["deal_trigger"] = sorted(filter_spans(spans), key=lambda s: s.start)
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 32) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)


@Language.factory("dealradar_triggers_v1")
def make_trigger_finder(nlp: Language, name: str) -> TriggerFinder:
    return TriggerFinder(nlp, name)


class LemmaCase:
    """The lookup lemmatizer is case-sensitive: "Acquisisce" gets the lemma of "acquisisce"."""

    def __init__(self, nlp: Language, name: str):
        self.name = name
        self.nlp = nlp
        self._table = None

    def _lookup(self):
        if self._table is None:
            self._table = lemma_table()
        return self._table

    def __call__(self, doc: Doc) -> Doc:
        table = self._lookup()
        if not len(doc):
            return doc
        strings = doc.vocab.strings
        orths, lemmas = doc.to_array([ORTH, LEMMA]).T.copy()
        changed = False
        for i in np.flatnonzero(orths == lemmas).tolist():  # the words that are their own lemma
            text = strings[int(orths[i])]
            if text[:1].isupper():
                low = text.lower()
                lemmas[i] = strings.add(table.get(low, low))
                changed = True
        if changed:
            doc.from_array([LEMMA], lemmas.reshape(-1, 1))
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 32) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)


@Language.factory("dealradar_lemma_case_v1")
def make_lemma_case(nlp: Language, name: str) -> LemmaCase:
    return LemmaCase(nlp, name)
