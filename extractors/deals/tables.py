"""Knowledge kept as data: the table of deal words (`data/deal_words.tsv`).

The classifiers learn what each entry means for a role; these tables only group words.
"""

from __future__ import annotations

import unicodedata
from functools import cache, lru_cache
from pathlib import Path

HERE = Path(__file__).parent


def fold(text: str) -> str:
    """Lower case without accents: the form tables are looked up in."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _lines(path: Path) -> list[str]:
    return [
        ln.strip()
        for ln in path.read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    ]


@cache
def deal_words() -> dict[str, str]:
    """prefix -> family ("acquisi" -> "buy")."""
    return dict(line.split("\t", 1) for line in _lines(HERE / "data" / "deal_words.tsv"))


@cache
def _prefix_lengths() -> tuple[int, ...]:
    return tuple(sorted({len(p) for p in deal_words()}, reverse=True))


@lru_cache(maxsize=65_536)
def deal_family(word: str) -> str | None:
    """The family of a word by its longest listed beginning ("acquisizione" -> "buy"), else None."""
    w = fold(word)
    table = deal_words()
    for n in _prefix_lengths():
        if len(w) >= n and w[:n] in table:
            return table[w[:n]]
    return None
