"""Italian deal-event extraction: a trained spaCy pipeline with rule components (see pipeline.py)."""

from .spacy_import import import_spacy_without_cli

import_spacy_without_cli()  # before any spaCy import below: see spacy_import.py

from .pipeline import EXTRACTOR_VERSION, extract_deals, extract_jsonl, extract_rule_deals, load_pipeline  # noqa: E402

__all__ = ["EXTRACTOR_VERSION", "extract_deals", "extract_jsonl", "extract_rule_deals", "load_pipeline"]
