"""crossaug hooks of the text plugin: ``crossaug doctor`` reports its offline resources and backends.

Example:
    >>> names = [c.name for c in crossaug_doctor()]
    >>> "WordNet 3.0" in names and "python transformers" in names
    True
"""

from __future__ import annotations

import crossaug
from crossaug.doctor import Check, check_module

PLUGIN = "crossaug-text"


@crossaug.hookimpl
def crossaug_doctor() -> list[Check]:
    """WordNet, spaCy pipeline, KeNet, and the ``[llm]`` extra's packages."""
    from .resources import availability

    checks = [Check(name, ok, detail, hint, PLUGIN) for name, (ok, detail, hint) in availability().items()]
    for module in ("spacy", "transformers", "torch", "sentencepiece"):
        extra = "spacy" if module == "spacy" else "llm"
        checks.append(check_module(module, f"pip install 'crossaug-text[{extra}]'", PLUGIN))
    return checks
