"""The organisation recogniser on the article's lead only: the headline and the sentences up to `max_tokens`.

The deal an article reports, and the companies in it, are named at its top; the recogniser (tok2vec + ner,
40 % of extraction time on whole articles) reads that part and leaves the rest to the rule layer, which still
reads every sentence. On the training articles, each read by the fold recogniser that never saw it
(`benchmarks/crossval.py`, 3 halvings), the first 260 tokens lose nothing against whole articles (event F1
0.619 vs 0.617); 200 tokens lose 0.005.

The trained `tok2vec` and `ner` stay in the pipeline, disabled; this component runs them on the lead,
tokenized again as a Doc of its own (Doc.as_doc copies cost more), and writes the entities back beside any
set before it (known companies, configured aliases); where two overlap, the longer stays.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import filter_spans, minibatch

from .document import text_of

RECOGNISER = ("tok2vec", "ner")
LEAD_RECOGNISER = "dealradar_lead_ner_v1"


class LeadRecogniser:
    def __init__(self, nlp: Language, name: str, max_tokens: int):
        self.name = name
        self.nlp = nlp
        self.max_tokens = max_tokens

    def lead_end(self, doc: Doc) -> int:
        """The end of the sentence that holds token `max_tokens` (the whole Doc when it is shorter)."""
        if len(doc) <= self.max_tokens:
            return len(doc)
        return doc[self.max_tokens].sent.end if doc.has_annotation("SENT_START") else self.max_tokens

    def pipe(self, docs: Iterable[Doc], batch_size: int = 8) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size):
            ends = [self.lead_end(doc) for doc in batch]
            leads = [
                doc
                if end == len(doc)
                else self.nlp.make_doc(text_of(doc)[: doc[end - 1].idx + len(doc[end - 1])])
                for doc, end in zip(batch, ends, strict=True)
            ]
            for name in RECOGNISER:
                leads = list(self.nlp.get_pipe(name).pipe(leads, batch_size=batch_size))
            for doc, lead in zip(batch, leads, strict=True):
                if lead is not doc:
                    found = [doc.char_span(e.start_char, e.end_char, label=e.label) for e in lead.ents]
                    doc.ents = filter_spans(list(doc.ents) + [s for s in found if s is not None])
                yield doc

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))


LEAD_TOKENS = 260  # chosen on the cross-validation (module docstring)


@Language.factory(LEAD_RECOGNISER, default_config={"max_tokens": LEAD_TOKENS})
def make_lead_recogniser(nlp: Language, name: str, max_tokens: int) -> LeadRecogniser:
    return LeadRecogniser(nlp, name, max_tokens)


def read_lead_only(nlp: Language, max_tokens: int = LEAD_TOKENS) -> None:
    """Put the lead recogniser where tok2vec + ner were, and disable them (they stay loaded for it)."""
    nlp.add_pipe(LEAD_RECOGNISER, before=RECOGNISER[0], config={"max_tokens": max_tokens})
    for name in RECOGNISER:
        nlp.disable_pipe(name)
