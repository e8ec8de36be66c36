"""The text the deal components read: headline + the opening of the body, built the same way for training
(`make train`) and for extraction, since a model only trusts text shaped like what it learned from.

Deals are told in the headline and the lead: the body is cut at `READ_CHARS` (the shared gold sets hold the
opening ~2,000 characters of each page; reading further costs time and adds background, not news).
"""

from __future__ import annotations

import re
from itertools import accumulate

from spacy.attrs import IS_ALPHA
from spacy.lang.it.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.tokens import Doc, Span

from . import lexicon

READ_CHARS = 6_000
MAX_TITLE_CHARS = 1_000
TITLE_END_KEY = "dealradar.title_end"
RULE_EVENTS_KEY = "dealradar.rule_events"  # doc.user_data: the rule extractor's events, as dicts
RULE_ORGS_KEY = "dealradar.rule_orgs"  # doc.user_data: organisation names the rules found
TEXT_KEY = "dealradar.text"  # doc.user_data: the Doc's text, joined once
ALPHA_KEY = "dealradar.alpha_counts"  # doc.user_data: alphabetic tokens before each token

_SITE_SUFFIX = re.compile(r"\s+[|–—-]\s+([^|–—-]{1,40})$")
# a line wrapped inside a sentence ("22,3 miliardi di\ndollari") is a space; offsets stay the same
_WRAPPED_LINE = re.compile(r"(?<=[\w,;])\n(?=[\w(])")
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


def strip_site_suffix(title: str) -> str:
    """ "Faro compra Scoglio - Il Post", "... | StartupItalia": the outlet's name is no party of the deal."""
    m = _SITE_SUFFIX.search(title)
    if m and len(m.group(1).split()) <= 4 and m.start() > 0:
        return title[: m.start()]
    return title


def clean_title(title: str | None) -> str:
    # "L’ok" -> "L'ok": the tokenizer splits elisions on the straight apostrophe only (offsets kept)
    title = strip_site_suffix(" ".join((title or "").split())[:MAX_TITLE_CHARS].replace("’", "'"))
    return _normalise_headline_case(title)


def clean_body(text: str | None) -> str:
    return _WRAPPED_LINE.sub(" ", (text or "")[:READ_CHARS].replace("’", "'"))


def article_text(title: str | None, text: str | None) -> tuple[str, int]:
    """(the text a Doc is made of, the character offset where the body starts; 0 without a headline)."""
    head, body = clean_title(title), clean_body(text)
    if not head:
        return body, 0
    return f"{head}\n\n{body}", len(head) + 2


def make_doc(nlp: Language, title: str | None, text: str | None) -> Doc:
    """One Doc for headline + the opening of the body; the headline's end is remembered (its own sentence)."""
    joined, body_start = article_text(title, text)
    doc = nlp.make_doc(joined)
    doc.user_data[TEXT_KEY] = joined
    doc.user_data[TITLE_END_KEY] = len(nlp.make_doc(joined[: body_start - 2])) if body_start else 0
    return doc


def text_of(part: Doc | Span) -> str:
    """`part.text`, cut from the Doc's text joined once: spaCy's `Doc.text` and `Span.text` join every
    token's text on each access (a tenth of extraction time, read per sentence and per figure)."""
    doc = part if isinstance(part, Doc) else part.doc
    text = doc.user_data.get(TEXT_KEY)
    if text is None:  # a Doc's text never changes (retokenizing keeps it), so it is joined once
        text = doc.user_data[TEXT_KEY] = doc.text
    return text if part is doc else text[part.start_char : part.end_char]


def alphabetic_words(span: Span) -> int:
    """How many of the span's tokens are words (`is_alpha`), from a running count made once per Doc."""
    doc = span.doc
    counts = doc.user_data.get(ALPHA_KEY)
    if counts is None:
        counts = doc.user_data[ALPHA_KEY] = [0, *accumulate(doc.to_array(IS_ALPHA).tolist())]
    return counts[span.end] - counts[span.start]
