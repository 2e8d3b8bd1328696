"""Reading datasets (JSONL, CSV, text files, folders, iterables, Hugging Face datasets)."""

from .datasets import RawRecord, iter_records, to_sample

__all__ = ["RawRecord", "iter_records", "to_sample"]
