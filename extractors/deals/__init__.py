"""Italian deal-event extraction: a trained spaCy pipeline with rule components (see pipeline.py)."""

from .pipeline import EXTRACTOR_VERSION, extract_deals, extract_jsonl, extract_rule_deals, load_pipeline

__all__ = ["EXTRACTOR_VERSION", "extract_deals", "extract_jsonl", "extract_rule_deals", "load_pipeline"]
