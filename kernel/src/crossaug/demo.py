"""``crossaug demo``: what it runs. Plugins provide theirs through the ``crossaug_demo`` hook.

The kernel's fallback runs character-level typo noise over a few bundled sentences
so the command works with the kernel alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any


@dataclass
class DemoSpec:
    """A recipe, its inputs and a one-line description of the demo."""

    recipe: Any
    inputs: Any
    description: str
    seed: int = 0
    workers: int = 1
    batch_size: int = 8


def bundled_sentences_path() -> Path:
    """Path of the kernel's small sentence file (public-domain English sentences)."""
    return Path(str(resources.files("crossaug") / "data" / "sentences.txt"))


def kernel_demo() -> DemoSpec:
    from .builtin.typo import Typo
    from .recipe import Augment

    return DemoSpec(Augment(Typo(rate=0.08), n=2), bundled_sentences_path(),
                    "kernel demo: keyboard-typo noise on bundled sentences "
                    "(install crossaug-audio for the back-speech demo)")
