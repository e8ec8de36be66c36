"""Lemmas by lookup in spacy-lookups-data's Italian table, kept compact.

spaCy's own lookup lemmatizer holds the table as a Python dict of 333,682 word forms: about 90 MB in every
process that loads the deal pipeline (each extraction worker). The same table here is three arrays (sorted
64-bit hashes of the forms, the index of each form's lemma, the 26,595 distinct lemmas): about 4 MB, built
once per machine into the cache folder. The lemmas are the ones spaCy's lookup mode gives: the form's entry
in the table, else the form itself.
"""

from __future__ import annotations

import contextlib
import os
from functools import cache
from pathlib import Path

import numpy as np
from spacy.attrs import LEMMA, ORTH
from spacy.language import Language
from spacy.strings import hash_string
from spacy.tokens import Doc

from .lexicon import cache_file

LEMMAS_FORMAT = 1  # bump when the arrays' layout changes: the cached file is rebuilt
_SEP = "\x00"


class LemmaTable:
    """form -> lemma, looked up by the form's string hash (a token's `orth`)."""

    def __init__(self, keys: np.ndarray, index: np.ndarray, lemmas: list[str]) -> None:
        self.keys, self.index, self.lemmas = keys, index, lemmas

    @classmethod
    def from_mapping(cls, table: dict[int, str]) -> LemmaTable:
        keys = np.fromiter(table.keys(), dtype=np.uint64, count=len(table))
        lemmas = sorted(set(table.values()))
        position = {lemma: i for i, lemma in enumerate(lemmas)}
        index = np.fromiter((position[v] for v in table.values()), dtype=np.uint32, count=len(table))
        order = np.argsort(keys)
        return cls(keys[order], index[order], lemmas)

    def get(self, word: str, default: str | None = None) -> str | None:
        key = np.uint64(hash_string(word))
        i = int(np.searchsorted(self.keys, key))
        if i < len(self.keys) and self.keys[i] == key:
            return self.lemmas[int(self.index[i])]
        return default

    def lemmas_of(self, orths: np.ndarray) -> list[str | None]:
        """The lemma of each token hash (None where the table has no entry), in one vectorised look-up."""
        at = np.minimum(np.searchsorted(self.keys, orths), len(self.keys) - 1)
        found = self.keys[at] == orths
        lemmas = self.lemmas
        return [lemmas[int(j)] if ok else None for j, ok in zip(self.index[at], found, strict=True)]

    def save(self, path: Path) -> None:
        """Write atomically; a cache that cannot be written is only a missed speed-up."""
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            joined = np.frombuffer(_SEP.join(self.lemmas).encode("utf-8"), dtype=np.uint8)
            with open(tmp, "wb") as f:
                np.savez(f, keys=self.keys, index=self.index, lemmas=joined)
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: Path) -> LemmaTable:
        with np.load(path, allow_pickle=False) as data:
            keys, index = data["keys"], data["index"]
            lemmas = data["lemmas"].tobytes().decode("utf-8").split(_SEP)
        if keys.dtype != np.uint64 or index.dtype != np.uint32 or len(keys) != len(index):
            raise ValueError(f"{path}: not a lemma table")
        return cls(keys, index, lemmas)


@cache
def lemma_table() -> LemmaTable:
    """The Italian lookup table spaCy's lemmatizer would load (spacy-lookups-data), compact, once per
    process; read from the cache folder after the first build on a machine."""
    import spacy_lookups_data

    source = Path(spacy_lookups_data.__file__).resolve().parent / "data" / "it_lemma_lookup.json.gz"
    recipe = [LEMMAS_FORMAT, spacy_lookups_data.__version__, source.name, source.stat().st_size]
    cached = cache_file("it_lemmas", recipe, ".npz")
    with contextlib.suppress(OSError, ValueError, KeyError):
        return LemmaTable.load(cached)
    from spacy.lookups import load_lookups

    lookups = load_lookups(lang="it", tables=["lemma_lookup"])
    table = LemmaTable.from_mapping(dict(lookups.get_table("lemma_lookup").items()))
    del lookups
    table.save(cached)
    return table


class LookupLemmatizer:
    """Sets each token's lemma from the table (spaCy's `lemmatizer` in lookup mode, same results): a
    token that already has a lemma keeps it; a form not in the table is its own lemma."""

    def __init__(self, nlp: Language, name: str):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        orths, lemmas = doc.to_array([ORTH, LEMMA]).T.copy()
        unset = np.flatnonzero(lemmas == 0)
        if len(unset):  # set as hashes in one call: a Token object per word costs more than the look-up
            strings = doc.vocab.strings
            found = lemma_table().lemmas_of(orths[unset])
            lemmas[unset] = [
                orth if lemma is None else strings.add(lemma)
                for orth, lemma in zip(orths[unset].tolist(), found, strict=True)
            ]
            doc.from_array([LEMMA], lemmas.reshape(-1, 1))
        return doc

    def pipe(self, docs, batch_size: int = 32):
        for doc in docs:
            yield self(doc)

    def initialize(self, get_examples=None, *, nlp=None) -> None:
        lemma_table()


@Language.factory("dealradar_lemmas_v1")
def make_lookup_lemmatizer(nlp: Language, name: str) -> LookupLemmatizer:
    return LookupLemmatizer(nlp, name)
