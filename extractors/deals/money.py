"""Italian money, number and percentage parsing for the deal extractor.

Plain functions over text (no spaCy needed):

- `parse_number(token)`: one number written the Italian way ("14,8", "1.200.000", "venti") -> float.
- `find_amounts(text, default_currency=None)`: money amounts ("14,8 miliardi di dollari", "€ 70 mln",
  "500mila euro", "$2 billion") with value in units, ISO 4217 currency and flags.
- `find_percentages(text)`: "il 49%", "quota del 5,7 per cento", "la metà del capitale".
- `infer_currency(amounts, fallback=None)`: the currency an article's bare figures most likely use.

and a spaCy component `dealradar_money_v1` that stores the same results on a `Doc`.

Behaviour decisions the extractor relies on (each one is tested):

- What counts as an amount: a number with a currency (prefix "€ 70", suffix "70 euro", "1,1B$"), or a
  number with a scale of a million or more ("15 miliardi", "3 mln", "2 billion") even without currency
  (then `currency` is None, or `default_currency` with `currency_inferred=True`). A bare number ("26 IPO",
  "nel 2022") and a bare thousands figure ("500mila abitanti") are not amounts. A scaled figure followed
  by "di <count noun>" ("250 milioni di utenti", "3 milioni di azioni") or by "gli/i/le <count noun>"
  ("15 milioni gli utenti") is a count, not money; "di <money noun>" ("340 milioni di finanziamenti",
  "di ricavi", "di obiettivo") stays an amount. Compact scales ("70B", "5M", "400k") count only next to a
  currency ("1,1B$", "$40M", "400k€"). "Euro 10.000.000,00" (notarial) is EUR; "Euro 6", "Euro 2024" are
  not money. Vague quantities ("decine di milioni", "centinaia di milioni") are not amounts; "un paio di
  miliardi" (2e9) and "una decina di milioni" (1e7) are, with `approx=True`.
- Ranges: "tra 2 e 3 milioni", "tra i 10 e i 15 milioni di euro", "10-15 milioni" give ONE Amount whose
  `value` is the lower bound, `high` the upper bound, `approx=True`; its span covers the whole range.
  "da 10 a 15 milioni" and "10 e 15 milioni" (without tra/fra) give TWO Amounts (often a change from one
  figure to another, or two figures listed); the first one borrows the scale and currency of the second.
- "un miliardo e 200 milioni" is one Amount (1.2e9); "un miliardo e mezzo" is 1.5e9; "un milione e
  duecentomila euro" is 1.2e6; "superiore al miliardo di dollari" is 1e9.
- Number words: uno..diciannove, venti..novanta and compounds (ventuno, trentotto), cento, duecento..,
  mille, duemila.., mezzo ("mezzo miliardo"); a word counts only with a scale or currency ("sei milioni",
  not "sei").
- English forms: "$2 billion", "USD 300 million", "€1.5bn", "$300m", "EUR1.5bn", "1,1B$", "610M$".
- `approx` is True after "oltre", "circa", "quasi", "più di", "fino a", "intorno ai", "almeno", "sui",
  "superiore a", "over", "about", ... and before "circa"/"abbondanti"; "da 260 milioni" and
  "per 1,5 miliardi" are exact. Modifiers are not part of the span.
- `per_share` is True for "1,60 euro per azione", "a 3 euro ad azione", "prezzo per azione di 2 euro": a
  share price is never a deal amount. Other prices ("costa 999 euro") are plain Amounts (`scaled=False`).
- Currencies: euro/EUR/€ -> EUR; dollari/$/USD/"dollari USA" -> USD (C$ / "dollari canadesi" -> CAD ...);
  sterline/£ -> GBP; franchi (svizzeri) -> CHF; yen/¥ -> JPY; yuan/renminbi -> CNY; rupie -> INR; corone
  -> SEK/NOK/DKK only with "svedesi"/"norvegesi"/"danesi", else None; lire -> ITL (historic), "lire
  turche" -> TRY. A prefix currency wins over a suffix one.
- Percentages: "49%", "49 %", "5,7 per cento", "cinquanta per cento", ranges "10-15%" / "tra il 10 e il
  15%" give two Percentages. Fractions count only with a capital-like noun: "la metà del capitale" -> 50,
  "un terzo delle azioni" -> 33.33. "punti percentuali" are not percentages.
- Values are always finite and >= 0 (a leading minus sign is not part of the figure).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from .document import text_of

__all__ = [
    "Amount",
    "Percentage",
    "MoneyComponent",
    "find_amounts",
    "find_percentages",
    "infer_currency",
    "parse_number",
    "MONEY_KEY",
    "PERCENT_KEY",
]


@dataclass(frozen=True)
class Amount:
    """A money amount found in a text.

    start, end: character offsets in the text (`text[start:end] == self.text`); the span runs from the
    first figure (or prefix currency) to the scale/currency word and excludes modifiers like "oltre".
    value: the amount in units ("15 miliardi" -> 15e9); for a range the lower bound.
    currency: ISO 4217 code, or None when none is stated (and no default_currency was given).
    approx: the text qualifies the figure ("oltre", "circa", "quasi", "fino a", a range ...).
    text: the matched text.
    per_share: a price per share ("1,60 euro per azione"): never a deal amount.
    high: upper bound of a range ("tra 2 e 3 milioni" -> value 2e6, high 3e6), else None.
    scaled: a scale word was present (milioni, miliardi, mln, bn ...): a deal-sized figure, not a price.
    currency_inferred: the currency was not stated next to the figure but taken from default_currency.
    """

    start: int
    end: int
    value: float
    currency: str | None
    approx: bool
    text: str
    per_share: bool = False
    high: float | None = None
    scaled: bool = False
    currency_inferred: bool = False


@dataclass(frozen=True)
class Percentage:
    """A percentage: `value` in percent (0-100 for shares, can exceed 100 for growth)."""

    start: int
    end: int
    value: float
    text: str


# --------------------------------------------------------------------------------------------------
# Number words ("venti", "duecentocinquanta", "tremila", "mezzo")

_UNITS = {
    "uno": 1,
    "un": 1,
    "una": 1,
    "due": 2,
    "tre": 3,
    "tré": 3,
    "quattro": 4,
    "cinque": 5,
    "sei": 6,
    "sette": 7,
    "otto": 8,
    "nove": 9,
}
_TEENS = {
    "dieci": 10,
    "undici": 11,
    "dodici": 12,
    "tredici": 13,
    "quattordici": 14,
    "quindici": 15,
    "sedici": 16,
    "diciassette": 17,
    "diciotto": 18,
    "diciannove": 19,
}
# Tens lose their final vowel before "uno"/"otto" (ventuno, trentotto): both forms are listed.
_TENS = {
    "venti": 20,
    "vent": 20,
    "trenta": 30,
    "trent": 30,
    "quaranta": 40,
    "quarant": 40,
    "cinquanta": 50,
    "cinquant": 50,
    "sessanta": 60,
    "sessant": 60,
    "settanta": 70,
    "settant": 70,
    "ottanta": 80,
    "ottant": 80,
    "novanta": 90,
    "novant": 90,
}
_MORPHEMES = sorted(
    [*_UNITS, *_TEENS, *_TENS, "cento", "cent", "mille", "mila", "mezzo"], key=len, reverse=True
)
_WORDNUM = r"(?:" + "|".join(_MORPHEMES) + r")+"


def _below_hundred(word: str) -> int | None:
    if word == "":
        return 0
    if word in _UNITS:
        return _UNITS[word]
    if word in _TEENS:
        return _TEENS[word]
    for tens, value in _TENS.items():
        if word.startswith(tens):
            rest = word[len(tens) :]
            if rest == "":
                return value
            if rest in _UNITS and rest not in ("un", "una"):
                return value + _UNITS[rest]
            if rest == "tre" or rest == "tré":
                return value + 3
    return None


def _below_thousand(word: str) -> int | None:
    idx = word.find("cent")
    if idx < 0:
        return _below_hundred(word)
    head, tail = word[:idx], word[idx + 4 :]
    tail = tail[1:] if tail.startswith("o") else tail  # "cento" / "cent" before "ottanta"
    hundreds = 1 if head == "" else _below_hundred(head)
    rest = _below_hundred(tail)
    if hundreds is None or rest is None or hundreds == 0 or hundreds > 9:
        return None
    return hundreds * 100 + rest


def words_to_number(word: str) -> float | None:
    """Italian number word -> value ("venti" 20, "duecentocinquanta" 250, "tremila" 3000, "mezzo" 0.5)."""
    word = word.lower()
    if word == "mezzo":
        return 0.5
    if word.startswith("mille"):
        rest = _below_thousand(word[5:])
        return None if rest is None else 1000.0 + rest
    idx = word.find("mila")
    if idx >= 0:
        thousands = _below_thousand(word[:idx])
        rest = _below_thousand(word[idx + 4 :])
        if thousands is None or rest is None or thousands < 2:
            return None
        return float(thousands * 1000 + rest)
    value = _below_thousand(word)
    return None if value is None else float(value)


# --------------------------------------------------------------------------------------------------
# parse_number

_DIGITS_ONLY = re.compile(r"[0-9]+")
_IT_GROUPED = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?")
_EN_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_APOS_GROUPED = re.compile(r"[0-9]{1,3}(?:['’][0-9]{3})+(?:[.,][0-9]+)?")
_DECIMAL = re.compile(r"[0-9]*[.,][0-9]+")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def parse_number(token: str) -> float | None:
    """Parse one number written the Italian way; None when the token is not a number.

    "14,8" -> 14.8; "1.200.000" -> 1200000; "1.200" -> 1200 (a dot before exactly three digits groups
    thousands); "1.5" -> 1.5 (English decimal, common in "€1.5bn"); "1.200,50" -> 1200.5;
    "1,200,000" -> 1200000 (English grouping, two or more groups); "1,200" -> 1.2 (Italian decimal);
    "1'200'000" -> 1200000 (Swiss); number words "venti" -> 20, "duecento" -> 200. Never raises;
    never returns inf/nan or a negative number (a sign is not accepted).
    """
    if not isinstance(token, str):
        return None
    token = token.strip().replace("\u00a0", "").replace("\u202f", "")
    if not token or len(token) > 60:
        return None
    try:
        if _DIGITS_ONLY.fullmatch(token):
            return _finite(float(token))
        if _IT_GROUPED.fullmatch(token):
            return _finite(float(token.replace(".", "").replace(",", ".")))
        if _EN_GROUPED.fullmatch(token) and (token.count(",") >= 2 or "." in token):
            return _finite(float(token.replace(",", "")))
        if _APOS_GROUPED.fullmatch(token):
            return _finite(float(re.sub(r"['’]", "", token).replace(",", ".")))
        if _DECIMAL.fullmatch(token):
            return _finite(float(token.replace(",", ".")))
    except ValueError:
        return None
    if token.isalpha():
        return words_to_number(token)
    return None


# --------------------------------------------------------------------------------------------------
# Regexes (compiled once)

_NUM_DIGITS = (
    r"[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?"  # 1.200.000 / 1.200,5
    r"|[0-9]{1,3}(?:,[0-9]{3}){2,}(?:\.[0-9]+)?"  # 1,200,000
    r"|[0-9]{1,3}(?:,[0-9]{3})+\.[0-9]+"  # 1,200.50
    r"|[0-9]{1,3}(?:['’][0-9]{3})+"  # 1'200'000
    r"|[0-9]+(?:[.,][0-9]+)?"
)
_VAGUE = {
    "un paio": 2,
    "una decina": 10,
    "una ventina": 20,
    "una trentina": 30,
    "una quarantina": 40,
    "una cinquantina": 50,
    "un centinaio": 100,
}
_VAGUE_RE = (
    r"(?:un\s+paio|una\s+(?:decina|ventina|trentina|quarantina|cinquantina)|un\s+centinaio)"
    r"\s+d(?:i\s+|['’]\s?)"
)

_SCALES = {
    "miliardi": 1e9,
    "miliardo": 1e9,
    "mld": 1e9,
    "mldi": 1e9,
    "mrd": 1e9,
    "billion": 1e9,
    "billions": 1e9,
    "bn": 1e9,
    "milioni": 1e6,
    "milione": 1e6,
    "mln": 1e6,
    "mio": 1e6,
    "million": 1e6,
    "millions": 1e6,
    "mn": 1e6,
    "mila": 1e3,
    "thousand": 1e3,
    "trilioni": 1e12,
    "trilione": 1e12,
    "trillion": 1e12,
    "trillions": 1e12,
    "bilioni": 1e12,
    "bilione": 1e12,
}
_COMPACT_SCALES = {"B": 1e9, "b": 1e9, "M": 1e6, "m": 1e6, "K": 1e3, "k": 1e3}
_SCALE_WORD_RE = (
    r"miliard[oi]|mldi|mld|mrd|billions?|bn|milion[ei]|mln|mio|millions?|mn|mila|thousand"
    r"|trilion[ei]|trillions?|bilion[ei]"
)

_PREFIX_CURRENCY = {
    "€": "EUR",
    "$": "USD",
    "us$": "USD",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "c$": "CAD",
    "a$": "AUD",
    "hk$": "HKD",
    "s$": "SGD",
    "chf": "CHF",
    "fr.": "CHF",
}
_ISO_CODES = (
    "EUR",
    "USD",
    "GBP",
    "CHF",
    "JPY",
    "CNY",
    "INR",
    "SEK",
    "NOK",
    "DKK",
    "CAD",
    "AUD",
    "HKD",
    "SGD",
    "RUB",
    "PLN",
    "KRW",
    "BRL",
    "TRY",
    "ILS",
    "CZK",
    "HUF",
    "NZD",
    "ZAR",
    "MXN",
    "AED",
    "SAR",
)
# Codes may touch the figure ("EUR1.5bn"); "Usd"/"Eur" appear in Italian copy; the word "euro" before a
# figure is the notarial style ("Euro 10.000.000,00") and is checked in _atoms (not "Euro 6", "Euro 2024").
_PREFIX_RE = (
    r"(?:US\$|HK\$|C\$|A\$|S\$|[€$£¥₹]"
    r"|(?<![A-Za-z])(?:" + "|".join(_ISO_CODES) + r"|(?i:usd|eur|chf|gbp))(?![A-Za-z])"
    r"|(?<![\w])(?i:euro)(?=[ \u00a0]+[0-9]))"
)

# Suffix currency words -> ISO; None means "money but the currency is ambiguous".
_SUFFIX_CURRENCY: dict[str, str | None] = {
    "euro": "EUR",
    "eur": "EUR",
    "euros": "EUR",
    "€": "EUR",
    "dollari": "USD",
    "dollaro": "USD",
    "dollars": "USD",
    "dollar": "USD",
    "usd": "USD",
    "$": "USD",
    "us$": "USD",
    "sterline": "GBP",
    "sterlina": "GBP",
    "pounds": "GBP",
    "pound": "GBP",
    "gbp": "GBP",
    "£": "GBP",
    "franchi": "CHF",
    "franco": "CHF",
    "chf": "CHF",
    "yen": "JPY",
    "jpy": "JPY",
    "¥": "JPY",
    "yuan": "CNY",
    "renminbi": "CNY",
    "rmb": "CNY",
    "cny": "CNY",
    "rupie": "INR",
    "rupia": "INR",
    "rupees": "INR",
    "inr": "INR",
    "₹": "INR",
    "corone": None,
    "corona": None,
    "rubli": "RUB",
    "rublo": "RUB",
    "zloty": "PLN",
    "won": "KRW",
    "reais": "BRL",
    "shekel": "ILS",
    "lire": "ITL",
    "lira": "ITL",
    "fiorini": "HUF",
}

# Qualifiers after a currency word that change or confirm it ("dollari canadesi", "corone svedesi").
_QUALIFIED = {
    ("USD", "canadesi"): "CAD",
    ("USD", "australiani"): "AUD",
    ("USD", "neozelandesi"): "NZD",
    ("USD", "taiwanesi"): "TWD",
    ("USD", "di hong kong"): "HKD",
    ("USD", "di singapore"): "SGD",
    (None, "svedesi"): "SEK",
    (None, "norvegesi"): "NOK",
    (None, "danesi"): "DKK",
    (None, "ceche"): "CZK",
    ("ITL", "turche"): "TRY",
    ("INR", "indonesiane"): "IDR",
    ("INR", "pakistane"): "PKR",
    ("GBP", "egiziane"): "EGP",
}
_QUALIFIER_RE = (
    r"usa|americani|statunitensi|us|canadesi|australiani|neozelandesi|taiwanesi|di\s+hong\s+kong"
    r"|di\s+singapore|svizzeri|svedesi|norvegesi|danesi|ceche|inglesi|britanniche|turche|indiane"
    r"|indonesiane|pakistane|egiziane|cinesi|giapponesi|russi"
)
_SUFFIX_WORDS = sorted((k for k in _SUFFIX_CURRENCY if k[0].isalpha()), key=len, reverse=True)
_SUFFIX_RE = (
    r"(?:(?:di|d['’])[ \u00a0]?)?"
    r"(?P<scur>(?i:" + "|".join(_SUFFIX_WORDS) + r")(?![\w])"
    r"|(?:" + "|".join(_ISO_CODES) + r")(?![\w])"  # codes only in capitals: "try", "sek" are words
    r"|US\$|[€$£¥₹])"
    r"(?:[ \u00a0]+(?P<qual>(?i:" + _QUALIFIER_RE + r"))(?![\w]))?"
)

_SP = r"[ \t\u00a0\u202f]"
_AMOUNT_RE = re.compile(
    r"(?:(?P<pcur>" + _PREFIX_RE + r")" + _SP + r"{0,2})?"
    r"(?:(?P<vague>(?i:" + _VAGUE_RE + r"))"
    r"|(?(pcur)|(?<![\w.,]))(?P<num>" + _NUM_DIGITS + r")(?![.,]?[0-9])"
    r"|(?<![\w])(?P<word>(?i:" + _WORDNUM + r"))(?![\w])"
    r"|(?P<bare>)(?=(?i:milione|miliardo)\b))"
    r"(?:(?P<cscale>[BMKbmk]|bn)(?![\w])"
    r"|" + _SP + r"{0,2}(?P<scale>(?i:" + _SCALE_WORD_RE + r"))(?![\w])"
    r"(?:\.(?=" + _SP + r"*(?i:di\b|d['’])))?)?"  # "mln. di euro": the dot of an abbreviation
    r"(?P<half>" + _SP + r"+(?i:e)" + _SP + r"+(?i:mezzo)(?![\w]))?"
    r"(?:" + _SP + r"{0,2}" + _SUFFIX_RE + r")?"
)

_ARTICLE_BEFORE_SINGULAR = re.compile(
    r"(?i:\b(?:il|al|del|dal|nel|sul|col|oltre\s+il|quasi\s+il|circa\s+il))" + _SP + r"+$"
)
_APPROX_BEFORE = re.compile(
    r"(?i:\b(?:oltre|circa|quasi|almeno|sopra|sotto|ben\s+oltre|più\s+di|piu['’]?\s+di|più\s+d['’]|"
    r"meno\s+di|poco\s+più\s+di|poco\s+meno\s+di|fino\s+a[dil]?|fino\s+agli|intorno\s+a(?:i|gli|l|d)?|"
    r"attorno\s+a(?:i|gli|l)?|superiore\s+a(?:i|gli|l)?|inferiore\s+a(?:i|gli|l)?|sui|sugli|"
    r"[nd]ell['’]ordine\s+d(?:i|ei|egli|el)|ammontare\s+stimato\s+di|stimat[oi]\s+in|"
    r"over|about|around|nearly|almost|up\s+to|approximately|roughly|some|more\s+than|less\s+than))"
    r"(?:" + _SP + r"+(?i:i|gli|il|lo|la|le)|" + _SP + r"*['’])?" + _SP + r"*$"
)
_APPROX_AFTER = re.compile(
    r"(?i:" + _SP + r"*,?" + _SP + r"*(?:circa|abbondanti|e\s+oltre|o\s+più|or\s+more|scarsi)\b)"
    r"(?!" + _SP + r"*(?:[0-9€$£]|il\b|i\b|l['’]))"  # "e oltre 3 milioni" qualifies the next figure
)
_PER_SHARE_AFTER = re.compile(
    r"(?i:" + _SP + r"*(?:(?:per|a|ad)\s+(?:ciascuna\s+|ogni\s+|singola\s+)?"
    r"(?:azion[ei]|titol[oi]|share|ads)\b"
    r"|cadauna\b|a\s+testa\s+per\s+azione))"
)
_PER_SHARE_BEFORE = re.compile(
    r"(?i:(?:per|ad|a|ciascuna)\s+(?:azione|titolo|share)|prezzo\s+unitario|share\s+price)"
    r"(?:\s+(?:di|pari\s+a|a|of|è|fissato\s+a|fissato\s+in))?" + _SP + r"*:?" + _SP + r"*$"
)
_RANGE_START_BEFORE = re.compile(
    r"(?i:\b(?:tra|fra|between))" + _SP + r"+(?:(?i:i|gli|il|l['’]|le)" + _SP + r"*)?$"
)
# A bare figure right before a scaled/currency figure, joined by a connector: "2 e 3 milioni", "10-15 mln".
_CONNECTOR = (
    _SP + r"*[-–]" + _SP + r"*"
    r"|" + _SP + r"+(?i:e|ed|o|a|ai|agli|al|and|to)" + _SP + r"+(?:(?i:i|gli|il|l['’]|le)" + _SP + r"*)?"
    r"|" + _SP + r"+(?i:e|a)" + _SP + r"*l['’]" + _SP + r"*"
)
_CONNECTOR_GAP = re.compile(_CONNECTOR)
_LINKED_BEFORE = re.compile(
    r"(?<![\w.,])(?P<num>" + _NUM_DIGITS + r"|(?i:" + _WORDNUM + r"))(?P<conn>" + _CONNECTOR + r")$"
)
_COMPOUND_GAP = re.compile(r"(?i:" + _SP + r"+e" + _SP + r"+)$")
_HYPHEN_WORD_BEFORE = re.compile(r"[^\W\d_]-$")
# "250 milioni di (nuovi) utenti" and "15 milioni gli utenti": the figure counts the noun that follows.
_COUNT_AFTER = re.compile(
    r"(?:" + _SP + r"*(?:di|d['’])" + _SP + r"*|" + _SP + r"+(?:gli|i|le)" + _SP + r"+)"
    r"(?:(?i:nuov[ie]|ulterior[ie]|altr[ie]|propr[ie]|potenzial[ie])" + _SP + r"+)?"
    r"(?P<noun>[a-zàèéìòù]+)"
)
# Nouns after "N milioni di ..." that still describe money ("340 milioni di finanziamenti").
_MONEY_NOUN_STEMS = (
    "finanz",
    "investiment",
    "ricav",
    "fatturat",
    "capital",
    "raccolt",
    "debit",
    "perdit",
    "utili",
    "utile",
    "valor",
    "contribut",
    "fond",
    "risors",
    "aiut",
    "liquidit",
    "cassa",
    "dividend",
    "asset",
    "ordin",
    "commess",
    "spes",
    "cost",
    "tass",
    "impost",
    "mult",
    "sanzion",
    "incentiv",
    "prestit",
    "bond",
    "obbligazion",
    "premi",
    "stipend",
    "compens",
    "riserv",
    "patrimon",
    "mass",
    "entrat",
    "uscit",
    "margin",
    "ebitda",
    "profitt",
    "guadagn",
    "vendit",
    "budget",
    "stanziament",
    "dotazion",
    "sovvenzion",
    "credit",
    "finanziament",
    "esborso",
    "cui",
    "quest",
    "tal",
    "euro",
    "dollar",
    "sterlin",
    "franch",
    "valut",
    "pagament",
    "indennizz",
    "risarciment",
    "rimbors",
    "acquist",
    "offert",
    "sconto",
    "rincar",
    "extra",
    "transazion",
    "affar",
    "operazion",
    "round",
    "seed",
    "venture",
    "equity",
    "deal",
    "obiettiv",
    "target",
    "tetto",
    "soglia",
    "importo",
    "controvalor",
    "corrispettiv",
    "prezz",
    "ammontar",
    "cifr",
    "somm",
    "plusvalenz",
    "minusvalenz",
    "svalutazion",
    "accantonament",
    "fluss",
    "cash",
    "capex",
    "ebit",
    "rosso",
    "passiv",
    "attiv",
    "deficit",
    "avanz",
    "rat",
    "canon",
    "affitt",
    "mutu",
    "garanzi",
    "commission",
    "fee",
    "royalt",
    "tariff",
    "bonus",
    "dote",
    "tesorett",
    "fattur",
    "riscatt",
    "scamb",
    "contant",
    "liquid",
    "denar",
    "soldi",
    "quattrin",
    "tranche",
    "finanziat",
    # time words: "10 milioni i primi giorni" still counts money
    "prim",
    "ultim",
    "prossim",
    "scors",
    "successiv",
    "precedent",
)

_PERCENT_RE = re.compile(
    r"(?<![\w.,])(?P<num>"
    + _NUM_DIGITS
    + r"|(?i:"
    + _WORDNUM
    + r"))(?![.,]?[0-9])"
    + _SP
    + r"?(?:%|(?i:per"
    + _SP
    + r"?cento|percento|percent|pct)(?![\w]))"
)
_FRACTION_RE = re.compile(
    r"(?i:\b(?P<frac>metà|un\s+terzo|due\s+terzi|un\s+quarto|tre\s+quarti))"
    r"(?=" + _SP + r"+(?i:del|della|delle|dei|degli|dell['’])" + _SP + r"*"
    r"(?i:capitale|azion|quot|societ|partecipazion|pacchett|titol|gruppo|aziend))"
)
_FRACTIONS = {"metà": 50.0, "un terzo": 100 / 3, "due terzi": 200 / 3, "un quarto": 25.0, "tre quarti": 75.0}

_WINDOW = 48


# --------------------------------------------------------------------------------------------------
# find_amounts


@dataclass
class _Atom:
    start: int
    end: int
    value: float
    scale: float
    currency: str | None
    has_currency: bool
    prefix_currency: bool
    suffix_currency: bool
    scaled: bool
    word: bool = False  # figure in words ("trecentomila"): may end "un milione e trecentomila"
    vague: bool = False  # "un paio di", "una decina di": approximate by wording


def _scale_of(match: re.Match[str]) -> float:
    if match.group("cscale"):
        return _COMPACT_SCALES.get(match.group("cscale"), _SCALES.get(match.group("cscale").lower(), 1.0))
    if match.group("scale"):
        return _SCALES.get(match.group("scale").lower().rstrip("."), 1.0)
    return 1.0


def _currency_of(match: re.Match[str]) -> tuple[str | None, bool, bool]:
    """-> (ISO code or None, prefix currency stated, suffix currency stated)."""
    pcur = match.group("pcur")
    if pcur:
        code = "EUR" if pcur.lower() == "euro" else _PREFIX_CURRENCY.get(pcur.lower(), pcur.upper())
        return code, True, bool(match.group("scur"))
    scur = match.group("scur")
    if not scur:
        return None, False, False
    code = scur if scur in _ISO_CODES else _SUFFIX_CURRENCY.get(scur.lower())
    qual = match.group("qual")
    if qual:
        qual_key = re.sub(r"\s+", " ", qual.lower())
        code = _QUALIFIED.get((code, qual_key), code)
    return code, False, True


def _notarial_euro_without_figure(match: re.Match[str]) -> bool:
    """ "Euro 6", "Euro 2024": the word euro before a plain integer is a standard or a tournament."""
    pcur = match.group("pcur")
    if not pcur or pcur.lower() != "euro" or match.group("scale") or match.group("cscale"):
        return False
    num = match.group("num") or ""
    return not any(sep in num for sep in ".,'’")


def _base_value(match: re.Match[str], text: str) -> float | None:
    if match.group("vague"):
        key = re.sub(r"\s+", " ", match.group("vague").lower())
        key = re.sub(r"\s+d(?:i|['’])\s*$", "", key).strip()
        return float(_VAGUE.get(key, 0)) or None
    if match.group("num"):
        return parse_number(match.group("num"))
    if match.group("word"):
        return words_to_number(match.group("word"))
    # empty number before "milione"/"miliardo": only after an article ("superiore al miliardo").
    before = text[max(0, match.start() - 20) : match.start()]
    return 1.0 if _ARTICLE_BEFORE_SINGULAR.search(before) else None


_SCALED_FIGURE = re.compile(r"\d[\d.,]*\s*(?:milion[ei]|miliard[oi]|mln|mld)\b", re.I)


_SECURITIES = ("azion", "titol", "obbligazion", "warrant")


def counts_shares(text: str) -> bool:
    """Whether a text counts shares with a big figure ("15,3 milioni di azioni"): then its figures without a
    currency ("1,76 milioni sono state offerte") count shares too. Only securities: "3 milioni di utenti ha
    raccolto 10 milioni" still raised money."""
    for m in _SCALED_FIGURE.finditer(text):
        after = _COUNT_AFTER.match(text, m.end(), min(len(text), m.end() + 60))
        if after and after.group("noun").startswith(_SECURITIES):
            return True
    return False


def _is_count(text: str, end: int) -> bool:
    after = _COUNT_AFTER.match(text, end, min(len(text), end + 60))
    if not after:
        return False
    noun = after.group("noun")
    return not noun.startswith(_MONEY_NOUN_STEMS)


def _atoms(text: str) -> Iterator[_Atom]:
    for match in _AMOUNT_RE.finditer(text):
        if match.end() == match.start():
            continue
        has_number = match.group("num") or match.group("word") or match.group("vague")
        scale = _scale_of(match)
        currency, prefix, suffix = _currency_of(match)
        if not has_number and not match.group("scale"):
            continue
        if match.group("cscale") and not (prefix or suffix):
            continue  # "70B" parameters, "4K" screens: compact scales count only next to a currency
        if _notarial_euro_without_figure(match):
            continue
        base = _base_value(match, text)
        if base is None:
            continue
        bare_word = bool(match.group("word")) and not (scale > 1 or prefix or suffix)
        if bare_word and base < 1000:
            continue  # "un", "sei", "otto" are ordinary words unless a scale/currency follows
        num_start = match.start("num")
        if match.group("num") and _HYPHEN_WORD_BEFORE.search(text, max(0, num_start - 2), num_start):
            continue  # "GPT-4", "COVID-19"
        if match.group("num") and not match.group("scale") and not match.group("cscale") and not suffix:
            following = text[match.end("num") : match.end("num") + 1]
            if following.isalpha():
                continue  # "4G", "3D", "10x"
        value = base + (0.5 if match.group("half") else 0.0)
        yield _Atom(
            start=match.start(),
            end=match.end(),
            value=value * scale,
            scale=scale,
            currency=currency,
            has_currency=prefix or suffix,
            prefix_currency=prefix,
            suffix_currency=suffix,
            scaled=scale >= 1e6,
            word=bool(match.group("word")),
            vague=bool(match.group("vague")),
        )


def _is_money(atom: _Atom, text: str) -> bool:
    if atom.has_currency:
        return True
    if atom.scale < 1e6:
        return False
    return not _is_count(text, atom.end)


def _is_year(value: float, token: str) -> bool:
    return token.isdigit() and len(token) == 4 and 1900 <= value <= 2100


def _word_tail(prev: _Atom, atom: _Atom) -> bool:
    """ "un milione e trecentomila": a figure in words smaller than one unit of the previous scale."""
    return atom.word and prev.scale >= 1e6 and 1e3 <= atom.value < prev.scale


def _merge_compounds(atoms: list[_Atom], text: str) -> list[_Atom]:
    """'un miliardo e 200 milioni' -> one atom of 1.2e9."""
    merged: list[_Atom] = []
    for atom in atoms:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and (prev.scale > atom.scale >= 1e3 or _word_tail(prev, atom))
            and not prev.suffix_currency
            and not atom.prefix_currency
            and _COMPOUND_GAP.fullmatch(text, prev.end, atom.start)
            and not _RANGE_START_BEFORE.search(text[max(0, prev.start - 20) : prev.start])
        ):
            merged[-1] = _Atom(
                start=prev.start,
                end=atom.end,
                value=prev.value + atom.value,
                scale=atom.scale,
                currency=prev.currency or atom.currency,
                has_currency=prev.has_currency or atom.has_currency,
                prefix_currency=prev.prefix_currency,
                suffix_currency=atom.suffix_currency,
                scaled=prev.scaled or atom.scaled,
                vague=prev.vague,
            )
            continue
        merged.append(atom)
    return merged


def _approx(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - _WINDOW) : start]
    after = _APPROX_AFTER.match(text, end, min(len(text), end + 24))
    return bool(_APPROX_BEFORE.search(before)) or bool(after)


def _per_share(text: str, start: int, end: int) -> bool:
    if _PER_SHARE_AFTER.match(text, end, min(len(text), end + 40)):
        return True
    return bool(_PER_SHARE_BEFORE.search(text[max(0, start - _WINDOW) : start]))


def _make_amount(
    text: str,
    start: int,
    end: int,
    value: float,
    atom: _Atom,
    default_currency: str | None,
    approx: bool = False,
    high: float | None = None,
) -> Amount | None:
    if not (math.isfinite(value) and value >= 0) or (high is not None and not math.isfinite(high)):
        return None
    currency, inferred = atom.currency, False
    if currency is None and default_currency and not atom.has_currency:
        currency, inferred = default_currency, True
    return Amount(
        start=start,
        end=end,
        value=value,
        currency=currency,
        approx=approx or atom.vague or _approx(text, start, end),
        text=text[start:end],
        per_share=_per_share(text, start, end),
        high=high,
        scaled=atom.scaled,
        currency_inferred=inferred,
    )


def _is_range(text: str, low_start: int, connector: str) -> bool:
    conn = connector.strip().lower()
    if conn in ("-", "–"):
        return True
    first = conn.split()[0] if conn.split() else conn
    before = text[max(0, low_start - 20) : low_start]
    return first in ("e", "ed", "and") and bool(_RANGE_START_BEFORE.search(before))


def _links(low: _Atom, high: _Atom, text: str) -> bool:
    """`low` is an incomplete first figure of `high`: "2 e 3 milioni", "€ 10-15 mln", "500mila e 1 mln"."""
    if low.suffix_currency or not _CONNECTOR_GAP.fullmatch(text, low.end, high.start):
        return False  # "5 euro e 3 milioni": a currency word closes the first figure
    if low.scale == 1 and low.value == int(low.value) and 1900 <= low.value <= 2100 and not low.has_currency:
        return False  # "nel 2019 e 3 milioni": a year, not a figure
    return low.scale == 1 or not low.has_currency


def _open_range(low: _Atom, high: _Atom, text: str) -> bool:
    """ "$30-34": a prefix currency and a hyphen make a range of two unscaled figures."""
    gap = text[low.end : high.start].strip()
    return low.prefix_currency and high.scale == 1 and gap in ("-", "–")


def _word_lower(text: str, atom: _Atom, floor: int) -> tuple[int, int, float, str] | None:
    """A number word joined to `atom` ("fra due e tre miliardi"): -> (start, end, value, connector)."""
    found = _LINKED_BEFORE.search(text, max(floor, atom.start - _WINDOW), atom.start)
    if not found or not found.group("num")[0].isalpha():
        return None
    number = words_to_number(found.group("num"))
    if number is None:
        return None
    return found.start(), found.end("num"), number * atom.scale, found.group("conn")


def _pair(
    text: str,
    low: tuple[int, int, float, str | None, bool],
    high: _Atom,
    connector: str,
    default_currency: str | None,
) -> list[Amount]:
    """Amounts for a linked pair: one range, or two figures sharing scale and currency."""
    low_start, low_end, low_value, low_currency, low_prefix = low
    currency = low_currency if low_currency else high.currency
    has_currency = high.has_currency or low_currency is not None
    shared = _Atom(
        high.start,
        high.end,
        high.value,
        high.scale,
        currency,
        has_currency,
        low_prefix,
        high.suffix_currency,
        high.scaled,
    )
    if _is_range(text, low_start, connector):
        made = _make_amount(text, low_start, high.end, low_value, shared, default_currency, True, high.value)
        return [made] if made else []
    first = _make_amount(text, low_start, low_end, low_value, shared, default_currency)
    second_atom = shared if high.currency is None else high
    second = _make_amount(text, high.start, high.end, high.value, second_atom, default_currency)
    return [a for a in (first, second) if a]


def find_amounts(text: str, default_currency: str | None = None) -> list[Amount]:
    """All money amounts in `text`, in text order (see the module docstring for the rules).

    default_currency: ISO code given to amounts that state none ("15 miliardi"); such amounts get
    `currency_inferred=True`. Never raises on any string; offsets always satisfy
    `text[a.start:a.end] == a.text`; values are finite and >= 0.
    """
    if not isinstance(text, str) or not text:
        return []
    atoms = _merge_compounds(list(_atoms(text)), text)
    amounts: list[Amount] = []
    floor = 0
    index = 0
    while index < len(atoms):
        atom = atoms[index]
        nxt = atoms[index + 1] if index + 1 < len(atoms) else None
        joined = nxt is not None and _links(atom, nxt, text)
        if joined and nxt is not None and (_is_money(nxt, text) or _open_range(atom, nxt, text)):
            low_value = atom.value * (nxt.scale if atom.scale == 1 else 1.0)
            low = (atom.start, atom.end, low_value, atom.currency, atom.prefix_currency)
            amounts.extend(_pair(text, low, nxt, text[atom.end : nxt.start], default_currency))
            floor = nxt.end
            index += 2
            continue
        index += 1
        if not _is_money(atom, text):
            continue
        word = _word_lower(text, atom, floor)
        if word is not None:
            start, end, value, connector = word
            amounts.extend(_pair(text, (start, end, value, None, False), atom, connector, default_currency))
        else:
            made = _make_amount(text, atom.start, atom.end, atom.value, atom, default_currency)
            if made:
                amounts.append(made)
        floor = atom.end
    return amounts


def infer_currency(amounts: Iterable[Amount], fallback: str | None = None) -> str | None:
    """The currency an article's bare figures most likely use: the one stated most often on scaled
    amounts (ties: the one stated first), else on any amount, else `fallback`.

    Use it as `find_amounts(text, default_currency=infer_currency(find_amounts(text), "EUR"))`.
    Per-share prices and inferred currencies do not count.
    """
    stated = [a for a in amounts if a.currency and not a.currency_inferred and not a.per_share]
    for pool in ([a for a in stated if a.scaled], stated):
        if pool:
            counts: dict[str, int] = {}
            for amount in pool:
                counts[amount.currency] = counts.get(amount.currency, 0) + 1  # type: ignore[index]
            best = max(counts.values())
            return next(a.currency for a in pool if counts[a.currency] == best)  # type: ignore[index]
    return fallback


# --------------------------------------------------------------------------------------------------
# find_percentages


def find_percentages(text: str) -> list[Percentage]:
    """All percentages in `text`, in text order: "49%", "5,7 per cento", "10-15%" (two), "la metà del
    capitale" (50). Never raises; offsets valid; values finite and >= 0."""
    if not isinstance(text, str) or not text:
        return []
    found: list[Percentage] = []
    floor = 0
    for match in _PERCENT_RE.finditer(text):
        raw = match.group("num")
        value = parse_number(raw)
        if value is None or _HYPHEN_WORD_BEFORE.search(text, max(0, match.start() - 2), match.start()):
            continue
        lower = _LINKED_BEFORE.search(text, max(floor, match.start() - _WINDOW), match.start())
        if lower is not None:
            low = parse_number(lower.group("num"))
            low_end = lower.start() + len(lower.group("num"))
            hyphen_word = _HYPHEN_WORD_BEFORE.search(text, max(0, lower.start() - 2), lower.start())
            if low is not None and not _is_year(low, lower.group("num")) and not hyphen_word:
                found.append(Percentage(lower.start(), low_end, low, text[lower.start() : low_end]))
        found.append(Percentage(match.start(), match.end(), value, match.group()))
        floor = match.end()
    for match in _FRACTION_RE.finditer(text):
        key = re.sub(r"\s+", " ", match.group("frac").lower())
        found.append(Percentage(match.start(), match.end(), _FRACTIONS[key], match.group()))
    found.sort(key=lambda p: p.start)
    return found


# --------------------------------------------------------------------------------------------------
# spaCy component

MONEY_KEY = "money"
PERCENT_KEY = "percent"
_USER_DATA_MONEY = "dealradar.money"
_USER_DATA_PERCENT = "dealradar.percent"


def _doc_amounts(doc: Doc) -> list[Amount]:
    return [Amount(**row) for row in doc.user_data.get(_USER_DATA_MONEY, [])]


def _doc_percentages(doc: Doc) -> list[Percentage]:
    return [Percentage(**row) for row in doc.user_data.get(_USER_DATA_PERCENT, [])]


def _span_lookup(span: Span, key: str, rows: list):
    group = span.doc.spans.get(key, [])
    for candidate, row in zip(group, rows, strict=False):
        if candidate.start == span.start and candidate.end == span.end:
            return row
    return None


def _register_extensions() -> None:
    if not Doc.has_extension("dr_amounts"):
        Doc.set_extension("dr_amounts", getter=_doc_amounts)
    if not Doc.has_extension("dr_percentages"):
        Doc.set_extension("dr_percentages", getter=_doc_percentages)
    if not Span.has_extension("dr_amount"):
        Span.set_extension(
            "dr_amount", getter=lambda span: _span_lookup(span, MONEY_KEY, _doc_amounts(span.doc))
        )
    if not Span.has_extension("dr_percentage"):
        Span.set_extension(
            "dr_percentage", getter=lambda span: _span_lookup(span, PERCENT_KEY, _doc_percentages(span.doc))
        )


# At import, so that Docs restored from bytes in another process can read them too.
_register_extensions()


class MoneyComponent:
    """Pipeline component: finds amounts and percentages in `doc.text`.

    Sets `doc.spans["money"]` / `doc.spans["percent"]` (token spans, expanded to token boundaries; label =
    ISO currency or "MONEY"; "PERCENT") and a parallel list of plain dicts in
    `doc.user_data["dealradar.money"]` / `["dealradar.percent"]` (serialisable with the Doc; i-th dict
    belongs to the i-th span). Read them as objects via `doc._.dr_amounts` / `doc._.dr_percentages`
    (lists of Amount / Percentage) or per span via `span._.dr_amount` / `span._.dr_percentage`.
    Amounts whose char span cannot be aligned to tokens are dropped from both lists (never happens with
    "expand" on a non-empty span, but stays safe).
    """

    def __init__(self, nlp: Language, name: str, default_currency: str | None = None) -> None:
        self.name = name
        self.default_currency = default_currency

    def __call__(self, doc: Doc) -> Doc:
        money_spans, money_rows = [], []
        text = text_of(doc)
        for amount in find_amounts(text, self.default_currency):
            span = doc.char_span(
                amount.start, amount.end, label=amount.currency or "MONEY", alignment_mode="expand"
            )
            if span is not None:
                money_spans.append(span)
                money_rows.append(asdict(amount))
        percent_spans, percent_rows = [], []
        for pct in find_percentages(text):
            span = doc.char_span(pct.start, pct.end, label="PERCENT", alignment_mode="expand")
            if span is not None:
                percent_spans.append(span)
                percent_rows.append(asdict(pct))
        doc.spans[MONEY_KEY] = money_spans
        doc.spans[PERCENT_KEY] = percent_spans
        doc.user_data[_USER_DATA_MONEY] = money_rows
        doc.user_data[_USER_DATA_PERCENT] = percent_rows
        return doc

    def pipe(self, stream: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for batch in minibatch(stream, size=batch_size):
            for doc in batch:
                yield self(doc)


@Language.factory("dealradar_money_v1", default_config={"default_currency": None})
def make_money_component(nlp: Language, name: str, default_currency: str | None) -> MoneyComponent:
    """spaCy factory: `nlp.add_pipe("dealradar_money_v1", config={"default_currency": "EUR"})`."""
    return MoneyComponent(nlp, name, default_currency)
