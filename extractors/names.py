"""Company names made comparable: the one normaliser the warehouse (clustering, trend views' keys) and the
alert rules (watchlists) use, and the deal extractor can use too.

"Satispay S.p.A.", "SATISPAY SpA" and "Satispay" are one company: accents, case, punctuation and a trailing
legal form do not count.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

# Legal forms dropped from the end of a name (Italian first, then the ones foreign buyers carry).
LEGAL_FORMS = frozenset(
    {"spa", "srl", "srls", "sapa", "sas", "snc", "sb", "scarl", "scrl", "coop", "inc", "incorporated", "ltd"}
    | {"limited", "llc", "llp", "plc", "gmbh", "ag", "sa", "sarl", "nv", "bv", "corp", "corporation", "co"}
    | {"kg", "oy", "ab", "as", "bhd", "pte", "sgr"}
)


# The same forms as written at the end of a name, for showing it without them ("Abaco3 S.p.A." -> "Abaco3").
LEGAL_FORM_TAIL = re.compile(
    r"[\s,]+(S\.p\.A\.?|S\.a\.p\.A\.?|S\.r\.l\.?(?:s\.?)?|S\.a\.s\.?|S\.n\.c\.?|SpA|Spa|Srl|Srls|Inc\.?|Ltd\.?|"
    r"LLC|Plc|AG|GmbH|Corp\.?|AB|NV|BV|Oy|ASA|SAS|SARL|S\.A\.?|SA|SE|SL|KG|Limited)$"
)


def without_legal_form(name: str) -> str:
    """The name as written, without a trailing legal form and the punctuation around it."""
    return LEGAL_FORM_TAIL.sub("", name).strip(" ,.")


@lru_cache(maxsize=100_000)
def normalise_name(name: str | None) -> str:
    """Comparable form of a company name: no accents, case, punctuation or trailing legal form.

    "Satispay S.p.A." -> "satispay"; "Società Cattolica, S.r.l." -> "societa cattolica"; "" for no name.
    """
    if not name:
        return ""
    # Decompose, case-fold, decompose again: both steps can produce what the other one changes.
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", name).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("&", " and ").replace(".", "")
    tokens = re.sub(r"[^\w]+", " ", text).split()
    while len(tokens) > 1 and tokens[-1] in LEGAL_FORMS:
        tokens.pop()
    return " ".join(tokens)


def name_tokens(name: str | None) -> tuple[str, ...]:
    """The words of the normalised name: ("societa", "elite") for "Società Ëlite S.p.A."."""
    return tuple(normalise_name(name).split())


def tokens_inside(ka: tuple[str, ...], kb: tuple[str, ...]) -> bool:
    """The shorter run of words occurs inside the longer one (both non-empty)."""
    if not ka or not kb:
        return False
    short, long_ = (ka, kb) if len(ka) <= len(kb) else (kb, ka)
    return any(long_[i : i + len(short)] == short for i in range(len(long_) - len(short) + 1))


def same_company(a: str | None, b: str | None) -> bool:
    """One name's words run inside the other's: "Intesa" and "Intesa Sanpaolo S.p.A." name one company."""
    return tokens_inside(name_tokens(a), name_tokens(b))


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"  # what `\w` matches in a str pattern


def written_at(text: str, name: str) -> Iterator[int]:
    r"""Where `name` is written in `text` as a whole word, as re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)")
    finds it, without compiling a pattern per name: the deal assigner asks it for every name of every
    article, which overflows re's cache of compiled patterns (4 % of extraction time)."""
    if not name:
        return
    at = text.find(name)
    while at >= 0:
        end = at + len(name)
        if not (at and _is_word_char(text[at - 1])) and not (end < len(text) and _is_word_char(text[end])):
            yield at
            at = text.find(name, end)
        else:
            at = text.find(name, at + 1)
