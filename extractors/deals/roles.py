"""Sentence-level event candidates: for one trigger, who is buyer/investor and who is target.

Word order carries the roles in Italian news prose:
- active "X acquisisce Y": the subject (last organisation before the verb that is not inside a
  prepositional phrase) buys, the first organisation after the verb is bought;
- passive "Y è stata acquisita da X" and "Y passa nelle mani di X": roles swap;
- nominal "l'acquisizione di Y da parte di X", "l'opa su Y", "l'investimento di X in Y", "la quotazione
  di Y", "incorporazione di X in Y" (Y absorbs X);
- funding "Y raccoglie N da A, B", "round per Y guidato da X" (X leads);
- partnership "accordo tra X e Y", "X firma un accordo con Y", "X e Y siglano un'intesa".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span, Token

from . import lexicon as lx
from .document import text_of
from .orgs import clean_name, verb_like

_DA = frozenset({"da", "dal", "dalla", "dallo", "dall'", "dai", "dagli"})
_DI = frozenset({"di", "del", "della", "dello", "dell'", "dei", "degli", "delle", "d'"})
_IN = frozenset({"in", "nel", "nella", "nello", "nell'", "nei", "negli"})
_SU = frozenset({"su", "sul", "sulla", "sullo", "sull'", "sulle", "sui"})
_PER = frozenset({"per"})
_HOLDING_VERBS = frozenset({"detenere", "possedere", "controllare", "mantenere", "cedere", "vendere"})
_MARKET_WORDS = re.compile(
    r"\b(borsa|piazza affari|nasdaq|nyse|euronext|listino|mercato azionario|ipo|matricol|aim|egm|miv|"
    r"wall street|negoziazioni|collocamento|stock exchange)",
    re.I,
)
_PRICE_MOVE = re.compile(
    r"(rialzo|ribasso|calo|crescita|aumento|salita|discesa|crollo|balzo)\s+(della|delle)\s*$", re.I
)
_PRICE_AFTER = re.compile(
    r"\W*(\w+\W+){0,2}(in calo|in rialzo|in ribasso|scende|sale|crolla|balza|cede|guadagna|perde|tocca|"
    r"chiude a)\b",
    re.I,
)
_NEGATION = re.compile(
    r"\b(non|né|nessun[ao]?|smentit\w*|smentisc\w*|esclud\w*|esclus\w*|rinunci\w*|nega|negato|"
    r"fallit\w*|salta\w*|naufragat\w*|ritirat\w*)\b",
    re.I,
)


_CALLED_OFF = re.compile(
    r"\b(interrott[oaie]|saltat[oaie]|salta|naufragat[oaie]|naufraga|sfumat[oaie]|sfuma|fallit[oaie]|"
    r"annullat[oaie]|ritirat[oaie]|bocciat[oaie]|stop)\b",
    re.I,
)
_DENIAL = re.compile(
    r"\b(smentit\w*|smentisc\w*|smentiscono|ha negato|hanno negato|nega|negano|esclude|escludono)\b", re.I
)
# "Amazon, attraverso il suo fondo X, acquista": the vehicle is named, the subject is before it
_VEHICLE_WORDS = frozenset({"attraverso", "tramite", "mediante"})
# "le startup italiane hanno raccolto 1,2 miliardi": a plural, generic subject is a statistic
_GENERIC_PLURALS = frozenset(
    {"startup", "aziende", "imprese", "società", "scaleup", "pmi", "fintech", "realtà", "banche", "fondi"}
)

_PARTICIPLE = re.compile(r"^(acquisit|acquistat|rilevat|comprat)[oaie]$")


@dataclass
class Party:
    name: str
    start: int
    end: int
    label: str


@dataclass
class Candidate:
    deal_type: str
    trigger: Span
    sent: Span
    acquirer: Party | None = None
    target: Party | None = None
    others: list[Party] = field(default_factory=list)
    in_title: bool = False
    sent_index: int = 0  # 0 = title, 1 = first body sentence, ...


_ROLE_PREPS = frozenset(
    {
        "da",
        "dal",
        "dalla",
        "dallo",
        "dall'",
        "dai",
        "dagli",
        "con",
        "per",
        "a",
        "al",
        "alla",
        "ad",
        "tra",
        "fra",
    }
)
_CONJ_STOP = frozenset(
    {"che", "per", "con", "da", "in", "nel", "nella", "a", "al", "alla", "ma", "mentre", "dopo"}
)


class SentenceView:
    """Organisations of one sentence with positional look-ups."""

    def __init__(self, sent: Span, orgs: list[Span]):
        self.sent = sent
        self.doc: Doc = sent.doc
        self.orgs = [o for o in orgs if o.start >= sent.start and o.end <= sent.end]

    def party(self, span: Span) -> Party:
        return Party(clean_name(span), span.start, span.end, span.label_)

    def org_at(self, pos: int, max_gap: int = 4, stop: int | None = None) -> Span | None:
        """First organisation starting within max_gap tokens from pos, not crossing a clause or a verb."""
        limit = min(pos + max_gap, stop if stop is not None else self.sent.end)
        for org in self.orgs:
            if pos <= org.start <= limit:
                between = self.doc[pos : org.start]
                if any(
                    t.text in {";", ".", ":", "?", "!"} or verb_like(t) and t.lower_ not in lx.ORG_CUES
                    for t in between
                ):
                    return None  # "dal fondo X": "fondo" is the cue noun, not a form of "fondare"
                return org
            if org.start > limit:
                break
        return None

    def org_after_word(
        self, words: frozenset[str], start: int, end: int | None = None, gap: int = 4
    ) -> Span | None:
        # the organisation this preposition introduces, not one another preposition introduces
        # ("un finanziamento di 5 milioni da X": X is not "di")
        end = self.sent.end if end is None else end
        for tok in self.doc[start:end]:
            if tok.lower_ in words:
                org = self.org_at(tok.i + 1, gap)
                if org is not None and not any(
                    t.lower_ in _ROLE_PREPS for t in self.doc[tok.i + 1 : org.start]
                ):
                    return org
        return None

    def subject_before(self, pos: int, exclude: Span | None = None) -> Span | None:
        """Last organisation before pos that heads a clause, not one inside "di X" / "da X" / "in X"."""
        fallback = None
        for org in reversed([o for o in self.orgs if o.end <= pos]):
            if exclude is not None and org.start == exclude.start:
                continue
            if self._in_relative_clause(org, pos):
                continue  # "Il gruppo X, che controlla anche la catena Y, ha rilevato Z": X buys, not Y
            prev_tok = self.doc[org.start - 1] if org.start > self.sent.start else None
            if prev_tok is not None and prev_tok.text == "(" and any(o.end == prev_tok.i for o in self.orgs):
                continue  # "Banca Europea per gli Investimenti (BEI)": the short form of the name before
            if prev_tok is not None and verb_like(prev_tok) and not _names_its_subject(prev_tok):
                continue  # the object of another verb ("è stato eletto X"); "ribattezzato X" names one
            fallback = fallback or org
            prev = self._word_before(org)
            if prev not in lx.PREPOSITIONS and prev not in _VEHICLE_WORDS:
                return self.head_of_conjunction(org)
        return fallback

    def _in_relative_clause(self, org: Span, pos: int) -> bool:
        """Whether org sits in a ", che/cui ... ," clause that closes before pos."""
        doc = self.doc
        opened = False
        for k in range(org.start - 1, self.sent.start, -1):
            if doc[k].text == ",":
                break
            if doc[k].lower_ in {"che", "cui", "quale"} and doc[k - 1].text == ",":
                opened = True
                break
        return opened and any(t.text == "," for t in doc[org.end : pos])

    def conjuncts(self, org: Span) -> list[Span]:
        """Organisations listed with org: "Tencent e Square", "Tim, Lgt e Square" (org first)."""
        out = [org]
        for nxt in self.orgs:
            cur = out[-1]
            if nxt.start < cur.end:
                continue
            if self._joined(cur, nxt):
                out.append(nxt)
            elif nxt.start >= cur.end:
                break
        return out

    def head_of_conjunction(self, org: Span) -> Span:
        """The first of a list ending with org ("Tencent e Square possono" -> Tencent); lists end "e X"."""
        before = [o for o in self.orgs if o.end <= org.start]
        if not before or not self._joined(before[-1], org):
            return org
        between = self.doc[before[-1].end : org.start]
        if not any(t.lower_ in {"e", "ed"} for t in between) and between.text != "-":
            return org
        head = org
        for prev in reversed(before):
            if self._joined(prev, head):
                head = prev
            else:
                break
        return head

    def _joined(self, a: Span, b: Span) -> bool:
        between = self.doc[a.end : b.start]
        if between.text == "-" and not self.doc[a.end - 1].whitespace_ and not between[0].whitespace_:
            # a headline pair glued by a hyphen: "Poste Italiane-Microsoft, siglata l'alleanza"; in the body
            # the hyphen joins two forms of one name ("Mfe-MediaForEurope")
            return b.start < int(self.doc.user_data.get("dealradar.title_end", 0))
        if not 0 < len(between) <= 4 or not any(t.lower_ in {"e", "ed", ","} for t in between):
            return False
        return not any(
            t.lower_ in _CONJ_STOP or verb_like(t) or t.text in {".", ";", ":", "("} for t in between
        )

    def _word_before(self, org: Span) -> str:
        """The word before an organisation, skipping an article and a cue noun ("dalla startup X")."""
        i = org.start - 1
        skipped = 0
        while i >= self.sent.start and skipped < 3:
            w = self.doc[i].lower_
            if w in lx.PREPOSITIONS or w in _VEHICLE_WORDS or w in {",", "(", "e"} or w in _CLAUSE_OPENERS:
                return w  # "di Google mentre Meta investe": a new clause, Meta is its subject
            if self.doc[i].is_alpha or w.endswith("'"):
                skipped += 1
                i -= 1
                continue
            return w
        return ""


def _names_its_subject(verb: Token) -> bool:
    """ "ribattezzato X e ha raccolto", "c'è X, la startup che...": X is who the sentence is about."""
    if verb.lemma_ in _NAMING_VERBS:
        return True
    return verb.lower_ == "è" and verb.i > 0 and verb.nbor(-1).lower_ in {"c'", "ci"}


_GROUP_WORDS = frozenset(["gruppo", "famiglia", "galassia", "perimetro", "portafoglio", "universo"])
_NAMING_VERBS = frozenset(["ribattezzare", "battezzare", "chiamare", "denominare", "rinominare"])
_CLAUSE_OPENERS = frozenset(
    [
        "mentre",
        "che",
        "ma",
        "però",
        "perché",
        "quando",
        "dove",
        "poiché",
        "anche",
        "intanto",
        "invece",
        "così",
    ]
)


def _is_passive(doc: Doc, trig: Span, view: SentenceView) -> bool:
    head = doc[trig.start]
    participle = re.search(r"(at|it|ut)[oaie]$", head.lower_) is not None
    if not participle:
        return False
    before = [t.lemma_ for t in doc[max(view.sent.start, trig.start - 3) : trig.start]]
    if any(lem in {"essere", "venire"} for lem in before):
        return True
    if "avere" in before[-2:]:
        return False  # "ha rilevato Cardo dal gruppo Ortica": active, "da" names the seller
    return any(t.lower_ in _DA for t in doc[trig.end : min(view.sent.end, trig.end + 2)])


def _first_distinct(*orgs: Span | None, avoid: Span | None = None) -> Span | None:
    for org in orgs:
        if org is not None and (avoid is None or org.start != avoid.start):
            return org
    return None


def roles_for(trig: Span, view: SentenceView) -> tuple[str, Span | None, Span | None, list[Span]] | None:
    """(deal_type, acquirer, target, other parties) for one trigger, or None when the sentence has no deal."""
    kind = trig.label_
    if kind == "generic":
        return None
    doc = view.doc
    word = trig.text.lower()
    lemma = doc[trig.start].lemma_
    if _negated(trig, view):
        return None
    if _is_statistic(trig, view):
        return None
    handler = _HANDLERS[kind]
    return handler(trig, view, word, lemma)


def _negated(trig: Span, view: SentenceView) -> bool:
    start = max(view.sent.start, trig.start - 6)
    # "X, che non è quotata, ha acquisito Y", "Non solo software: X ha acquisito Y": a negation in another
    # clause does not deny the deal
    for tok in view.doc[start : trig.start]:
        if tok.text in {",", ";", ":", "(", ")", "–", "—"}:
            start = tok.i + 1
    window = view.doc[start : trig.start].text
    if _NEGATION.search(window) is not None:
        return True
    # "Le trattative per una fusione si sono interrotte", "l'accordo è saltato": a deal called off
    after = view.doc[trig.end : min(view.sent.end, trig.end + 12)].text
    if _CALLED_OFF.search(after) is not None:
        return True
    # "X ha smentito le indiscrezioni secondo cui ... lancerebbe un'offerta": a denied deal, however far
    return _DENIAL.search(view.doc[view.sent.start : trig.start].text) is not None


def _is_statistic(trig: Span, view: SentenceView) -> bool:
    """ "26 IPO nel 2022", "otto debutti", "numerose acquisizioni": a count, not a deal; "il round più
    grande del trimestre": a ranking, not a deal."""
    doc = view.doc
    after = [t.lower_ for t in doc[trig.end : min(view.sent.end, trig.end + 8)]]
    if after[:1] in (["più"], ["maggiore"]) and ("quello" in after or "quella" in after):
        return True  # "Il round più grande è stato quello di X": a ranking of the period's deals
    i = trig.start - 1
    while i >= view.sent.start and doc[i].lower_ in {"nuove", "nuovi", "grandi", "piccole", "principali"}:
        i -= 1
    if i < view.sent.start:
        return False
    prev = doc[i]
    return prev.like_num or prev.lower_ in {
        "numerose",
        "numerosi",
        "molte",
        "molti",
        "tante",
        "tanti",
        "poche",
        "pochi",
        "diverse",
        "diversi",
        "varie",
        "vari",
        "alcune",
        "alcuni",
    }


_TO = frozenset({"a", "ad", "al", "alla", "allo", "all'", "ai", "agli"})
_SELL = re.compile(r"^(ced|vend|cession)")
_UNIT_WORDS = frozenset(
    [
        "ramo",
        "quota",
        "quote",
        "partecipazione",
        "divisione",
        "attività",
        "asset",
        "business",
        "controllo",
        "talenti",
        "brevetti",
        "tecnologia",
        "tecnologie",
        "marchio",
        "marchi",
        "portafoglio",
        "azioni",
        "team",
    ]
)


def _bought_from(doc: Doc, start: int, end: int) -> bool:
    """ "acquista X da Y" with X not a business, stake or assets: a purchase from a supplier."""
    gap = doc[start:end]
    return any(t.lower_ in _DA for t in gap) and not any(t.lower_ in _UNIT_WORDS for t in gap)


def _sale(trig, view: SentenceView, word, lemma):
    """ "X cede Y a Z", "X vende il 30% di Y a Z", "Y ceduta a Z", "la cessione di Y a Z": Z buys Y."""
    doc = view.doc
    nominal = word.startswith(("cession", "vendit"))
    before = {t.lemma_ for t in doc[max(view.sent.start, trig.start - 3) : trig.start]}
    passive = re.match(r"^(cedut|vendut)[oaie]$", word) is not None and bool(before & {"essere", "venire"})
    if passive:
        return (
            "acquisition",
            view.org_after_word(_TO, trig.end, trig.end + 4),
            view.subject_before(trig.start),
            [],
        )
    target = view.org_after_word(_DI, trig.end, trig.end + 6) if nominal else view.org_at(trig.end, 8)
    first_buyer = view.org_after_word(_TO, trig.end, trig.end + 10)
    if target is not None and first_buyer is not None and target.start == first_buyer.start:
        target = None  # "cede la divisione cloud a Z": the first name is the buyer's
    if target is None:
        target = view.org_after_word(_DI, trig.end, trig.end + 8)
    start = target.end if target is not None else trig.end
    buyer = view.org_after_word(_TO, start, start + 8)
    if buyer is None:
        return None
    if target is None:
        target = _stake_after_buyer(view, buyer)
    if target is None:
        # "X cede il ramo d'azienda a Z": a unit of the seller changes hands
        if nominal or not any(t.lower_ in _UNIT_WORDS for t in doc[trig.end : buyer.start]):
            return None
        target = view.subject_before(trig.start, exclude=buyer)
    if target is None or target.start == buyer.start:
        return None
    seller = view.subject_before(trig.start, exclude=target)
    sellers = [seller] if seller is not None and seller.start not in {buyer.start, target.start} else []
    return "acquisition", buyer, target, sellers


def _grants(view: SentenceView, trig: Span) -> bool:
    """A granting verb before the agreement: "ha concesso a Y i diritti ... con un accordo di licenza"."""
    granting = ("conced", "conces", "assegn")
    return any(t.lower_.startswith(granting) for t in view.doc[view.sent.start : trig.start])


def _not_a_backer(org: Span | None) -> Span | None:
    """ "ha ottenuto dalla Banca Europea X un finanziamento": who gives the money is not who raises it."""
    return None if org is not None and _word_is(org.doc, org, _DA) else org


def _opens_with_verb(sent: Span) -> bool:
    """ "Chiude infine un round...": a sentence opening with a conjugated verb (lemma table, any case)."""
    first = sent.doc[sent.start]
    lemma = first.lemma_.lower()
    return lemma != first.lower_ and lemma.endswith(("are", "ere", "ire", "rre"))


def _stake_after_buyer(view: SentenceView, buyer: Span) -> Span | None:
    """ "X cede a Z, fondo gestito da W, il 60 per cento della sua società delle torri, Y": the company
    whose stake is sold follows the buyer (and a stake), not inside a "da W" phrase."""
    doc = view.doc
    stake = False
    for tok in doc[buyer.end : min(view.sent.end, buyer.end + 24)]:
        stake = stake or tok.text == "%" or tok.lower_ in {"cento", "maggioranza", "controllo"}
        stake = stake or tok.lower_ in _UNIT_WORDS
        org = next((o for o in view.orgs if o.start == tok.i), None)
        if org is not None and stake and not _word_is(doc, org, _DA):
            return org
    return None


def _acquisition(trig, view: SentenceView, word, lemma):
    doc = view.doc
    if _SELL.match(word) or lemma in {"cedere", "vendere"}:
        return _sale(trig, view, word, lemma)
    if lemma == "entrare":  # "Y entra nel gruppo X" / "entra a far parte del gruppo X"
        owner = view.org_at(trig.end, 4)
        # "entra a far parte del gruppo/della famiglia X", not "dell'indice Ftse Mib"
        if (
            owner is not None
            and "gruppo" not in trig.text.lower()
            and not any(t.lower_ in _GROUP_WORDS for t in view.doc[trig.end : owner.start])
        ):
            owner = None
        joined = view.subject_before(trig.start, exclude=owner)
        return ("acquisition", owner, joined, []) if owner is not None and joined is not None else None
    offer = _offer_roles(trig, view) if word.startswith(("offert", "opa", "ops")) else None
    if offer is not None:
        return offer
    if word.startswith("si ") and "aggiudic" in word:  # "X si aggiudica Y", "si è aggiudicata l'asta per Y"
        target = view.org_at(trig.end, 6)
        if target is None:
            return None
        return "acquisition", view.subject_before(trig.start, exclude=target), target, []
    if word.startswith("offert") or word == "scalata":
        target = view.org_after_word(_PER | _SU | _DI, trig.end, trig.end + 8)
        if target is None:
            return None
        return "acquisition", view.subject_before(trig.start, exclude=target), target, []
    verbal = (
        lemma in {"acquisire", "acquistare", "rilevare", "comprare"} or _PARTICIPLE.match(word) is not None
    )
    if verbal or word.startswith(("prend", "pass", "mett", "mis")) or word.endswith("controllo"):
        # "X prende/conquista il controllo di Y" ("Y passa sotto il controllo di X" is below)
        if word.endswith("controllo") and not word.startswith("pass"):
            target = view.org_after_word(_DI, trig.end, trig.end + 2)
            return "acquisition", view.subject_before(trig.start, exclude=target), target, []
        if word.startswith(("prend", "pres")) and not word.endswith("controllo"):  # "X prende il 25% di Y"
            target = view.org_after_word(_DI | _IN, trig.end, trig.end + 4)
            return "acquisition", view.subject_before(trig.start, exclude=target), target, []
        if word.startswith(("mett", "mis")):  # "X mette le mani su Y"
            target = view.org_at(trig.end, 3)
            return "acquisition", view.subject_before(trig.start, exclude=target), target, []
        if word.startswith("pass"):  # "Y passa nelle mani di X"
            return (
                "acquisition",
                view.org_after_word(_DI, trig.end, gap=3),
                view.subject_before(trig.start),
                [],
            )
        if _is_passive(doc, trig, view):
            acquirer = view.org_after_word(_DA, trig.end, trig.end + 6)
            target = view.subject_before(trig.start)
            return "acquisition", acquirer, target, []
        target = view.org_at(trig.end, 8)
        if target is not None and _bought_from(doc, trig.end, target.start):
            return None  # "acquista energia da Y": goods bought from a supplier, not a company
        acquirer = view.subject_before(trig.start, exclude=target)
        return "acquisition", acquirer, target, []
    # nominal: acquisizione / acquisto / opa / takeover / offerta pubblica di acquisto
    target = _first_distinct(
        view.org_after_word(_DI | _SU, trig.end, trig.end + 2, gap=4),
        view.org_at(trig.end, 1) if word in {"opa", "ops", "takeover"} else None,
    )
    if target is None:
        return None
    agent = None
    for tok in doc[trig.end : view.sent.end]:
        if tok.lower_ == "parte" and tok.i > 0 and doc[tok.i - 1].lower_ == "da":
            agent = view.org_after_word(_DI, tok.i + 1, tok.i + 2, gap=4)
            break
    acquirer = agent or view.subject_before(trig.start, exclude=target)
    if word == "acquisto" and agent is None and acquirer is None:
        return None
    return "acquisition", acquirer, target, []


_OFFER_AGENT = frozenset({"promossa", "promosso", "lanciata", "lanciato", "presentata", "annunciata"})


def _offer_roles(trig: Span, view: SentenceView):
    """ "l'Opa di X su Y", "l'offerta pubblica promossa da X sulle azioni di Y": X bids, Y is the target."""
    target = view.org_after_word(_SU, trig.end, trig.end + 16)
    if target is None:
        return None
    bidder = view.org_after_word(_DI, trig.end, min(trig.end + 2, target.start), gap=4)
    if bidder is None:
        for tok in view.doc[trig.end : target.start]:
            if tok.lower_ in _OFFER_AGENT:
                bidder = view.org_after_word(_DA, tok.i + 1, tok.i + 2, gap=4)
                break
    if bidder is None or bidder.start == target.start:
        return None
    return "acquisition", bidder, target, []


def _investment(trig, view: SentenceView, word, lemma):
    doc = view.doc
    if lemma == "salire" or word.startswith(("sale ", "salgono ", "salito ", "salita ", "salire ")):
        if not _has_stake_words(view):
            return None
        target = view.org_after_word(_DI | _IN, trig.end, trig.end + 6)
        acquirer = view.subject_before(trig.start, exclude=target)
        return ("investment", acquirer, target, []) if target is not None and acquirer is not None else None
    if word in {"quota", "partecipazione"}:
        if not _has_stake_words(view):
            return None
        before = {t.lemma_ for t in doc[max(view.sent.start, trig.start - 5) : trig.start]}
        if before & _HOLDING_VERBS:
            return None
        target = view.org_after_word(_DI | _IN, trig.end, trig.end + 10)
        acquirer = view.subject_before(trig.start, exclude=target)
        return ("investment", acquirer, target, []) if target is not None else None
    if word == "ingresso" or lemma == "entrare":
        return _entry(trig, view, word)
    if lemma in {"scommettere", "puntare"}:
        target = view.org_after_word(_SU, trig.end, trig.end + 8)
        acquirer = view.subject_before(trig.start, exclude=target)
        return (
            ("investment", acquirer, target, [])
            if target is not None and _amount_follows(view, trig)
            else None
        )
    # investire / investimento
    acquirer = None
    if word.startswith("investiment"):
        acquirer = view.org_after_word(_DI | _DA, trig.end, trig.end + 2, gap=3)
    acquirer = acquirer or view.subject_before(trig.start)
    start = acquirer.end if acquirer is not None and acquirer.start > trig.start else trig.end
    target = view.org_after_word(_IN, start, start + 25) or _stake_owner(view, start, start + 16)
    if target is None and word.startswith("invest"):
        # "X investirà 4 miliardi in Italia": a country is the target of an investment programme
        target = _country_after(view, start, start + 12)
    if target is None:
        # "X ha investito 10 milioni nella startup": the company named before; the caller resolves it
        return ("investment", acquirer, None, []) if acquirer is not None and word != "investimento" else None
    if acquirer is None:
        return "investment", None, target, []
    return _investors("investment", acquirer, target, view)


def _stake_owner(view: SentenceView, start: int, end: int) -> Span | None:
    """ "investe 15 miliardi per il 49% di X", "per una quota del 10 per cento in X": X, whose stake it is."""
    doc = view.doc
    for tok in doc[start : min(end, view.sent.end)]:
        if tok.text == "%" or tok.lower_ == "cento" and tok.i > 0 and doc[tok.i - 1].lower_ == "per":
            return view.org_after_word(_DI | _IN, tok.i + 1, tok.i + 3)
    return None


def _entry(trig, view: SentenceView, word: str):
    """ "l'ingresso di X in Y", "l'ingresso in Y di X", "X entra nel capitale di Y", "X e Z entrano in Y"."""
    if word == "ingresso":
        target = _first_distinct(
            view.org_after_word(frozenset({"capitale"}), trig.end, trig.end + 4, gap=2),
            view.org_after_word(_IN, trig.end, trig.end + 2),
        )
        acquirer = view.org_after_word(_DI, trig.end, trig.end + 10)
        if acquirer is not None and target is not None and acquirer.start == target.start:
            acquirer = None
        if target is None and acquirer is not None:
            target = view.org_after_word(_IN, acquirer.end, acquirer.end + 10)
    else:
        acquirer = view.subject_before(trig.start)
        target = _first_distinct(
            view.org_after_word(frozenset({"capitale"}), trig.end - 1, trig.end + 4, gap=2),
            view.org_at(trig.end, 3),
            avoid=acquirer,
        )
    if target is None or acquirer is None:
        return None
    return _investors("investment", acquirer, target, view)


def _investors(kind: str, acquirer: Span, target: Span, view: SentenceView):
    """Several investors named together put money into one round: a funding round, no single lead."""
    group = [o for o in view.conjuncts(acquirer) if o.start != target.start]
    if len(group) >= 2:
        return "funding_round", None, target, group
    return kind, acquirer, target, []


def _country_after(view: SentenceView, start: int, end: int) -> Span | None:
    doc = view.doc
    for tok in doc[start : min(end, view.sent.end)]:
        if tok.lower_ in _IN and tok.i + 1 < view.sent.end:
            for width in (3, 2, 1):
                span = doc[tok.i + 1 : min(tok.i + 1 + width, view.sent.end)]
                if span.text[:1].isupper() and lx.fold(span.text) in lx.places():
                    return Span(doc, span.start, span.end, label="PLACE")
    return None


def _has_stake_words(view: SentenceView) -> bool:
    text = text_of(view.sent).lower()
    return "%" in text or "per cento" in text or "minoranza" in text or "maggioranza" in text


def _funding(trig, view: SentenceView, word, lemma):
    doc = view.doc
    target = None
    if lemma in {"incassare", "ottenere"} and not _amount_follows(view, trig):
        return None  # "ottiene un premio", "incassa ricavi": only money obtained is a round
    if lemma in {"raccogliere", "incassare", "ottenere"} or word.startswith("raccolt"):
        if _generic_plural_subject(trig, view):
            return None
        target = view.subject_before(trig.start)
        if target is None:  # "Ha raccolto 2 milioni la startup X": the subject follows, investors follow "da"
            target = view.org_at(trig.end, 14)
            if target is not None and _word_is(doc, target, _DA | _DI):
                target = None
    elif word in _LOANS and (loan := _loan(trig, view)) is not None:
        return loan
    elif trig.start > view.sent.start and doc[trig.start - 1].lower_ in _PLURAL_DETERMINERS:
        return None  # "mancano i round di crescita", "pochi round sopra i 20 milioni": rounds in general
    else:
        target = _first_distinct(
            view.org_after_word(_PER | _DI, trig.end, trig.end + 8),
            view.org_after_word(frozenset({"favore"}), trig.end, trig.end + 8, gap=2),
            # "il round da 7 milioni con cui X finanzia ...": X raises it
            view.org_after_word(frozenset({"cui"}), trig.end, trig.end + 8, gap=1),
            _not_a_backer(view.subject_before(trig.start)),
        )
    if target is None and trig.start > view.sent.start and _opens_with_verb(view.sent):
        # "Chiude infine un round da € 700mila la torinese X": the subject follows the round
        after = view.org_at(trig.end, 12)
        target = after if after is not None and not _word_is(doc, after, _DA | _DI) else None
    lead = _lead_investor(view)
    if target is not None and lead is not None and target.start == lead.start:
        target = None  # "A guidare il round è X": X leads, the company raising is named elsewhere
    if target is None:  # "la startup ha raccolto ...": the article's company, resolved by the caller
        return "funding_round", lead, None, []
    others = [o for o in view.orgs if o.start != target.start and (lead is None or o.start != lead.start)]
    others = [o for o in others if o.start > trig.start or _word_is(doc, o, _DA)]
    backers = [o for o in others if _word_is(doc, o, _DA) and o.start > trig.start]
    if lead is None and len(backers) == 1 and len(view.conjuncts(backers[0])) == 1 and _is_loan(view):
        # "ha ottenuto un finanziamento da 5 milioni da Banca Lariana": the lender is the financer (an
        # equity round's sole investor is not named its lead, so it stays a party)
        lead = backers[0]
        others = [o for o in others if o.start != lead.start]
    return "funding_round", lead, target, others


_LOANS = frozenset({"finanziamento", "prestito", "finanziamenti"})
_GRANTEE = frozenset({"a", "ad", "al", "alla", "all'", "allo", "ai", "alle", "agli"})
_PLURAL_DETERMINERS = frozenset(
    ["i", "dei", "ai", "nei", "sui", "coi", "pochi", "tanti", "molti", "troppi", "alcuni", "diversi", "vari",
     "altri", "questi", "quei", "tali", "più", "meno"]
)  # fmt: skip
_DATIVE = frozenset({"a", "ad"})


def _loan(trig: Span, view: SentenceView):
    """A loan names its borrower with "a favore di X" or the dative "a X", its lender as the subject
    ("Intesa ha concesso a X un finanziamento", "La Bei ha firmato un finanziamento a favore di X") or
    after "di"/"da" ("A X un finanziamento di Intesa"): one lender is the round's acquirer."""
    doc = view.doc
    borrower = _first_distinct(
        view.org_after_word(frozenset({"favore"}), trig.end, trig.end + 14, gap=2),
        view.org_after_word(_DATIVE, view.sent.start, trig.start, gap=1),
    )
    if borrower is None:
        return None
    lender = _first_distinct(
        _lead_investor(view),
        view.org_after_word(_DI | _DA, trig.end, trig.end + 8, gap=2),
        view.subject_before(trig.start, exclude=borrower),
        avoid=borrower,
    )
    if lender is not None and lender.start == borrower.start:
        lender = None
    others = [o for o in view.orgs if o.start not in {borrower.start, lender.start if lender else -1}]
    others = [o for o in others if o.start > trig.start and _word_is(doc, o, _DA)]
    return "funding_round", lender, borrower, others


_LOAN_WORDS = re.compile(r"\b(finanziament\w*|prestit\w*|venture debt|linea di credito|mutuo)\b", re.I)
_EQUITY_WORDS = re.compile(r"\b(round|aumento di capitale|seed|serie [a-e]|equity)\b", re.I)


def _is_loan(view: SentenceView) -> bool:
    text = text_of(view.sent)
    return bool(_LOAN_WORDS.search(text)) and (
        "venture debt" in text.lower() or not _EQUITY_WORDS.search(text)
    )


def _generic_plural_subject(trig: Span, view: SentenceView) -> bool:
    """ "le startup italiane hanno raccolto", "Nel 2024 le fintech hanno raccolto": a market total."""
    doc = view.doc
    words = [t.lower_ for t in doc[max(view.sent.start, trig.start - 5) : trig.start]]
    pairs = zip(words, words[1:], strict=False)
    return any(w in {"le", "i", "gli"} and nxt in _GENERIC_PLURALS for w, nxt in pairs)


def _amount_follows(view: SentenceView, trig: Span) -> bool:
    spans = view.doc.spans.get("money", [])
    return any(trig.start < m.start <= trig.end + 4 for m in spans)


def _word_is(doc: Doc, org: Span, words: frozenset[str]) -> bool:
    return org.start > 0 and doc[org.start - 1].lower_ in words


def _lead_investor(view: SentenceView) -> Span | None:
    doc = view.doc
    for tok in view.sent:
        low = tok.lower_
        if tok.lemma_ == "guidare" or low.startswith(("guidat", "capitanat", "guida", "condott")):
            org = view.org_after_word(_DA, tok.i + 1, tok.i + 3)
            if org is None and _active_lead(tok) and tok.nbor(-1).lower_ == "che":
                org = _relative_head(view, tok.i - 1)  # "da X, che guida l'operazione, e da Y"
            if org is None and (low in {"guidare", "guida", "guidano", "guiderà"} or _object_clitic(tok)):
                # "A guidare il round è X", "Guida l'operazione X", "Lo ha guidato X": the leader follows
                org = _inverted_subject(view, tok.i + 1, 12)
            if org is None and _active_lead(tok):
                # "X ha guidato il round", "da X, che guida l'operazione": the subject leads
                org = view.subject_before(tok.i)
            if org is not None:
                return org
        if low == "lead" and tok.i + 1 < len(doc) and doc[tok.i + 1].lower_ == "investor":
            org = view.org_at(tok.i + 2, 3)
            if org is None and tok.i >= 2 and doc[tok.i - 1].lower_ in {"come", "quale", "in qualità di"}:
                # "con X come lead investor"
                org = next((o for o in reversed(view.orgs) if tok.i - 2 <= o.end <= tok.i - 1), None)
            if org is not None:
                return org
    return None


def _active_lead(tok) -> bool:
    low = tok.lower_
    nxt = tok.nbor(1).lower_ if tok.i + 1 < len(tok.doc) else ""
    if nxt in _DA or low == "guidare":
        return False
    prev = tok.nbor(-1).lower_ if tok.i > 0 else ""
    if low in {"guida", "guidano", "guiderà", "guideranno"}:
        return prev in {"che", ",", "e"} or prev.isalpha() and tok.nbor(-1).text[:1].isupper()
    return low in {"guidato"} and prev in {"ha", "hanno", "aveva"} and not _object_clitic(tok)


def _relative_head(view: SentenceView, che: int) -> Span | None:
    """The organisation a relative clause hangs on: "X, che guida ..." -> X."""
    for org in reversed(view.orgs):
        if org.end <= che:
            return org if all(t.text == "," for t in view.doc[org.end : che]) else None
    return None


def _object_clitic(tok) -> bool:
    """ "Lo ha guidato X", "L'ha guidato X": the round is the object, the leader follows the verb."""
    before = [t.lower_ for t in tok.doc[max(tok.sent.start, tok.i - 2) : tok.i]]
    return bool(before) and before[0] in {"lo", "l'", "la"}


def _inverted_subject(view: SentenceView, pos: int, max_gap: int) -> Span | None:
    """The first organisation within max_gap tokens, across "è"/"sono" but no clause break or other verb."""
    for org in view.orgs:
        if org.start < pos:
            continue
        if org.start > pos + max_gap:
            return None
        between = view.doc[pos : org.start]
        if any(
            t.text in {";", ".", ":", "?", "!"}
            or t.lower_ in _ROLE_PREPS  # "guida l'operazione, e da X": X is a co-investor after "da"
            or (verb_like(t) and t.lower_ not in {"è", "sono", "sarà", "saranno"})
            for t in between
        ):
            return None
        return org
    return None


def _partnership(trig, view: SentenceView, word, lemma):
    if trig.start > view.sent.start and view.doc[trig.start - 1].lower_ in {"in", "d'"}:
        return None  # "in partnership con X", "d'accordo con": how something else is done, no deal
    first = second = None
    # "Accordo da 200 milioni tra X e Y": the parties may follow the figure
    tra = view.org_after_word(frozenset({"tra", "fra"}), trig.end, trig.end + 7)
    if tra is not None:
        first = tra
        second = view.org_after_word(frozenset({"e", "ed", "con"}), tra.end, tra.end + 2)
    else:
        second = view.org_after_word(frozenset({"con"}), trig.end, trig.end + 8)
        if second is None:
            second = view.org_after_word(frozenset({"con"}), view.sent.start, trig.start)
        if second is None and word.startswith(("accord", "licen", "intes")) and _grants(view, trig):
            # "X ha concesso alla giapponese Y i diritti ... con un accordo di licenza"
            second = view.org_after_word(_GRANTEE, view.sent.start, trig.start, gap=3)
        first = view.subject_before(trig.start, exclude=second)
        if second is None and first is not None:
            # "X e Y siglano un accordo"
            pair = view.conjuncts(first)
            if len(pair) >= 2:
                first, second = pair[0], pair[1]
    if second is not None and first is None:
        return "partnership", None, second, []  # "la società ha firmato con Y": the caller resolves it
    if first is None or second is None or first.text == second.text:
        return None
    return "partnership", first, second, []


def _merger(trig, view: SentenceView, word, lemma):
    doc = view.doc
    if word == "integrazione":
        absorbed = view.org_after_word(_DI, trig.end, trig.end + 2)
        absorber = view.org_after_word(_IN, absorbed.end, absorbed.end + 6) if absorbed is not None else None
        return ("merger", absorber, absorbed, []) if absorber is not None and absorbed is not None else None
    if word.startswith("incorpor") or lemma == "incorporare":
        if lemma == "incorporare" and not word.startswith("incorporazion"):
            target = view.org_at(trig.end, 4)
            return ("merger", view.subject_before(trig.start, exclude=target), target, []) if target else None
        absorbed = view.org_after_word(_DI, trig.end, trig.end + 2)
        start = absorbed.end if absorbed is not None else trig.end
        absorber = view.org_after_word(_IN, start, start + 3)
        if absorbed is None:
            absorbed = view.subject_before(trig.start, exclude=absorber)
        elif absorber is None:
            # "il cda di X ha approvato la fusione per incorporazione di Y": X absorbs Y
            absorber = view.subject_before(trig.start, exclude=absorbed)
        if absorber is None or absorbed is None:
            return None
        return "merger", absorber, absorbed, []
    # the incorporation trigger of the same sentence, when present, says who absorbs whom
    if any(
        t.text.lower().startswith("incorpor")
        for t in doc.spans["deal_trigger"]
        if view.sent.start <= t.start < view.sent.end and t.start != trig.start
    ):
        return None
    tra = view.org_after_word(frozenset({"tra", "fra"}), trig.end, trig.end + 3)
    if tra is not None:
        other = view.org_after_word(frozenset({"e", "ed", "con"}), tra.end, tra.end + 2)
        return ("merger", tra, other, []) if other is not None else None
    other = view.org_after_word(frozenset({"con"}) | _DI, trig.end, trig.end + 4)
    if other is None:
        # "X e Y si fondono"
        subject = view.subject_before(trig.start)
        pair = view.conjuncts(subject) if subject is not None else []
        return ("merger", pair[0], pair[1], pair[2:]) if len(pair) >= 2 else None
    # "La società si fonde con Y": the subject may be the article's company (filled by the caller)
    return "merger", view.subject_before(trig.start, exclude=other), other, []


def _ipo(trig, view: SentenceView, word, lemma):
    doc = view.doc
    if word not in {"ipo", "matricola"} and not _MARKET_WORDS.search(text_of(view.sent)):
        return None
    before = doc[max(view.sent.start, trig.start - 4) : trig.start].text
    after = doc[trig.end : min(view.sent.end, trig.end + 4)].text
    if _PRICE_MOVE.search(before) or _PRICE_AFTER.match(after):
        return None  # "rialzo della quotazione", "la quotazione scende": a share price, not a listing
    target = _first_distinct(
        view.org_at(trig.end, 0) if word == "ipo" else None,
        view.org_after_word(_DI, trig.end, trig.end + 2),
        view.subject_before(trig.start),
        # "Venerdì ha debuttato su Euronext Growth Milan Lumina Optics": the subject after the verb
        view.org_at(trig.end, 6) if verb_like(view.doc[trig.start]) else None,
    )
    return "ipo", None, target, []


_HANDLERS = {
    "acquisition": _acquisition,
    "investment": _investment,
    "funding_round": _funding,
    "partnership": _partnership,
    "merger": _merger,
    "ipo": _ipo,
}
