"""Lazy librosa import with an install hint."""

from __future__ import annotations

from typing import Any


def librosa() -> Any:
    try:
        import librosa as _librosa
    except ImportError as exc:
        from crossaug import MissingDependency

        raise MissingDependency("pip install 'crossaug-audio[librosa]' (or backend='sox')",
                                what="librosa") from exc
    return _librosa
