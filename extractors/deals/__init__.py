"""Italian deal-event extraction (spaCy rules): see pipeline.py for the pipeline and the public functions."""

from .pipeline import EXTRACTOR_VERSION, extract_deals, extract_jsonl, load_pipeline

__all__ = ["EXTRACTOR_VERSION", "extract_deals", "extract_jsonl", "load_pipeline"]
