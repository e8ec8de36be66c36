"""Organisation-name spans: known companies first, then capitalised runs that survive rejection rules.

A capitalised run is rejected when it is a place, an institution, a month or day, a person (first name +
surname, or a person cue in front), a news outlet named as a source, or a common Italian word that is
only capitalised because it opens a sentence or headline. Accepted spans go to doc.spans["org"] with label
"ORG_KNOWN" (known company or alias), "ORG_CUE" (a cue vouches for it) or "ORG".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from spacy.attrs import IS_ALPHA, IS_PUNCT, LOWER, ORTH
from spacy.lang.it.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from ..names import without_legal_form
from . import lexicon as lx
from .document import text_of

CONNECTORS = frozenset(
    {"di", "de", "del", "della", "dei", "degli", "delle", "&", "and", "of", "von", "van", "e"}
)
_DI_CONNECTORS = frozenset({"di", "del", "della", "dei", "delle", "degli"})
_OPENERS = frozenset({'"', "“", "«", "'", "(", ":", "-", "–", "—", "‘", "|"})
# Full prepositions only: the name rules were tuned without the elided forms ("dell'").
_PREPOSITIONS = frozenset(p for p in lx.PREPOSITIONS if not p.endswith("'"))
_CAPS_KEY = "dealradar.capitalised"  # doc.user_data: is_capitalised of every token
_RUNS_KEY = "dealradar.capitalised_runs"  # doc.user_data: (start, end) of every capitalised run


def is_capitalised(token: Token) -> bool:
    t = token.text
    if not t or not t[0].isalnum() or t.endswith("'"):
        return False
    if t[0].isupper():
        return any(c.isalpha() for c in t)
    # iPhone, eBay, 01net: lower first letter but a capital or digit mix marks a name
    return t[0].isalpha() and any(c.isupper() for c in t[1:])


def is_sentence_initial(token: Token) -> bool:
    """First word of a sentence, heading or quote: capitalisation there says nothing."""
    if token.is_sent_start:
        return True
    prev = token.nbor(-1)
    if prev.text == "-" and not prev.whitespace_ and prev.i > 0 and not prev.nbor(-1).whitespace_:
        return False  # "Poste Italiane-Microsoft": a hyphen glued to both words joins two names
    return prev.is_space or prev.text in _OPENERS or prev.text in {".", "!", "?"}


def capitalised_flags(doc: Doc) -> list[bool]:
    """`is_capitalised` of every token, read once per Doc (every name rule asks it of the same tokens)."""
    flags = doc.user_data.get(_CAPS_KEY)
    if flags is None:
        flags = doc.user_data[_CAPS_KEY] = [is_capitalised(t) for t in doc]
    return flags


def capitalised_runs(sent: Span) -> Iterator[tuple[int, int]]:
    """Maximal runs of capitalised tokens, joined by name connectors ("Cassa Depositi e Prestiti")."""
    doc = sent.doc
    caps = capitalised_flags(doc)
    i, end = sent.start, sent.end
    while i < end:
        if not caps[i]:
            i += 1
            continue
        j = i + 1
        while j < end:
            if caps[j]:
                j += 1
            elif (
                doc[j].lower_ in CONNECTORS and j + 1 < end and caps[j + 1] and doc[j].lower_ != "e"
            ) or _hyphenated_name(doc, i, j, end):
                j += 2
            elif (
                # "Banco di Desio e della Brianza": "e" + a "di" connector continues a name already joined
                # by "di"; "Tim e Vodafone" (no "di" before, no "di" after "e") stays two names
                doc[j].lower_ in {"e", "ed"}
                and j + 2 < end
                and doc[j + 1].lower_ in _DI_CONNECTORS
                and caps[j + 2]
                and any(doc[k].lower_ in _DI_CONNECTORS for k in range(i + 1, j))
            ) or (
                # "Banca Europea per gli Investimenti", "Agenzia per la Coesione": an institution's "per"
                doc[j].lower_ == "per"
                and j + 2 < end
                and doc[j + 1].lower_ in {"gli", "la", "il", "lo", "le", "i", "l'"}
                and caps[j + 2]
                and j - i >= 2
            ):
                j += 3
            else:
                break
        yield i, j
        i = j


def runs_of(doc: Doc) -> list[tuple[int, int]]:
    """The capitalised runs of every sentence, in order, found once per Doc."""
    runs = doc.user_data.get(_RUNS_KEY)
    if runs is None:
        runs = doc.user_data[_RUNS_KEY] = [run for sent in doc.sents for run in capitalised_runs(sent)]
    return runs


def _hyphenated_name(doc: Doc, i: int, j: int, end: int) -> bool:
    """ "Coca-Cola", "Rolls-Royce": one word glued by a hyphen to a single capitalised word is one name,
    unless either half stands alone elsewhere in the article ("Hp-Compaq ... Hp e Compaq": a pair)."""
    if j != i + 1 or j + 1 >= end or doc[j].text != "-" or doc[i].whitespace_ or doc[j].whitespace_:
        return False
    caps = capitalised_flags(doc)
    if not caps[j + 1] or j + 2 < end and caps[j + 2]:
        return False
    alone = doc.user_data.get("dealradar.standalone_caps")
    if alone is None:
        alone = {
            t.text
            for t in doc
            if caps[t.i]
            and not (t.i > 0 and doc[t.i - 1].text == "-" and not doc[t.i - 1].whitespace_)
            and not (t.i + 1 < len(doc) and doc[t.i + 1].text == "-" and not t.whitespace_)
        }
        if _TWO_PARTIES.search(text_of(doc)):
            alone.add("*")  # "Le due società hanno firmato": the hyphen joined two parties
        doc.user_data["dealradar.standalone_caps"] = alone
    return "*" not in alone and doc[i].text not in alone and doc[j + 1].text not in alone


_TWO_PARTIES = re.compile(
    r"\b(le due (società|aziende|imprese|compagnie|banche)|i due (gruppi|partner|colossi|big))\b", re.I
)


class OrgFinder:
    """Builds doc.spans["org"]; known names come from the entity ruler placed before it (doc.ents)."""

    def __init__(self, nlp: Language, name: str):
        self.name = name
        self.vocabulary = lx.italian_vocabulary()
        self.rejected = lx.places() | lx.institutions() | lx.common_caps()

    def __call__(self, doc: Doc) -> Doc:
        mid_caps = _mid_sentence_names(doc)
        known = [
            Span(doc, e.start, e.end, label="ORG_KNOWN", span_id=e.ent_id_ or e.text)
            for e in doc.ents
            # an alias that is also a word ("Intesa raggiunta sul contratto") needs more than a capital
            if len(e) > 1 or not self._is_common_word(e[0], mid_caps)
        ]
        taken = {i for s in known for i in range(s.start, s.end)}
        found = list(known)
        for start, end in runs_of(doc):
            if any(i in taken for i in range(start, end)):
                continue
            if _number_head(doc, start, end):
                found.append(Span(doc, start - 1, end, label="ORG_CUE"))
                continue
            span = self._judge(doc, start, end, mid_caps)
            if span is not None:
                found.append(span)
        doc.spans["org"] = sorted(found, key=lambda s: s.start)
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 32) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)

    def _judge(self, doc: Doc, start: int, end: int, mid_caps: set[str]) -> Span | None:
        if lx.fold(doc[start:end].text) in self.rejected:
            return None  # "Commissione Europea" as a whole, before trimming could leave "Europea"
        start, end = self._trim(doc, start, end, mid_caps)
        if start >= end:
            return None
        span = doc[start:end]
        folded = lx.fold(span.text)
        if folded in self.rejected or lx.fold(doc[start].text) in lx.institutions() and end - start <= 2:
            return None
        if end - start == 1 and (span.text.lower() in lx.GENERIC_HEADS or folded == "emittente"):
            return None  # a press release's "la Società", "il Gruppo": the issuer, named elsewhere
        if _ROUND_LABEL.match(folded) or end - start == 1 and _ADVERB.match(folded):
            return None  # "Serie B. A guidare...", "Contestualmente, la società..."
        if all(lx.fold(t.text) in lx.places() or t.lower_ in CONNECTORS for t in span):
            return None
        if end - start > 1 and span.text.isupper() and all(t.lower_ in self.vocabulary for t in span):
            return None  # an upper-case heading ("START UP", "ULTIME NOTIZIE")
        if self._is_person(doc, start, end) or self._is_source(doc, start, end) or _is_ticker(doc, start):
            return None
        cue = self._has_cue(doc, start, end)
        if end - start == 1 and not cue and self._is_common_word(doc[start], mid_caps):
            return None
        if end - start == 1 and (
            sum(c.isalpha() for c in doc[start].text) < 2
            or any(t.start == start for t in doc.spans.get("deal_trigger", []))  # "Fusione", "IPO"
        ):
            return None
        if (
            end - start == 1
            and doc[start].lower_ in STOP_WORDS
            and (is_sentence_initial(doc[start]) or len(doc[start]) <= 3)
            and not _noun_subject_of_deal(doc[start])
        ):
            # "Ma", "Se", "Ci": function words open sentences, they never name a company; spaCy's list also
            # holds nouns ("cima"): capitalised in mid-sentence ("il 100% di Cima") such a word is a name
            return None
        if end - start == 1 and lx.fold(doc[start].text) in lx.GENERIC_HEADS:
            return None
        return Span(doc, start, end, label="ORG_CUE" if cue else "ORG")

    def _namey(self, doc: Doc, start: int, end: int) -> bool:
        """Whether a token in the span can carry a name: not only legal forms, generic nouns or list words."""
        for t in doc[start:end]:
            f = lx.fold(t.text)
            if t.lower_ in CONNECTORS or f in lx.ORG_SUFFIXES or f in self.rejected or f in lx.GENERIC_HEADS:
                continue
            return True
        return False

    def _trim(self, doc: Doc, start: int, end: int, mid_caps: set[str]) -> tuple[int, int]:
        # Drop a leading market or institution ("su Euronext Growth Milan Lumina Optics": inverted subject).
        for k in range(end - 1, start + 1, -1):
            if lx.fold(doc[start:k].text) in lx.institutions() and self._namey(doc, k, end):
                start = k
                break
        # Drop leading headline/sentence-opening words ("Ieri Intesa Sanpaolo", "IPO Reddit"), but keep
        # "Mercurio Ventures": a common word followed only by a legal form or generic tail is the name.
        while end - start > 1:
            tok = doc[start]
            f = lx.fold(tok.text)
            generic = f in self.rejected or f in lx.PERSON_CUES
            # only function words and list words: "Faro Digitale", "Banca Idea" keep their common first word
            opener = is_sentence_initial(tok) and (
                (f in STOP_WORDS or f in lx.common_caps())
                and f not in lx.GENERIC_HEADS  # "Gruppo Quercia": spaCy lists "gruppo" as a stop word
                or _opening_verb(tok)  # "Nasce Banca Idea", "Debutta Gelso Tech"
            )
            if (
                not (generic or opener)
                or doc[start:end].text in mid_caps
                and (end - start == 1 or not generic)
            ):
                break
            if f not in STOP_WORDS and not self._namey(doc, start + 1, end):
                break
            if (
                not opener
                and f in lx.places()
                and end - start == 2
                and not _standalone_elsewhere(doc, doc[start + 1 : end].text, start)
            ):
                break  # "Asti Pay", never written as "Pay" alone, is one name
            start += 1
        if _headline_word_of(doc, start, end):
            start += 2  # "Colpo di Quercia Group: ...": the headline's word, then the name
        while end - start > 1 and doc[start].lower_ in CONNECTORS:
            start += 1
        # Drop a leading place ("Abu Dhabi Mubadala") when a name remains ("Ravenna Labs" stays).
        for k in range(end - 1, start, -1):
            if (
                lx.fold(doc[start:k].text) in lx.places()
                and self._namey(doc, k, end)
                and (end - k >= 2 or _standalone_elsewhere(doc, doc[k:end].text, start))
            ):
                start = k
                break
        # Drop a trailing place after a connector ("Bending Spoons di Milano").
        for k in range(end - 1, start, -1):
            if doc[k].lower_ in CONNECTORS and lx.fold(doc[k + 1 : end].text) in lx.places():
                end = k
                break
        # Drop trailing connectors and institution words ("Reddit Ipo"); keep "Portofino Cloud".
        while end - start > 1:
            f = lx.fold(doc[end - 1].text)
            tail = doc[end - 1].text
            short_caps = tail.isupper() and len(tail) <= 3  # "Scale AI", "Biscotto AI" keep their tail
            if doc[end - 1].lower_ in CONNECTORS or (
                f in lx.institutions() and f not in lx.ORG_SUFFIXES and not short_caps
            ):
                end -= 1
            else:
                break
        return start, end

    def _is_common_word(self, tok: Token, mid_caps: set[str]) -> bool:
        """A capitalised common Italian word at the start of a sentence, never seen as a name elsewhere."""
        f = lx.fold(tok.text)
        if f in lx.common_caps():
            return True
        if not is_sentence_initial(tok) or tok.text in mid_caps:
            return False
        if tok.text.isupper() and len(tok.text) > 1 or any(c.isupper() for c in tok.text[1:]):
            return False
        if f not in self.vocabulary:
            return False
        if f in STOP_WORDS:
            return not _noun_subject_of_deal(tok)
        if _bare_subject(tok) or _apposition_follows(tok):
            return False
        # "Girasole ha avviato...": a word written capitalised again and again, never in lower case, is a name
        counts = tok.doc.user_data.get("dealradar.case_counts")
        if counts is None:
            counts = _case_counts(tok.doc)
        capital, lower = counts.get(f, (0, 0))
        return not (capital >= 2 and lower == 0)

    def _is_person(self, doc: Doc, start: int, end: int) -> bool:
        first = lx.fold(doc[start].text)
        last = doc[end - 1].lower_
        if last in lx.ORG_SUFFIXES:
            return False
        if first in lx.first_names() and end - start >= 2:
            return True
        prev = [t.lower_ for t in doc[max(0, start - 2) : start]]
        if any(p in lx.PERSON_CUES for p in prev):
            return True
        # "Carly Fiorina, ceo di ..." : the apposition after the name names a person's role
        nxt = [t.lower_ for t in doc[end : end + 3]]
        return bool(nxt) and nxt[0] == "," and any(n in lx.PERSON_CUES for n in nxt[1:])

    def _is_source(self, doc: Doc, start: int, end: int) -> bool:
        if lx.fold(doc[start:end].text) not in lx.media_outlets():
            return False
        prev = [t.lower_ for t in doc[max(0, start - 3) : start]]
        return not prev or "(" in prev or any(p in lx.SOURCE_CUES for p in prev) or "–" in prev

    def _has_cue(self, doc: Doc, start: int, end: int) -> bool:
        if doc[end - 1].lower_.rstrip(".") in lx.ORG_SUFFIXES or doc[end - 1].text == "A.":
            return True
        sent_start = doc[start].sent.start
        prev = [t.lower_ for t in doc[max(sent_start, start - 2) : start]]
        return any(p in lx.ORG_CUES for p in prev)


_DETERMINERS = frozenset(
    [
        "il",
        "lo",
        "la",
        "l'",
        "i",
        "gli",
        "le",
        "un",
        "uno",
        "una",
        "un'",
        "questo",
        "questa",
        "questi",
        "queste",
        "quel",
        "quello",
        "quella",
        "quei",
        "quelle",
        "del",
        "della",
        "dello",
        "dei",
        "degli",
        "delle",
        "al",
        "alla",
        "allo",
        "ai",
        "agli",
        "nel",
        "nella",
        "nello",
        "nei",
        "negli",
        "sul",
        "sulla",
        "suo",
        "sua",
        "loro",
        "ogni",
    ]
)


def verb_like(tok: Token) -> bool:
    """A conjugated verb form by the lemma table ("conosce" -> "conoscere"); nouns keep their own lemma."""
    lemma = tok.lemma_
    if not (lemma != tok.lower_ and lemma.endswith(("are", "ere", "ire", "rre")) and tok.is_lower):
        return False
    # "questo contesto", "il passo": after a determiner the form is the noun, not the verb
    return tok.i == 0 or tok.nbor(-1).lower_ not in _DETERMINERS


_AUXILIARIES = frozenset(
    [
        "ha",
        "hanno",
        "è",
        "sono",
        "sarà",
        "saranno",
        "si",
        "sarebbe",
        "avrebbe",
        "potrebbe",
        "starebbe",
        "vuole",
        "punta",
        "sta",
        "stanno",
    ]
)


def _bare_subject(tok: Token) -> bool:
    """ "Faro acquisisce Scoglio": Italian common nouns take an article as subjects, so a bare capitalised
    word opening a sentence right before a verb is a name."""
    if tok.i + 1 >= len(tok.doc):
        return False
    nxt = tok.doc[tok.i + 1]
    triggers = tok.doc.spans.get("deal_trigger", [])
    if any(t.start == nxt.i for t in triggers) and (
        nxt.lemma_.endswith("re") or nxt.lower_.startswith("pass")
    ):
        return True  # "Scoglio passa nelle mani di ...": a deal phrase follows the subject
    # also for forms that could be verbs ("Molo" of "molare", "Cima" of "cimare"): two verbs in a row
    # do not open an Italian sentence, so "Molo raccoglie", "Cima ha rilevato" name a subject
    return nxt.lower_ in _AUXILIARIES or verb_like(nxt)


_FUNCTION_OPENERS = frozenset(
    [
        "quando",
        "mentre",
        "anche",
        "oltre",
        "dopo",
        "ancora",
        "sempre",
        "così",
        "come",
        "dove",
        "perché",
        "però",
        "quindi",
        "infatti",
        "inoltre",
        "tuttavia",
        "intanto",
        "ecco",
        "ieri",
        "oggi",
        "domani",
        "prima",
        "poi",
        "allora",
        "invece",
        "infine",
        "solo",
        "già",
        "questo",
        "questa",
        "quello",
        "quella",
    ]
)


_OPENING_VERBS = frozenset(
    ["nasce", "nascono", "arriva", "arrivano", "debutta", "debuttano", "sbarca", "approda", "esordisce",
     "torna", "tornano", "rinasce", "parte", "riparte", "ecco", "cresce", "crescono",
     # an interview's opening before a person's name: "Parla Giulia Ferraresi, managing partner di X"
     "parla", "parlano", "racconta", "spiega", "risponde", "interviene", "intervista"]
)  # fmt: skip


def _headline_word_of(doc: Doc, start: int, end: int) -> bool:
    """ "Colpo di Quercia Group", "Shopping di Olmo": a headline's common noun before "di" and a name."""
    if end - start < 3 or start >= int(doc.user_data.get("dealradar.title_end", 0)) or start != 0:
        return False
    first, link = doc[start], doc[start + 1]
    f = lx.fold(first.text)
    return (
        link.lower_ == "di"
        and f in lx.italian_vocabulary()
        and f not in lx.GENERIC_HEADS
        and f not in lx.ORG_CUES
        and f not in lx.institutions()
        and not any(c.isupper() for c in first.text[1:])
    )


def _opening_verb(tok: Token) -> bool:
    """A verb opening a headline before a name ("Nasce Banca Idea"); a list, since names look like verbs
    too ("Serra", "Vela", "Quadrante")."""
    return tok.lower_ in _OPENING_VERBS


def _noun_subject_of_deal(tok: Token) -> bool:
    """ "Cima rileva X", "Cima ha rilevato X": a noun spaCy lists as a stop word, opening a sentence right
    before a deal verb, is the buyer's name (function words like "Quando" never are)."""
    if len(tok) < 4 or tok.lower_ in _FUNCTION_OPENERS or tok.i + 1 >= len(tok.doc):
        return False
    triggers = {t.start for t in tok.doc.spans.get("deal_trigger", [])}
    nxt = tok.i + 1
    if tok.doc[nxt].lower_ in {"ha", "hanno", "si"}:
        nxt += 1
    # a verb: "Grande fusione nella logistica" opens with an adjective before a deal noun
    return nxt in triggers and (nxt > tok.i + 1 or verb_like(tok.doc[nxt]))


def _apposition_follows(tok: Token) -> bool:
    """ "Mirtillo, la startup dell'agrifood...": a comma and an organisation noun describe a name."""
    doc = tok.doc
    after = [t.lower_ for t in doc[tok.i + 1 : tok.i + 5]]
    if not after or after[0] != ",":
        return False
    articles = {"la", "il", "lo", "l'", "una", "un", "uno", "nota", "noto"}
    rest = [t for t in doc[tok.i + 2 : tok.i + 5] if t.lower_ not in articles]
    if not rest:
        return False
    # "Faro, IPO a Wall Street", "Faro, accordo con ...": the headline's topic is the deal's company
    starts_deal = any(t.start == rest[0].i for t in doc.spans.get("deal_trigger", []))
    return rest[0].lower_ in lx.ORG_CUES or starts_deal


def _number_head(doc: Doc, start: int, end: int) -> bool:
    """ "360 Capital", "21 Invest", "4 Ventures": a number right before a fund's suffix word is its name."""
    if start == 0 or end - start > 2 or lx.fold(doc[end - 1].text) not in lx.ORG_SUFFIXES | {"invest"}:
        return False
    num = doc[start - 1]
    if not num.text.isdigit() or num.whitespace_ != " ":
        return False
    if len(num.text) == 4 and num.text.startswith(("19", "20")):
        return False  # "dal 2020 Portolano Ventures": a year, not part of the name
    return not (start >= 2 and doc[start - 2].text in {",", "."})  # "1,5 Capital" is a figure


def _is_ticker(doc: Doc, start: int) -> bool:
    """ "con la sigla RDDT", "ticker ABC": a stock symbol stands for a company already named."""
    before = {t.lower_ for t in doc[max(0, start - 2) : start]}
    if before & {"sigla", "ticker", "simbolo"}:
        return True
    # "Gruppo Serravalle (EGM: SRV)", "(Nasdaq: ABCD)": a market code and a colon before the symbol
    return start >= 2 and doc[start - 1].text == ":" and doc[start - 2].text.isupper() and doc[start].is_upper


def _case_counts(doc: Doc) -> dict[str, tuple[int, int]]:
    """Per lower-cased word: (sentences where it is capitalised, lower-case uses)."""
    capital: dict[str, set[int]] = {}
    lower: dict[str, int] = {}
    t_end = int(doc.user_data.get("dealradar.title_end", 0))
    title = lx.fold(doc[:t_end].text) if t_end else ""
    strings = doc.vocab.strings
    rows = doc.to_array([IS_ALPHA, IS_PUNCT, ORTH, LOWER]).tolist()  # no Token object per word
    for sent in doc.sents:
        if sent.start >= t_end and lx.repeats_title(text_of(sent), title):
            continue  # the page repeating its headline is not a second use
        for i in range(sent.start, sent.end):
            alpha, _, orth, low = rows[i]
            if not alpha:
                continue
            word = strings[low]
            if strings[orth][0].isupper():
                # "Fondi, se passa...": a topic word before a comma says nothing about being a name
                if i + 1 < len(rows) and not rows[i + 1][1]:
                    capital.setdefault(word, set()).add(sent.start)
            else:
                lower[word] = lower.get(word, 0) + 1
    frozen = {k: (len(capital.get(k, ())), lower.get(k, 0)) for k in set(capital) | set(lower)}
    doc.user_data["dealradar.case_counts"] = frozen
    return frozen


_ROUND_LABEL = re.compile(r"^(serie|series) [a-f]\b")
_ADVERB = re.compile(r"^[a-z]{4,}mente$")


def _standalone_elsewhere(doc: Doc, name: str, here: int) -> bool:
    """ "Abu Dhabi Mubadala ... Mubadala": the name stands alone elsewhere, the place was only a label;
    "Asti Pay" never written as "Pay" is one name."""
    return any(start != here and text_of(doc[start:end]) == name for start, end in runs_of(doc))


def _mid_sentence_names(doc: Doc) -> set[str]:
    """Capitalised words seen away from a sentence start: there capitalisation marks a proper noun."""
    names: set[str] = set()
    # "il fondo Ancora Capital" mid-sentence vouches for "Ancora Capital" opening another sentence; a word
    # inside a longer name does not vouch for itself ("Volta Droni" says nothing of "Droni per le ispezioni")
    for start, end in runs_of(doc):
        if not is_sentence_initial(doc[start]):
            names.add(text_of(doc[start:end]))
            names.add(doc[start].text)
    return names


def clean_name(span: Span) -> str:
    """The name as written, without its legal form ("Abaco3 S.p.A." -> "Abaco3"; the forms: names.py)."""
    if span.label_ == "ORG_KNOWN" and span.id_:
        return span.id_
    return without_legal_form(span.text)


@Language.factory("dealradar_orgs_v1")
def make_org_finder(nlp: Language, name: str) -> OrgFinder:
    return OrgFinder(nlp, name)
