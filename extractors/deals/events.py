"""Article-level event assembly: candidates per sentence -> figures and status -> the article's news.

Precision first. Most articles report one deal and the headline names its parties, so:
- events stated in the title are the news; lead sentences (the first few of the body) add news only
  when they involve a company named in the title (or, with no company in the title, the first deal of
  the lead); everything else is kept as background (`background=True`: stored, never alerted or scored);
- one deal told several times (headline + lead, or a round told investor by investor) is merged into
  one event: same target, compatible types; investments into the target of a round become its parties.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span

from ..models import DealEvent
from ..names import name_tokens, tokens_inside
from . import lexicon as lx
from .document import alphabetic_words, text_of
from .money import counts_shares
from .orgs import clean_name
from .roles import Candidate, SentenceView, _lead_investor, roles_for

LEAD_SENTENCES = 5  # body sentences that still belong to the lead of a news article
MAX_NEWS_EVENTS = 3
MAX_ROUNDUP_EVENTS = 6
NAMELESS_LEAD = 5  # a headline without names: its deal is stated within this many body sentences
VALUATION_TOLERANCE = 0.05
TITLE_END_KEY = "dealradar.title_end"

_RUMOR = re.compile(
    r"\b(trattativ\w*|indiscrezion\w*|rumors?|voci|secondo (alcune |diverse )?fonti|fonti vicine|"
    r"sarebbe|sarebbero|potrebbe|potrebbero|avrebbe|avrebbero|dovrebbe|dovrebbero|starebbe|starebbero|"
    r"in corsa per|sta valutando|valuterebbe|sta per|stanno per|in pole|pronta a|pronto a|"
    r"vicin[aoie] a|possibile|potenziale|studia|studiano|tratta per|"
    r"negoziat\w*|negoziano|negozia|negoziando)\b",
    re.I,
)
# A conditional is a rumour's mood, but not in a sentence that reports the deal as announced or confirmed
# ("Potrebbe arrivare un addio alla Borsa: X ha annunciato un'opa"): there it is about the consequences.
_MODAL = re.compile(
    r"^(sarebbe|sarebbero|potrebbe|potrebbero|avrebbe|avrebbero|dovrebbe|dovrebbero|possibile|potenziale)$",
    re.I,
)
_TALKS_OVER = re.compile(r"\b(dopo|al termine di|a conclusione di|chiuse? le)\s+(\w+\s+){0,3}(di\s+)?$", re.I)
_CONFIRMED = re.compile(
    r"\b(ha annunciato|hanno annunciato|annuncia|annunciano|ha confermato|hanno confermato|conferma\w*|"
    r"ufficial\w*|ha comunicato|comunica)\b",
    re.I,
)


def _rumored(text: str, strong_only: bool = False) -> bool:
    """A rumour cue in text; a bare conditional counts only where nothing announces or confirms the deal
    (and never with strong_only: a later sentence's "potrebbe" speaks of what the deal may bring)."""
    # "un'intesa maturata dopo mesi di trattative": talks that led to the deal are over
    cues = [m.group(0) for m in _RUMOR.finditer(text) if not _TALKS_OVER.search(text[: m.start()])]
    strong = [c for c in cues if not _MODAL.match(c)]
    if strong:
        return True
    return bool(cues) and not strong_only and not _CONFIRMED.search(text)


_COMPLETED = re.compile(
    r"\b(perfezionat\w*|completat\w*|closing|ha chiuso|hanno chiuso|concluso|conclusa|"
    # "la chiusura dell'operazione", not the market's "rispetto alla chiusura di ieri"
    r"(?<!rispetto alla )(?<!prezzo di )chiusura d(?!i ieri|i venerd|ella seduta|i borsa)\w*|"
    r"finalizzat\w*|portato a termine|ha debuttato|debutta|ha esordito|campanella|è sbarcat\w*|"
    r"sono state vendute|ammess\w* alle negoziazioni|ha incassato|aveva incassato|"
    r"è stata chiusa|è stato chiuso|si è chius\w*|si sono chius\w*|si è quotat\w*|è avvenut\w*|"
    r"è già avvenut\w*|"
    # done deeds: "è stata acquisita da", "hanno costituito una joint venture", "è nata dalla fusione"
    r"è stat[ao] acquisit[ao]|sono stat[ie] acquisit[ie]|ha costituito|hanno costituito|è nat[ao] dalla)\b",
    re.I,
)
_PAST = re.compile(
    r"\b(scors[oa]|l'anno scorso|in passato|in precedenza|aveva|avevano|era stat\w*|erano stat\w*|fu|furono|"
    r"già|anni fa|precedente\w*|negli ultimi anni|nel corso degli anni|era il (19|20)\d\d|"
    # a reference point or a running total, not this week's deal
    r"da quando|dalla fondazione|negli anni|finora|fino ad oggi|fino a oggi|in totale|complessivamente|"
    # passato remoto of the deal verbs: history, not news
    r"comprò|acquistò|acquisì|rilevò|investì|raccolse|cedette|vendette|incorporò|debuttò|sbarcò)\b",
    re.I,
)
_VALUATION_CUE = re.compile(
    r"(valutazion\w*|valutat\w*|valore di mercato|post-money|pre-money|capitalizz\w*|valorizz\w*|"
    r"valga|vale|varrebbe)\W*(\w+\W+){0,4}$",
    re.I,
)
# Shares changing hands between holders: money that does not go into the company's round.
_SECONDARY = re.compile(
    r"\b(secondari[ao]|azionisti esistenti|soci esistenti|attuali (soci|azionisti)|"
    r"cessione di azioni|vendita di azioni|acquisto di azioni esistenti|da parte di alcuni (soci|azionisti))",
    re.I,
)
_FIGURE_CHAIN = re.compile(r"\W*(e|o|ed|oppure)?\W*(fino a|fino al|oltre|circa|anche)?\W*$", re.I)
_NOT_DEAL_MONEY = re.compile(
    r"(fatturato|ricavi|utile|utili|perdit\w+|"
    r"prezzo(?! pagato| complessivo| concordato| dell'operazione| dell'acquisizione| di acquisto"
    r"| di cessione)|"
    r"prezzi|costa|costo|multa|sanzion\w+|riscatto|bilancio|"
    r"debito|stipendi\w*|patrimonio|giro d'affari|ebitda|margin\w*|budget|spesa|spende|costerà|mensil\w*|"
    r"previsione|previsioni|stimat\w*|detiene|possied\w*|posseggono|"
    # "nasce un gruppo da 2 miliardi": the size of the combined company, not the deal's value
    r"nasce|nascerà|nascerebbe|vita)\W*(\w+\W+){0,3}$",
    re.I,
)
_NOT_STAKE = re.compile(
    r"(rialzo|ribasso|calo|crescita|premio|sconto|aumento|salita|discesa|crollo|balzo|tasso|interess\w+|"
    r"margin\w*|dipendenti|personale|forza lavoro|mercato|licenzi\w*|taglio|inflazione|rendimento|"
    r"crescere|cresciut\w*|salit\w*|sces\w*|guadagn\w*|perso|perde|"
    # "il fondatore manterrà una quota del 30%": what the seller keeps is no stake bought
    r"manterr\w+|mantien\w+|mantenere|conserv\w+|rester\w+|resta|restano|reinvest\w+|"
    r"deteneva|detiene|detengono)\W*(\w+\W+){0,3}$",
    re.I,
)
# "L'operazione vale 35 milioni": what a deal is worth is its amount, not a company valuation
_DEAL_VALUE = re.compile(
    r"\b(operazione|deal|accordo|acquisizione|affare|transazione|round|investimento|offerta|cessione)\W+"
    r"(\w+\W+){0,2}(vale|valga|varrebbe|valeva)\b",
    re.I,
)


def _not_deal_money(before: str) -> bool:
    """Revenue, prices, fines before a figure; a capitalised cue is a name ("Costa Coffee per 5 mld")."""
    m = _NOT_DEAL_MONEY.search(before)
    return m is not None and not m.group(1)[:1].isupper() or _PURPOSE_MONEY.search(before) is not None


# What the money is for, or what a partnership offers: "per finanziare il piano ... da 900 milioni",
# "offrire prestiti fino a 100mila euro".
_PURPOSE_MONEY = re.compile(
    r"\b(per finanziare|prestiti|mutui|fidi|finanziamenti fino)\b\W*(\w+\W+){0,6}$", re.I
)


_NOT_DEAL_AFTER = re.compile(
    r"\W*(di|in)\s+(ricavi|fatturato|giro d'affari|capitalizzazione|utile|utili|perdit\w+|ebitda|debiti|"
    r"asset|masse|attivi)\b",
    re.I,
)
_EACH = re.compile(r"^\W*(ciascun[oa]|a testa|ognuno|l'uno)", re.I)
_EACH_BEFORE = re.compile(r"\b(ciascun[oa]|ognuno|ognuna|entrambi)\b\W+(\w+\W+){0,3}$", re.I)


@dataclass
class Figures:
    amount: float | None = None
    currency: str | None = None
    stake_pct: float | None = None
    valuation: float | None = None
    valuation_currency: str | None = None


@dataclass
class Draft:
    cand: Candidate
    deal_type: str
    acquirer: str | None
    target: str | None
    parties: list[str]
    figures: Figures
    status: str
    past: bool
    status_explicit: bool = False
    news: bool = False
    merged: list[Draft] = field(default_factory=list)


def title_end(doc: Doc) -> int:
    return int(doc.user_data.get(TITLE_END_KEY, 0))


def find_drafts(doc: Doc) -> list[Draft]:
    """Every sentence-level deal candidate of the document, with its figures and status."""
    orgs = list(doc.spans["org"]) if "org" in doc.spans else []
    triggers = list(doc.spans["deal_trigger"]) if "deal_trigger" in doc.spans else []
    t_end = title_end(doc)
    title_key = lx.fold(text_of(doc[:t_end]))
    focus = _focus_orgs(doc, orgs, t_end)
    title_named = bool(_recurring_title_orgs(orgs, t_end))
    drafts: list[Draft] = []
    body_index = 0
    prev_orgs: list[Span] = []
    sent_orgs: list[Span] = []
    for sent in doc.sents:
        sent_text = text_of(sent)
        if sent_orgs or sent_text.strip():
            prev_orgs = sent_orgs
        sent_orgs = [o for o in orgs if sent.start <= o.start < sent.end]
        if sent_text.strip() == "":
            continue
        in_title = sent.start < t_end
        if not in_title:
            if lx.repeats_title(sent_text, title_key) or lx.is_page_furniture(sent_text):
                continue  # the page repeats its headline, or links another article
            if alphabetic_words(sent) >= 4:  # headings do not push the lead down
                body_index += 1
        sent_triggers = [t for t in triggers if sent.start <= t.start < sent.end]
        if not sent_triggers:
            continue
        view = SentenceView(sent, orgs)
        if not view.orgs:
            continue
        found = []
        for trig in sent_triggers:
            roles = roles_for(trig, view)
            if roles is None:
                continue
            kind, acquirer, target, others = roles
            index = 0 if in_title else body_index
            # a nameless headline: "La società ha chiuso..." refers to the company just named
            near = focus if title_named else _antecedents(prev_orgs) + focus
            acquirer, target = _resolve_anaphora(view, trig, kind, acquirer, target, near, in_title, index)
            if (
                target is None
                and kind in {"acquisition", "investment"}
                and acquirer is not None
                and (_clitic_object(trig) or _cue_object(trig))
            ):
                earlier = [o for o in view.orgs if o.end <= trig.start]
                target = _previous_object(prev_orgs + earlier, acquirer)
            if target is None or (acquirer is not None and acquirer.start == target.start):
                continue
            if _cited_source(target) or acquirer is not None and _cited_source(acquirer):
                continue  # "secondo uno studio di X, ... la quotazione": X reports, it takes no part
            if acquirer is None and kind in {"merger", "partnership"}:
                continue  # a combination needs both sides
            cand = Candidate(
                kind,
                trig,
                sent,
                view.party(acquirer) if acquirer is not None else None,
                view.party(target),
                [view.party(o) for o in others],
                in_title,
                index,
            )
            found.append(cand)
        # "accordo per acquisire": the agreement is the vehicle of a stronger deal in the same sentence
        if any(c.deal_type != "partnership" for c in found):
            found = [c for c in found if c.deal_type != "partnership"]
        # "X rileva il 35% di Y attraverso un aumento di capitale": the capital increase is Y's, not X's
        buyers = {
            c.acquirer.start for c in found if c.acquirer is not None and c.deal_type != "funding_round"
        }
        found = [
            c for c in found if not (c.deal_type == "funding_round" and c.target and c.target.start in buyers)
        ]
        drafts.extend(_listing_with_its_proceeds([_draft(doc, cand) for cand in _dedupe(found)]))
    return drafts


def _listing_with_its_proceeds(sentence_drafts: list[Draft]) -> list[Draft]:
    """ "X ha debuttato in Borsa: ha raccolto 8 milioni nel collocamento": one listing with its proceeds."""
    ipos = [d for d in sentence_drafts if d.deal_type == "ipo"]
    out = []
    for d in sentence_drafts:
        listing = next(
            (i for i in ipos if d.deal_type == "funding_round" and same_company(i.target, d.target)), None
        )
        if listing is None:
            out.append(d)
            continue
        if listing.figures.amount is None:
            listing.figures.amount, listing.figures.currency = d.figures.amount, d.figures.currency
        if listing.figures.valuation is None:
            listing.figures.valuation = d.figures.valuation
            listing.figures.valuation_currency = d.figures.valuation_currency
        listing.merged.append(d)
    return out


_SOURCE_NOUNS = frozenset(
    ["studio", "ricerca", "analisi", "report", "rapporto", "indagine", "dati", "stime", "elaborazione",
     "osservatorio", "survey", "sondaggio", "classifica", "monitoraggio"]
)  # fmt: skip


def _cited_source(org: Span) -> bool:
    """ "secondo uno studio di X", "stando ai dati di X", "secondo X": X is where a figure comes from."""
    doc = org.doc
    before = [t.lower_ for t in doc[max(org.sent.start, org.start - 5) : org.start]]
    if not before:
        return False
    if before[-1] in {"secondo", "stando"}:
        return True
    if lx.fold(org[0].text) in _SOURCE_NOUNS and any(b in {"secondo", "stando", "per"} for b in before[-3:]):
        return True  # "secondo l'Osservatorio X del Politecnico"
    for k, w in enumerate(before):
        if w in {"secondo", "stando"} and any(b in _SOURCE_NOUNS for b in before[k + 1 :]):
            return before[-1] in lx.PREPOSITIONS
    return False


_CLITIC_VERB = re.compile(r"^(aver|acquistar|rilevar|comprar|acquisir|prender)(la|lo|le|li)$")


def _clitic_object(trig: Span) -> bool:
    """ "di averla rilevata", "l'ha acquisita", "la compra": the company bought was named just before."""
    doc = trig.doc
    before = [t.lower_ for t in doc[max(trig.sent.start, trig.start - 2) : trig.start]]
    if before and _CLITIC_VERB.match(before[-1]):
        return True
    return any(w in {"l'", "la", "lo"} for w in before[-2:]) and (
        not before or before[-1] in {"l'", "la", "lo", "ha", "hanno", "aveva"}
    )


_OF_IN = frozenset({"della", "dell'", "del", "nella", "nel", "nell'"})


def _cue_object(trig: Span) -> bool:
    """ "ha acquisito il 15% della fintech torinese": the object is a cue noun standing for a company
    named before ("Monetina ... Il fondo X ha acquisito il 15% della fintech torinese")."""
    doc = trig.doc
    end = min(trig.sent.end, trig.end + 6)
    for t in doc[trig.end : end]:
        if t.lower_ not in lx.ORG_CUES or doc[t.i - 1].lower_ not in _DEFINITE | _OF_IN:
            continue
        # the company itself ("ha rilevato la startup"), a stake in it ("il 15% della fintech") or money put
        # into it ("ha investito 10 milioni nella startup")
        between = doc[trig.end : t.i - 1]
        return (
            len(between) == 0
            or any(w.text in {"%", "cento"} for w in between)
            or doc[t.i - 1].lower_ in {"nella", "nel", "nell'"}
            and any(w.like_num for w in between)
        )
    return False


def _previous_object(prev_orgs: list[Span], acquirer: Span) -> Span | None:
    """The last company named before that is not the buyer ("L'ultima preda è X: Y l'ha rilevata")."""
    for org in reversed(prev_orgs):
        if lx.fold(org.text) != lx.fold(acquirer.text) and not same_company(org.text, acquirer.text):
            return org
    return None


_ANAPHORA_NOUNS = lx.ORG_CUES | {"matricola", "acquirente", "compratore", "target"}


def _focus_orgs(doc: Doc, orgs: list[Span], t_end: int) -> list[Span]:
    """The companies the article is about: those of the headline, else those of its first sentences."""
    in_title = [o for o in orgs if o.start < t_end]
    if in_title:
        return in_title
    return [o for o in orgs if o.start < t_end + 80 and not _cited_source(o)][:2]


def _recurring_title_orgs(orgs: list[Span], t_end: int) -> list[Span]:
    """The headline's companies that the body names again; a headline word the body never names again is
    a section label ("Telco, rete condivisa..."), not the company the body's "l'operatore" refers to."""
    body_names = {o.text for o in orgs if o.start >= t_end}
    return [o for o in orgs if o.start < t_end and any(same_company(o.text, n) for n in body_names)]


def _antecedents(prev_orgs: list[Span]) -> list[Span]:
    """Companies of the previous sentence a "la società" may refer to: one described by an apposition
    ("Zafferano Pay, la fintech torinese") first; never a cited source."""
    usable = [o for o in prev_orgs if not _cited_source(o)]
    described = [o for o in usable if _has_apposition(o)]
    return described + [o for o in usable if o not in described]


def _has_apposition(org: Span) -> bool:
    after = [t.lower_ for t in org.doc[org.end : org.end + 3]]
    return len(after) >= 2 and after[0] == "," and after[1] in {"la", "il", "lo", "l'", "una", "un"}


def _resolve_anaphora(view, trig, kind, acquirer, target, focus, in_title, index):
    """Fill a missing party with the article's company when the sentence refers to it ("la società")."""
    if not focus:
        return acquirer, target
    missing_acquirer = acquirer is None and kind in {"acquisition", "merger", "partnership"}
    missing_target = target is None and kind in {"funding_round", "ipo"}
    if not (missing_acquirer or missing_target):
        return acquirer, target
    known = [o for o in (acquirer, target) if o is not None]
    others = [f for f in focus if not any(f.text == k.text for k in known)]
    if not others:
        return acquirer, target
    if in_title:
        names = {o.text for o in others}
        if len(names) != 1:
            return acquirer, target
    else:
        if index > LEAD_SENTENCES:
            return acquirer, target
        before = view.doc[view.sent.start : trig.start]
        named = {k.start for k in known}
        if any(o.start < trig.start and o.start not in named for o in view.orgs) or not any(
            t.lower_ in _ANAPHORA_NOUNS for t in before
        ):
            return acquirer, target
    # the most mentioned company is the one "la società" means ("Volta Droni" over a stray "Droni")
    mentions = [o.text for o in view.doc.spans["org"]]
    pick = max(others, key=lambda o: mentions.count(o.text)) if not in_title else others[0]
    return (pick, target) if missing_acquirer else (acquirer, pick)


def _dedupe(cands: list[Candidate]) -> list[Candidate]:
    seen: dict[tuple[str, str], Candidate] = {}
    for c in cands:
        key = (c.deal_type, lx.fold(c.target.name) if c.target else "")
        if key not in seen or (seen[key].acquirer is None and c.acquirer is not None):
            seen[key] = c
    return list(seen.values())


def _draft(doc: Doc, cand: Candidate) -> Draft:
    figures = sentence_figures(doc, cand)
    kind = cand.deal_type
    if kind == "acquisition" and figures.stake_pct is not None and figures.stake_pct <= 50:
        kind = "investment"
    elif kind == "investment" and figures.stake_pct is not None and figures.stake_pct > 50:
        kind = "acquisition"
    parties = _unique([p.name for p in (cand.acquirer, cand.target, *cand.others) if p is not None])
    # a headline told in two sentences ("X acquisisce Y. Il closing è avvenuto ieri") is read whole
    text = doc[: title_end(doc)].text if cand.in_title else cand.sent.text
    status = _status(text, kind)
    past = _PAST.search(text_of(clause_of(cand.trigger, cand.sent))) is not None
    explicit = _rumored(text) or _completed(text)
    return Draft(
        cand,
        kind,
        cand.acquirer.name if cand.acquirer else None,
        cand.target.name if cand.target else None,
        parties,
        figures,
        status,
        past,
        explicit,
    )


_FUTURE = re.compile(
    r"\b(sarà|saranno|sia|siano|verrà|verranno|essere|prevede|previsto|prevista|atteso|attesa|attes[ie]|entro|"
    r"dovrà|dovranno)\W+(\w+\W+){0,2}$",
    re.I,
)


_FUTURE_AFTER = re.compile(
    r"\W+(\w+\W+){0,2}?(entro|previst\w*|attes\w*|atteso|nei prossimi|il prossimo)\b", re.I
)


def _completed(text: str) -> bool:
    """A completion cue that is not future ("sarà completata entro marzo" is still announced)."""
    return any(
        not _FUTURE.search(text[: m.start()]) and not _FUTURE_AFTER.match(text[m.end() :])
        for m in _COMPLETED.finditer(text)
    )


_CLAUSE_BREAKS = frozenset({",", ";", ":", "(", ")", "–", "—", "-"})


def clause_of(trig: Span, sent: Span) -> Span:
    """The comma-delimited clause around a trigger ("Marevivo, che aveva raccolto 8 milioni, rileva ...")."""
    doc = sent.doc
    start = trig.start
    while start > sent.start and doc[start - 1].text not in _CLAUSE_BREAKS:
        start -= 1
    end = trig.end
    while end < sent.end and doc[end].text not in _CLAUSE_BREAKS:
        end += 1
    return doc[start:end]


def _status(text: str, kind: str) -> str:
    if _rumored(text):
        return "rumor"
    if _completed(text):
        return "completed"
    return "announced"


def _unique(names: list[str]) -> list[str]:
    out: list[str] = []
    for n in names:
        if n and lx.fold(n) not in {lx.fold(o) for o in out}:
            out.append(n)
    return out


def _amounts_in(doc: Doc, span: Span) -> list:
    return [a for a in doc._.dr_amounts if span.start_char <= a.start < span.end_char]


def _percents_in(doc: Doc, span: Span) -> list:
    return [p for p in doc._.dr_percentages if span.start_char <= p.start < span.end_char]


def sentence_figures(doc: Doc, cand: Candidate) -> Figures:
    """Deal amount, stake and valuation stated in the candidate's sentence."""
    text = text_of(doc)
    sent, trig = cand.sent, cand.trigger
    figures = Figures()
    deal_amounts = []
    counting = counts_shares(text_of(sent))
    valuation_end: int | None = None
    previous_end = sent.start_char
    for a in _amounts_in(doc, sent):
        if a.per_share or counting and a.currency is None:
            continue
        before = text[max(sent.start_char, a.start - 45) : a.start]
        cue = _VALUATION_CUE.search(before)
        if cue and not (cue.group(1).lower().startswith(("val", "varr")) and _DEAL_VALUE.search(before)):
            if figures.valuation is None:
                figures.valuation, figures.valuation_currency = a.value, a.currency
            valuation_end = a.end
            continue
        if valuation_end is not None and _FIGURE_CHAIN.match(text[valuation_end : a.start]):
            valuation_end = a.end  # "capitalizzava 5,4 miliardi e fino a 6,4 miliardi": still the value
            continue
        if (
            _not_deal_money(before)
            or _NOT_DEAL_AFTER.match(text[a.end : a.end + 30])
            or _EACH.search(text[a.end : a.end + 15])
            or _EACH_BEFORE.search(before)
        ):
            continue
        if not a.scaled and a.value < 50_000 and cand.deal_type != "funding_round":
            continue
        if cand.deal_type == "funding_round" and _SECONDARY.search(text[previous_end : a.start]):
            continue  # "...e l'acquisto di azioni da azionisti esistenti per 25 milioni": no new money
        previous_end = a.end
        deal_amounts.append(a)
    others = [
        t for t in doc.spans["deal_trigger"] if sent.start <= t.start < sent.end and t.start != trig.start
    ]
    same_kind = [t for t in others if t.label_ == trig.label_]
    others = [t for t in others if t.label_ not in {"generic", trig.label_}]
    # "X, che aveva raccolto 8 milioni, rileva Y": an amount in another deal word's clause is that deal's;
    # "..., investendo 18 milioni attraverso un aumento di capitale": a clause with our own kind is ours
    deal_amounts = [a for a in deal_amounts if not _owned_by_other(doc, a, trig, others, sent, same_kind)]
    if deal_amounts:
        # nearest to the trigger, a figure after it preferred (the object of the deal verb)
        clause = clause_of(trig, sent)

        def distance(a) -> float:
            d = abs(a.start - trig.start_char) * (1 if a.start > trig.start_char else 1.5)
            return d if clause.start_char <= a.start < clause.end_char else d * 3 + 200

        best = min(deal_amounts, key=distance)
        figures.amount, figures.currency = best.value, best.currency
    if cand.deal_type in {"acquisition", "investment", "merger"}:
        stakes = []
        for p in _percents_in(doc, sent):
            before = text[max(sent.start_char, p.start - 35) : p.start]
            after = text[p.end : p.end + 20].lower()
            if _NOT_STAKE.search(before) or not 0 < p.value <= 100:
                continue
            if after.lstrip().startswith(
                ("dei dipendenti", "del personale", "in più", "in meno", "rispetto")
            ):
                continue
            stakes.append(p)
        if stakes:
            best = min(stakes, key=lambda p: abs(p.start - trig.start_char))
            figures.stake_pct = best.value
    return figures


def _owned_by_other(
    doc: Doc, amount, trig: Span, others: list[Span], sent: Span, same_kind: list[Span]
) -> bool:
    tok = doc.char_span(amount.start, amount.end, alignment_mode="expand")
    if tok is None:
        return False
    clause = clause_of(tok, sent)
    if any(clause.start <= t.start < clause.end for t in [trig, *same_kind]):
        return False
    return any(clause.start <= t.start < clause.end for t in others)


def _key(name: str | None) -> tuple[str, ...]:
    """The project's name key (extractors.names) without the words that never tell companies apart."""
    return tuple(t for t in name_tokens(name) if t not in _LEGAL_WORDS)


_LEGAL_WORDS = frozenset(
    [
        "spa",
        "srl",
        "inc",
        "ltd",
        "llc",
        "plc",
        "ag",
        "sa",
        "nv",
        "gmbh",
        "corp",
        "group",
        "gruppo",
        "holding",
        "sgr",
        "the",
        "il",
        "la",
    ]
)


def same_company(a: str | None, b: str | None) -> bool:
    # the rules' key also drops articles and "gruppo"/"holding" anywhere in a name ("Gruppo Hera" ~ "Hera")
    return tokens_inside(_key(a), _key(b))


def _compatible(a: str, b: str) -> bool:
    if a == b:
        return True
    if {a, b} == {"ipo", "funding_round"}:
        return True  # "sbarca al Nasdaq: raccolti 75 milioni": the money raised is the listing's
    return {a, b} <= {"funding_round", "investment"} or {a, b} <= {"acquisition", "investment", "merger"}


def select_news(doc: Doc, drafts: list[Draft]) -> list[Draft]:
    """Mark the article's news among the drafts, merge mentions of one deal; the rest is background."""
    t_end = title_end(doc)
    title_orgs = [o for o in doc.spans["org"] if o.start < t_end] if "org" in doc.spans else []
    title_drafts = [d for d in drafts if d.cand.in_title]
    recurring = title_orgs if title_drafts else _recurring_title_orgs(list(doc.spans.get("org", [])), t_end)
    title_names = [o.text for o in recurring]

    def about_title(d: Draft) -> bool:
        # a sale names its seller among the parties ("X cede Y a Z" is news of X)
        names = (d.target, d.acquirer, *(d.parties if d.deal_type == "acquisition" else ()))
        return any(same_company(n, t) for n in names for t in title_names)

    # "Le operazioni della settimana", "Acquisizioni miliardarie...": a headline announcing several deals
    roundup = any(
        t.lower_ in _ROUNDUP_WORDS and not (t.i > 0 and doc[t.i - 1].lower_ in {"piazza", "giro", "d'"})
        for t in doc[:t_end]
    )  # "Piazza Affari", "giro d'affari" announce no deals
    # "I round della settimana", "tre operazioni in una settimana": a headline that counts its deals
    listing = _counts_deals(doc[:t_end])
    # "Mega fusione nel settore informatico": a headline naming the kind of deal but no party; the body's
    # first deal of that kind, stated in full, is the news even below the lead
    headline_kind_deal = _first_of_headline_kind(doc, drafts) if not title_names else None
    for d in drafts:
        if d.cand.in_title:
            # "X, che aveva raccolto 8 milioni, rileva Y", "Dieci anni fa l'acquisizione di Y":
            # a past deal in the headline is context (the past cue must sit in the deal's own clause)
            d.news = not d.past
        elif d is headline_kind_deal:
            d.news = True
        elif roundup and not title_names and not d.past and d.cand.sent_index <= HEADLINE_KIND_REACH:
            d.news = _complete(d)  # "Acquisizioni miliardarie nell'AI": a nameless round-up's deals, in full
        elif listing and not d.past:
            d.news = _complete(d)  # a round-up tells each of its deals in full, anywhere in the body
        elif not d.past and _current(d) and _complete(d) and (about_title(d) or not title_names):
            # "X ha annunciato ieri di aver rilevato Y": a profile's news told in the body
            d.news = True
        elif d.cand.sent_index <= LEAD_SENTENCES and not d.past:
            if title_drafts:
                d.news = any(
                    same_company(d.target, t.target) and _compatible(d.deal_type, t.deal_type)
                    for t in title_drafts
                ) or (
                    # a second deal of the headline's company, stated in full in the lead
                    any(same_company(d.target, n) for n in title_names) and _complete(d)
                )
            elif title_names:
                d.news = about_title(d)
            else:
                # a headline without names: a round-up lists complete deals, otherwise the lead's first deal
                # (the first sentence, or a deal stated in full right after an opening line)
                d.news = (
                    (roundup and _complete(d))
                    or d.cand.sent_index <= 1
                    or (d.cand.sent_index <= NAMELESS_LEAD and _complete(d))
                )
    news = _drop_agreements_of_deals(_merge([d for d in drafts if d.news]))
    _listing_proceeds(news, drafts)
    news.sort(key=lambda d: (not d.cand.in_title, d.cand.sent_index))
    if listing:
        news = [d for d in news if _complete(d) or d.cand.in_title and d.figures.amount is None]
        news = news[:MAX_ROUNDUP_EVENTS]
    elif not title_drafts and not title_names:
        complete = [d for d in news if _complete(d)]
        current = [d for d in news if _current(d)]
        first = [headline_kind_deal] if headline_kind_deal in news else news[:1]
        news = (
            complete if roundup and len(complete) >= 2 else (first + [d for d in current if d not in first])
        )
    news = news[: MAX_ROUNDUP_EVENTS if listing else MAX_NEWS_EVENTS]
    kept = {id(d) for d in news}
    background = [d for d in drafts if id(d) not in kept and not any(d in n.merged for n in news)]
    background = [
        d
        for d in background
        if not any(same_company(d.target, n.target) and _compatible(d.deal_type, n.deal_type) for n in news)
    ]
    return news + _merge_background(background)


HEADLINE_KIND_REACH = 12  # body sentences within which a nameless headline's kind of deal is told


def _first_of_headline_kind(doc: Doc, drafts: list[Draft]) -> Draft | None:
    """The body's first full deal of the kind a nameless headline names, or of the figure it gives
    ("Cybersecurity, colpo da 40 milioni nel Nord Est")."""
    t_end = title_end(doc)
    title_chars = doc[:t_end].end_char if t_end else 0
    figures = [a.value for a in doc._.dr_amounts if a.start < title_chars]
    for d in sorted(drafts, key=lambda d: d.cand.sent_index):
        amount = d.figures.amount
        if (
            figures
            and amount
            and not d.cand.in_title
            and not d.past
            and d.cand.sent_index <= HEADLINE_KIND_REACH
            and _complete(d)
            and any(abs(amount - f) <= 0.05 * f for f in figures)
        ):
            return d
    kinds = {
        t.label_
        for t in doc.spans["deal_trigger"]
        # "otto debutti", "le acquisizioni del mese": a plural counts deals, it announces none
        if t.start < t_end and t.label_ != "generic" and not _plural_in_headline(t)
    }
    for d in sorted(drafts, key=lambda d: d.cand.sent_index):
        if (
            not d.cand.in_title
            and not d.past
            and d.cand.sent_index <= HEADLINE_KIND_REACH
            and _complete(d)
            and any(_compatible(d.deal_type, k) for k in kinds)
        ):
            return d
    return None


def _plural_in_headline(trig: Span) -> bool:
    """ "otto debutti", "Le IPO del 2025", "26 IPO": a headline counting deals announces none."""
    if trig.text.lower().endswith("i"):
        return True
    prev = trig.doc[trig.start - 1] if trig.start > 0 else None
    return prev is not None and (prev.like_num or prev.lower_ in {"le", "i", "gli", "delle", "dei", "degli"})


_ROUNDUP_WORDS = frozenset(
    [
        "operazioni",
        "acquisizioni",
        "fusioni",
        "investimenti",
        "finanziamenti",
        "deal",
        "affari",
        "shopping",
        "round-up",
        "settimana",
    ]
)


_COUNT_WORDS = frozenset(
    ["due", "tre", "quattro", "cinque", "sei", "sette", "otto", "nove", "dieci", "i", "le"]
)
_COUNTED_DEALS = frozenset(
    ["round", "operazioni", "acquisizioni", "deal", "fusioni", "investimenti", "startup", "colpi", "accordi"]
)
_CURRENT = re.compile(
    r"\b(ieri|oggi|stamattina|stamane|in giornata|questa settimana|nelle ultime ore|ha annunciato|"
    r"hanno annunciato|annuncia|annunciano|lunedì|martedì|mercoledì|giovedì|venerdì|sabato|domenica)\b",
    re.I,
)


def _counts_deals(title: Span) -> bool:
    """ "I round della settimana", "Tre operazioni in una settimana", "Le acquisizioni del mese"."""
    words = [t.lower_ for t in title]
    for k, w in enumerate(words[:-1]):
        nxt = words[k + 1]
        if nxt not in _COUNTED_DEALS:
            continue
        if w in _COUNT_WORDS and (w not in {"i", "le"} or _PERIOD.search(title.text)):
            return True
        if w.isdigit() and nxt != "round":
            return True
    return False


_PERIOD = re.compile(
    r"\b(della settimana|del mese|dell'anno|della giornata|del giorno|settimanal\w*)\b", re.I
)


_DATED = re.compile(r"\b(nel|dal|del|a \w+|in \w+|entro il|fine) (19|20)\d\d\b", re.I)


def _current(d: Draft) -> bool:
    """A deal told as today's: "ieri", "oggi", "ha annunciato", a weekday; "Nel 2021 X ha annunciato..."
    dates it, and a profile's dated deals are history."""
    if _DATED.search(text_of(d.cand.sent)):
        return False
    return _CURRENT.search(text_of(clause_of(d.cand.trigger, d.cand.sent))) is not None or bool(
        _CURRENT.search(text_of(d.cand.sent)[:40])
    )


def _complete(d: Draft) -> bool:
    """Both sides named, or a named target with its amount: a deal stated in full, not an allusion."""
    return d.target is not None and (d.acquirer is not None or d.figures.amount is not None)


def _drop_agreements_of_deals(news: list[Draft]) -> list[Draft]:
    """ "X rileva Y ... X ha firmato l'accordo con Y": the agreement is the deal's own, no partnership."""
    deals = [d for d in news if d.deal_type != "partnership" and d.acquirer and d.target]
    kept = []
    for p in news:
        pair = (p.acquirer, p.target)
        owner = next((d for d in deals if _same_pair(d, pair)), None)
        if p.deal_type == "partnership" and owner is not None:
            owner.merged.append(p)
        else:
            kept.append(p)
    return kept


def _listing_proceeds(news: list[Draft], drafts: list[Draft]) -> None:
    """ "Ieri il debutto ... Il giorno prima c'era stata l'IPO, con cui X aveva incassato 519 milioni": a
    listing's proceeds are told in the past of its first trading day."""
    for ipo in [d for d in news if d.deal_type == "ipo" and d.figures.amount is None]:
        for d in drafts:
            if (
                d.past
                and d.deal_type == "funding_round"
                and d.cand.sent_index <= LEAD_SENTENCES
                and same_company(d.target, ipo.target)
                and d.figures.amount is not None
                and any(
                    t.label_ == "ipo"
                    for t in d.cand.sent.doc.spans["deal_trigger"]
                    if _inside(t, d.cand.sent)
                )
            ):
                ipo.figures.amount, ipo.figures.currency = d.figures.amount, d.figures.currency
                ipo.merged.append(d)
                break


def _inside(span: Span, sent: Span) -> bool:
    return sent.start <= span.start < sent.end


def _same_pair(d: Draft, names: tuple[str | None, str | None]) -> bool:
    return any(same_company(d.acquirer, n) for n in names) and any(same_company(d.target, n) for n in names)


def _merge(drafts: list[Draft]) -> list[Draft]:
    """One event per (target, compatible type): a round told investor by investor becomes one round."""
    out: list[Draft] = []
    for d in sorted(drafts, key=lambda d: (not d.cand.in_title, d.cand.sent_index)):
        host = next(
            (o for o in out if same_company(o.target, d.target) and _compatible(o.deal_type, d.deal_type)),
            None,
        )
        if host is None:
            out.append(d)
            continue
        host.merged.append(d)
        _absorb(host, d)
    return out


def _absorb(host: Draft, other: Draft) -> None:
    stake = host.figures.stake_pct is not None or other.figures.stake_pct is not None
    if "ipo" in {host.deal_type, other.deal_type}:
        host.deal_type, host.acquirer = "ipo", None  # an IPO's proceeds are no funding round
    elif host.deal_type == "investment" and other.deal_type == "funding_round" and not stake:
        # "l'ingresso di X in Y" told as Y's round: one round, X among its investors
        host.deal_type = "funding_round"
        if host.acquirer and host.acquirer not in host.parties:
            host.parties.append(host.acquirer)
        host.acquirer = other.acquirer
    elif (
        host.deal_type == "funding_round"
        and other.deal_type == "investment"
        or (
            host.deal_type == other.deal_type == "investment"
            and not stake  # "X, attraverso il suo fondo Y, acquista il 5%": one stake, named twice
            and host.acquirer
            and other.acquirer
            and not same_company(host.acquirer, other.acquirer)
        )
    ):
        host.deal_type = "funding_round"
        if (
            host.acquirer
            and not same_company(host.acquirer, other.acquirer)
            and other.deal_type == "investment"
        ):
            host.acquirer = None
    host.parties = _unique(host.parties + other.parties)
    if (
        host.acquirer is None
        and other.acquirer
        and (host.deal_type != "funding_round" or other.deal_type == host.deal_type)
    ):
        host.acquirer = other.acquirer  # the round's lead investor, named in the lead sentence
    hf, of = host.figures, other.figures
    if hf.amount is None and of.amount is not None:
        hf.amount, hf.currency = of.amount, of.currency
    elif hf.amount and of.amount and abs(hf.amount - of.amount) <= 0.15 * hf.amount and host.cand.in_title:
        # the headline rounds the figure the body states exactly
        hf.amount, hf.currency = of.amount, of.currency or hf.currency
    if hf.stake_pct is None:
        hf.stake_pct = of.stake_pct
    if hf.valuation is None:
        hf.valuation, hf.valuation_currency = of.valuation, of.valuation_currency
    if not host.status_explicit and other.status_explicit:
        # headlines rarely say "rumoured" or "completed": the lead sentence does
        host.status, host.status_explicit = other.status, True


def _merge_background(drafts: list[Draft]) -> list[Draft]:
    out: list[Draft] = []
    for d in drafts:
        if not any(same_company(o.target, d.target) and o.deal_type == d.deal_type for o in out):
            out.append(d)
    return out


def to_event(doc: Doc, d: Draft) -> DealEvent:
    f = d.figures
    if d.deal_type == "acquisition" and f.amount is None and f.valuation is not None and not f.stake_pct:
        # buying the whole company: what the offer values it at is what the deal is worth ("l'offerta
        # valorizza X 210 milioni", "la valutazione discussa è di 300 milioni")
        f.amount, f.currency = f.valuation, f.valuation_currency
    if d.cand.in_title and f.amount:
        exact = _exact_body_figure(doc, f.amount)
        if exact is not None:
            f.amount, f.currency = exact.value, exact.currency or f.currency
    currency = f.currency if f.amount is not None else f.valuation_currency
    if (f.amount is not None or f.valuation is not None) and currency is None:
        currency = (
            _same_figure_currency(doc, f.amount or f.valuation)
            or _sentence_currency(doc, d.cand.sent)
            or "EUR"  # an Italian article that gives a figure without currency means euro
        )
    flags: list[str] = []
    if f.amount and f.stake_pct and f.valuation and 0 < f.stake_pct < 100:
        implied = f.amount / (f.stake_pct / 100)
        # 14.8 bn for 49 % implies 30.2 bn: a stated 28 bn is 8 % off, beyond rounding of news figures
        if abs(implied - f.valuation) > VALUATION_TOLERANCE * f.valuation:
            flags.append("inconsistent_valuation")
    conf = 0.45
    conf += 0.3 if d.cand.in_title else 0.15 if d.cand.sent_index <= 2 else 0.05
    conf += 0.1 if d.acquirer else 0.0
    conf += 0.05 if f.amount is not None else 0.0
    conf += 0.05 if d.cand.target and d.cand.target.label in {"ORG_KNOWN", "ORG_CUE"} else 0.0
    background = not d.news
    if background:
        conf *= 0.6
    parties = _unique([n for n in (d.acquirer, d.target) if n] + d.parties)
    return DealEvent(
        deal_type=d.deal_type,  # type: ignore[arg-type]
        acquirer=d.acquirer,
        target=d.target,
        parties=parties,
        amount=f.amount,
        currency=currency,
        stake_pct=f.stake_pct,
        valuation=f.valuation,
        status=d.status,  # type: ignore[arg-type]
        evidence=" ".join(text_of(d.cand.sent).split()),
        confidence=round(min(conf, 0.99), 2),
        background=background,
        flags=flags,
    )


def _exact_body_figure(doc: Doc, rounded: float):
    """The body's exact figure for a headline's round one ("15 miliardi" -> "14,8 miliardi di dollari")."""
    if _significant_digits(rounded) > 2:
        return None
    title_chars = doc[: title_end(doc)].end_char if title_end(doc) else 0
    close = [
        a
        for a in doc._.dr_amounts
        if a.start >= title_chars
        and a.scaled
        and not a.per_share
        and a.value != rounded
        and abs(a.value - rounded) <= 0.05 * rounded
        and _significant_digits(a.value) > _significant_digits(rounded)
    ]
    return close[0] if close else None


def _significant_digits(value: float) -> int:
    return len(f"{value:.6g}".split("e")[0].replace(".", "").replace("-", "").strip("0"))


def _sentence_currency(doc: Doc, sent: Span) -> str | None:
    stated = [a.currency for a in _amounts_in(doc, sent) if a.currency]
    return stated[0] if stated else None


def _same_figure_currency(doc: Doc, value: float | None) -> str | None:
    """The currency stated elsewhere for the same figure ("7,3 milioni" here, "7,3 milioni di euro" there)."""
    if value is None:
        return None
    for a in doc._.dr_amounts:
        if a.currency and abs(a.value - value) <= 0.01 * value:
            return a.currency
    return None


_DEFINITE = frozenset({"l'", "il", "lo", "la", "i", "gli", "le", "questa", "questo", "tale", "quest'"})


def _body_sentences(doc: Doc) -> list[tuple[int, Span]]:
    """(lead index, sentence) of the body; headings keep the index of the sentence before them."""
    t_end = title_end(doc)
    title_key = lx.fold(text_of(doc[:t_end]))
    out, index = [], 0
    for sent in doc.sents:
        sent_text = text_of(sent)
        if sent.start < t_end or not sent_text.strip() or lx.repeats_title(sent_text, title_key):
            continue
        if lx.is_page_furniture(sent_text):
            continue
        if alphabetic_words(sent) >= 4:
            index += 1
        out.append((index, sent))
    return out


def _anaphoric(trig: Span, sent: Span) -> bool:
    """ "L'operazione vale...", "Il round è guidato da...": a definite deal noun opening the sentence."""
    head = [t.lower_ for t in sent.doc[sent.start : trig.start] if not t.is_space]
    return 0 < len(head) <= 2 and head[0] in _DEFINITE


def fill_from_lead(doc: Doc, selected: list[Draft], drafts: list[Draft]) -> None:
    """Figures the headline leaves out are often in a lead sentence that names no company
    ("L'operazione vale 17 miliardi", "A guidare il round è il fondo X"): borrow them for the news event
    from lead sentences that continue its own sentence, name its companies, or refer back to it."""
    news = [d for d in selected if d.news]
    if not news:
        return
    triggers = [t for t in doc.spans["deal_trigger"]] if "deal_trigger" in doc.spans else []
    orgs = list(doc.spans["org"]) if "org" in doc.spans else []
    draft_sents = {x.cand.sent.start for x in drafts}
    body = _body_sentences(doc)
    for i, (index, sent) in enumerate(body):
        own_sents = {x.cand.sent.start for d in news for x in [d, *d.merged]}
        follows_news = i > 0 and body[i - 1][1].start in own_sents
        sent_triggers = [t for t in triggers if sent.start <= t.start < sent.end]
        # "L'esborso massimo per X ... è pari a 36 milioni": a bid's total price often comes further down
        price = index <= HEADLINE_KIND_REACH and any(t.text.lower() in _PRICE_NOUNS for t in sent_triggers)
        if index > LEAD_SENTENCES + 1 and not follows_news and not price:
            continue  # past the lead only a sentence right after a news deal's own still tells it
        round_words = any(t.label_ == "funding_round" for t in sent_triggers)
        round_words = round_words or "lead investor" in text_of(sent).lower()
        if round_words or any(t.lemma_ == "guidare" for t in sent):
            # the lead of this round, not of another round the article also tells (a round-up, an earlier
            # seed); "Lo ha guidato X" with no round word only right after the round's own sentence
            view = SentenceView(sent, orgs)
            rounds = [d for d in news if _tells_round(d, sent, body, i, view)]
            _name_round_lead(rounds if len(news) > 1 or not round_words else news, view)
        if not sent_triggers or sent.start in draft_sents:
            continue  # no deal word, or a sentence with a deal of its own
        view = SentenceView(sent, orgs)
        for d in news:
            own = {x.cand.sent.start for x in [d, *d.merged]}
            trig = next(
                (
                    t
                    for t in sent_triggers
                    if t.label_ == "generic"
                    or _compatible(t.label_, d.deal_type)
                    # "L'accordo (40 milioni, in contanti) prevede...": the agreement of the article's deal
                    or t.label_ == "partnership"
                    and _anaphoric(t, sent)
                ),
                None,
            )
            if trig is None:
                continue
            if index > LEAD_SENTENCES + 1 and not follows_news and d.figures.amount is not None:
                continue
            follows = (i == 0 and d.cand.in_title) or (i > 0 and body[i - 1][1].start in own)
            mentions = any(
                same_company(o.text, d.target) or same_company(o.text, d.acquirer) for o in view.orgs
            )
            # "Un nuovo round da 68 milioni...": in the lead, a nameless sentence of the same kind of deal
            # tells the news deal's missing figure
            same_kind = trig.label_ == d.deal_type and d.figures.amount is None and not view.orgs
            if follows or mentions or same_kind or _anaphoric(trig, sent):
                _borrow(doc, d, Candidate(d.deal_type, trig, sent), view)


def _tells_round(d: Draft, sent: Span, body: list[tuple[int, Span]], i: int, view: SentenceView) -> bool:
    """Whether a sentence is about the round d: its own sentence, the one right after, or one naming it."""
    own = {x.cand.sent.start for x in [d, *d.merged]}
    if sent.start in own or (i > 0 and body[i - 1][1].start in own) or (i == 0 and d.cand.in_title):
        return True
    return any(same_company(o.text, d.target) for o in view.orgs)


def _name_round_lead(news: list[Draft], view: SentenceView) -> None:
    """ "A guidare il round è X", "il lead investor X": the article's round gets its lead investor."""
    for d in news:
        if d.deal_type != "funding_round" or d.acquirer is not None:
            continue
        lead = _lead_investor(view)
        if lead is not None and not same_company(lead.text, d.target):
            d.acquirer = clean_name(lead)
            d.parties = _unique([*d.parties, d.acquirer])


_PRICE_NOUNS = frozenset({"esborso", "controvalore", "corrispettivo"})
_COMPLETION_NOUNS = frozenset({"closing", "perfezionamento"})


def _borrow(doc: Doc, d: Draft, probe: Candidate, view: SentenceView) -> None:
    f = sentence_figures(doc, probe)
    co_investors = [
        o for o in view.orgs if not same_company(o.text, d.target) and not same_company(o.text, d.acquirer)
    ]
    if (
        d.deal_type == "investment"
        and d.figures.stake_pct is None
        and f.stake_pct is None
        and len(co_investors) >= 2
        and probe.trigger.label_ in {"investment", "funding_round"}
    ):
        # "Tencent entra in Satispay ... ad aderire all'investimento da 93 milioni anche Tim, Lgt e Square":
        # several investors putting money in together make the company's round
        d.deal_type = "funding_round"
        d.parties = _unique([*d.parties, *(clean_name(o) for o in co_investors)])
        d.acquirer = None
    if d.figures.amount is None and f.amount is not None:
        d.figures.amount, d.figures.currency = f.amount, f.currency
    if (
        d.figures.stake_pct is None
        and f.stake_pct is not None
        and d.deal_type in {"acquisition", "investment"}
    ):
        d.figures.stake_pct = f.stake_pct
    if (
        d.figures.valuation is None
        and f.valuation is not None
        and d.deal_type in {"funding_round", "ipo", "investment", "acquisition"}
    ):
        d.figures.valuation, d.figures.valuation_currency = f.valuation, f.valuation_currency
    if d.deal_type == "funding_round" and d.acquirer is None:
        lead = _lead_investor(view)
        if lead is not None and not same_company(lead.text, d.target):
            d.acquirer = clean_name(lead)
            d.parties = _unique([*d.parties, d.acquirer])
    text = text_of(probe.sent)
    # "Il closing è già avvenuto": a completion told after the deal sentence
    same_kind = probe.trigger.label_ != "generic" or probe.trigger.text.lower() in _COMPLETION_NOUNS
    if same_kind and not d.status_explicit and (_rumored(text, strong_only=True) or _completed(text)):
        d.status, d.status_explicit = _status(text, d.deal_type), True


def acronym_aliases(doc: Doc) -> dict[str, str]:
    """ "Saudi Arabian Military Industries (Sami)": the short form, folded, -> the full name."""
    out: dict[str, str] = {}
    for org in doc.spans.get("org", []):
        end = org.end
        if len(org) < 2 or end + 2 >= len(doc) or doc[end].text != "(" or doc[end + 2].text != ")":
            continue
        short = doc[end + 1].text
        words = [t.text for t in org if t.text[:1].isupper()]
        initials = "".join(w[0] for w in words).lower()
        if short[:1].isupper() and 2 <= len(short) <= 8 and short.lower() == initials:
            out[lx.fold(short)] = clean_name(org)
    return out


def _expand_acronyms(d: Draft, aliases: dict[str, str]) -> None:
    """Names are written as the article first writes them: the full name, not the acronym after it."""
    if not aliases:
        return
    d.acquirer = aliases.get(lx.fold(d.acquirer), d.acquirer) if d.acquirer else d.acquirer
    d.target = aliases.get(lx.fold(d.target), d.target) if d.target else d.target
    d.parties = _unique([aliases.get(lx.fold(p), p) for p in d.parties])


def doc_events(doc: Doc) -> list[DealEvent]:
    drafts = find_drafts(doc)
    if not drafts:
        return []
    aliases = acronym_aliases(doc)
    for d in drafts:
        _expand_acronyms(d, aliases)
    selected = select_news(doc, drafts)
    fill_from_lead(doc, selected, drafts)
    return [to_event(doc, d) for d in selected]
