"""Word lists the organisation and event rules consult: Italian vocabulary, first names, places, institutions.

The Italian vocabulary comes from spacy-lookups-data's lemma tables (word forms and lemmas, lower-cased).
It is large and includes many proper nouns (Milano, Leonardo, Apple), so the rules use it only where
capitalisation says nothing: the first word of a sentence or a headline.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import spacy_lookups_data
from spacy.lang.it.stop_words import STOP_WORDS
from spacy.strings import hash_string

DATA = Path(__file__).resolve().parent / "wordlists"
_LOOKUPS = Path(spacy_lookups_data.__file__).resolve().parent / "data"


def _read_list(name: str) -> tuple[str, ...]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return tuple(s.strip() for s in lines if s.strip() and not s.startswith("#"))


def _fold(text: str) -> str:
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(s.replace("’", "'").split())


# words and names are folded again and again (123k calls for 500 articles): those are remembered;
# sentences, folded a few times each, are not worth the memory
_REMEMBERED_LENGTH = 48
_fold_remembered = lru_cache(maxsize=16_384)(_fold)


def fold(text: str) -> str:
    """Lower-case, accents removed, spaces squeezed: the form every list is compared in."""
    return _fold_remembered(text) if len(text) <= _REMEMBERED_LENGTH else _fold(text)


def repeats_title(sentence: str, title_folded: str) -> bool:
    """Whether a body sentence is the page repeating its headline (most of it, not a word of it)."""
    s = fold(sentence)
    return bool(title_folded) and bool(s) and s in title_folded and len(s) >= 0.6 * len(title_folded)


class HashedWords:
    """A large, read-only set of words kept as a sorted array of 64-bit string hashes.

    A frozenset of the 430,000 Italian word forms costs about 80 MB per process; the hashes cost 3.4 MB.
    A false "yes" needs a 64-bit hash collision, which at this size is not a concern.
    """

    def __init__(self, words: Iterable[str]) -> None:
        self._hashes = np.unique(np.fromiter((hash_string(w) for w in words), dtype=np.uint64))

    @classmethod
    def from_array(cls, hashes: np.ndarray) -> HashedWords:
        if hashes.dtype != np.uint64 or hashes.ndim != 1:
            raise ValueError("not an array of word hashes")
        words = cls(())
        words._hashes = hashes
        return words

    def save(self, path: Path) -> None:
        """Write the hashes atomically; a cache that cannot be written is only a missed speed-up."""
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                np.save(f, self._hashes, allow_pickle=False)
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        key = np.uint64(hash_string(word))
        i = int(np.searchsorted(self._hashes, key))
        return i < len(self._hashes) and self._hashes[i] == key

    def __len__(self) -> int:
        return len(self._hashes)


_RELATED_LINK = (
    "leggi anche", "leggi pure", "vedi anche", "guarda anche", "potrebbe interessarti",
    "ti potrebbe interessare", "potrebbero interessarti", "articoli correlati", "articolo correlato",
    "approfondisci", "approfondimenti", "correlati", "per approfondire", "sullo stesso argomento",
    "continua a leggere", "ascolta anche", "scopri di piu", "iscriviti alla newsletter", "leggi l'articolo",
    "clicca qui",
)  # fmt: skip


def is_page_furniture(sentence: str) -> bool:
    """A related-article link or call to action of the page ("Leggi anche: X acquisisce Y"): another
    article's headline, never this article's news."""
    return fold(sentence.lstrip(" \t\n>»•-–—*|")).startswith(_RELATED_LINK)


VOCABULARY_FORMAT = 2  # bump when the words kept change: the cached array is rebuilt


@cache
def italian_vocabulary() -> HashedWords:
    """Every word form and lemma of spacy-lookups-data's Italian tables, lower-cased (about 430,000).

    Built once per machine and kept as a small .npy file in the cache folder: reading the tables takes a
    second and leaves ~40 MB of freed-but-held memory in every extraction process.
    """
    tables = sorted(_LOOKUPS.glob("it_lemma_lookup*.json.gz"))
    extra = sorted(fold(w) for w in _read_list("common_caps.txt")) + sorted(STOP_WORDS)
    recipe = [VOCABULARY_FORMAT, *([p.name, p.stat().st_size] for p in tables), *extra]
    cached = cache_file("it_vocabulary", recipe, ".npy")
    with contextlib.suppress(OSError, ValueError):
        return HashedWords.from_array(np.load(cached, allow_pickle=False))
    words: set[str] = set(extra)  # function words ("Ci sono", "I nuovi") are missing from the lemma tables
    for path in tables:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            table = json.load(f)
        words.update(k.lower() for k in table)
        words.update(v.lower() for v in table.values())
        # callers compare folded words ("Sanità" -> "sanita"): keep the accent-free forms too
        words.update(fold(k) for k in table)
        words.update(fold(v) for v in table.values())
        del table
    vocabulary = HashedWords(words)
    vocabulary.save(cached)
    return vocabulary


def cache_file(stem: str, recipe: list, suffix: str) -> Path:
    """Where a table built from `recipe` (source files, sizes, format version) is kept on this machine: a
    changed recipe names another file, so a stale build is never read. The folder is DEALRADAR_CACHE_DIR,
    else ~/.cache/dealradar."""
    key = hashlib.sha1(json.dumps(recipe).encode()).hexdigest()
    folder = Path(os.environ.get("DEALRADAR_CACHE_DIR") or Path.home() / ".cache" / "dealradar")
    return folder / f"{stem}-{key[:16]}{suffix}"


@cache
def first_names() -> frozenset[str]:
    return frozenset(fold(w) for w in _read_list("first_names.txt"))


@cache
def places() -> frozenset[str]:
    return frozenset(fold(w) for w in _read_list("places.txt"))


@cache
def institutions() -> frozenset[str]:
    return frozenset(fold(w) for w in _read_list("institutions.txt"))


@cache
def media_outlets() -> frozenset[str]:
    return frozenset(fold(w) for w in _read_list("media.txt"))


@cache
def common_caps() -> frozenset[str]:
    return frozenset(fold(w) for w in _read_list("common_caps.txt"))


# Words that end an organisation name and vouch for it ("R301 Capital", "Tim Ventures").
ORG_SUFFIXES = frozenset(
    [
        "spa",
        "s.p.a.",
        "srl",
        "s.r.l.",
        "inc",
        "inc.",
        "ltd",
        "llc",
        "plc",
        "ag",
        "gmbh",
        "corp",
        "sgr",
        "ventures",
        "venture",
        "capital",
        "partners",
        "bank",
        "banca",
        "group",
        "holding",
        "holdings",
        "technologies",
        "technology",
        "tech",
        "labs",
        "lab",
        "systems",
        "fund",
        "investments",
        "investment",
        "software",
        "solutions",
        "networks",
        "robotics",
        "energy",
        "pharma",
        "airlines",
        "motors",
        "industries",
        "sim",
    ]
)

# Words in front of a name that say it is an organisation ("la startup Yogitech", "il fondo Impulse").
ORG_CUES = frozenset(
    [
        "startup",
        "start-up",
        "scaleup",
        "società",
        "azienda",
        "gruppo",
        "fondo",
        "fondi",
        "banca",
        "colosso",
        "piattaforma",
        "fintech",
        "insurtech",
        "proptech",
        "app",
        "operatore",
        "compagnia",
        "big",
        "holding",
        "investitore",
        "investitori",
        "venture",
        "marchio",
        "brand",
        "produttore",
        "big-tech",
        "unicorno",
        "società-veicolo",
        "veicolo",
        "spac",
        "editore",
        "emittente",
    ]
)

# Words in front of a name that say it is a person ("il ceo Luca Ferrari").
PERSON_CUES = frozenset(
    [
        "ceo",
        "cto",
        "cfo",
        "ad",
        "fondatore",
        "fondatrice",
        "cofondatore",
        "cofondatrice",
        "co-fondatore",
        "co-founder",
        "founder",
        "presidente",
        "presidentessa",
        "amministratore",
        "direttore",
        "manager",
        "imprenditore",
        "imprenditrice",
        "avvocato",
        "dottor",
        "dott.",
        "ing.",
        "signor",
        "sindaco",
        "ministro",
        "ministra",
        "professore",
        "analista",
        "economista",
        "portavoce",
        "deputato",
        "senatore",
    ]
)

# Verbs and nouns that present a news source, not a party ("secondo Reuters", "riporta Bloomberg").
SOURCE_CUES = frozenset(
    ["secondo", "riporta", "riferisce", "scrive", "rivela", "riportato", "riferito", "fonte", "citando"]
)

# Generic nouns that head names ("Fondazione di Sardegna") but alone are common words ("il Gruppo").
GENERIC_HEADS = frozenset(
    [
        "gruppo",
        "fondazione",
        "consiglio",
        "progetto",
        "fondo",
        "società",
        "azienda",
        "banca",
        "cassa",
        "comitato",
        "associazione",
        "istituto",
        "agenzia",
        "ente",
        "consorzio",
        "camera",
        "prodotto",
        "premio",
        "piano",
        "programma",
        "rete",
        "sistema",
        "centro",
        "ufficio",
        "divisione",
    ]
)

# Simple and articulated prepositions, elided forms included: what may stand between a verb and a party.
PREPOSITIONS = frozenset(
    [
        "di",
        "del",
        "della",
        "dello",
        "dell'",
        "dei",
        "degli",
        "delle",
        "da",
        "dal",
        "dalla",
        "dallo",
        "dall'",
        "dai",
        "dagli",
        "in",
        "nel",
        "nella",
        "nello",
        "nell'",
        "nei",
        "negli",
        "a",
        "al",
        "alla",
        "allo",
        "all'",
        "ai",
        "agli",
        "con",
        "per",
        "su",
        "sul",
        "sulla",
        "tra",
        "fra",
    ]
)
