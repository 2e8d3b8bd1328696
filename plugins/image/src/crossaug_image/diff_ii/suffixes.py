"""Prompt suffixes from captions of the training set (Diff-II, Sec. 3.3).

The paper captions every training image with a vision-language model and has a
large language model summarise *all* the captions of the dataset into a few
descriptions "a photo of a [metaclass] [suffix]"; every class then draws from the
same suffixes, so contexts seen in one class carry over to the others.

* :func:`summarise_dataset` does this over the whole dataset: with an LLM when one
  is named (``text.llm-rewrite``'s transformers models or plugged-in clients, see
  :func:`llm_summary`), else offline with :func:`dataset_context_phrases`
  (rule-based: the text after the class name or metaclass in each caption, most
  frequent across the dataset first).
* :func:`suffixes_for_class` is the per-class variant (ours, an option).
* A summariser of your own is an importable ``fn(captions, subject) -> list[str]``
  (``subject``: the metaclass for the dataset-wide summary, the label per class).

Example:
    >>> dataset_context_phrases({"persian cat": ["a persian cat sitting on a sofa", "a persian cat in the snow"],
    ...                          "siamese cat": ["a siamese cat in the snow"]}, metaclass="cat")
    ['in the snow', 'sitting on a sofa']
    >>> parse_summary("1. a photo of a bird standing on a branch.\\n- A photo of a bird in flight", "bird")
    ['standing on a branch', 'in flight']
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from crossaug import ConfigError
from crossaug.importing import import_callable

STOP = {"a", "an", "the", "of", "photo", "picture", "image", "and", "with"}
#: How many suffixes a dataset summary keeps (the paper: "a few"; its reference code asks for at most 10).
SUMMARY_LIMIT = 10
#: Captions shown to the LLM at most (ours: keeps the prompt within a model's context).
MAX_CAPTIONS = 200
#: The summarisation request sent to the LLM (ours, after the paper's description in Sec. 3.3).
SUMMARY_PROMPT = (
    "Below are captions of the images of a dataset of {metaclass} photos.\n{captions}\n"
    "Summarise the settings they show (scenes, actions, poses, viewpoints, backgrounds) into at most "
    "{limit} short, distinct descriptions, one per line, each of the form \"a photo of a {metaclass} ...\".")


def _names(label: Any) -> list[str]:
    items = [label] if isinstance(label, str) or not isinstance(label, Sequence) else list(label)
    names = [str(x).replace("_", " ").lower().strip() for x in items if x is not None]
    return sorted({n for n in names if n}, key=len, reverse=True)  # longest first: "persian cat" before "cat"


def _tail(caption: str, names: Sequence[str], max_words: int) -> str | None:
    text = " ".join(caption.lower().split())
    for name in names:
        idx = text.find(name)
        if idx >= 0:
            text = text[idx + len(name):]
            break
    text = re.sub(r"^[\s,.;:-]+|[\s,.;:-]+$", "", text)
    words = text.split()[:max_words]
    if not words or all(w in STOP for w in words):
        return None
    return " ".join(words)


def context_phrases(captions: Sequence[str], label: Any, max_words: int = 8) -> list[str]:
    """The text after the class name (``label``: a name or several) in each caption, deduplicated.

    Captions without any of the names keep their whole text.
    """
    names = _names(label)
    out: list[str] = []
    for cap in captions:
        phrase = _tail(cap, names, max_words)
        if phrase and phrase not in out:
            out.append(phrase)
    return out


def dataset_context_phrases(captions: Mapping[str, Sequence[str]], metaclass: str | None = None,
                            limit: int = SUMMARY_LIMIT, max_words: int = 8) -> list[str]:
    """Offline dataset-wide summary: context phrases of every class's captions, pooled.

    Each caption loses everything up to its own class name or the metaclass; the
    phrases are ranked by how many captions of the whole dataset give them (ties:
    first seen), so contexts shared across classes come first.
    """
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for label in captions:
        names = _names([label, metaclass])
        for cap in captions[label]:
            phrase = _tail(cap, names, max_words)
            if phrase:
                counts[phrase] += 1
                first.setdefault(phrase, len(first))
    ranked = sorted(counts, key=lambda p: (-counts[p], first[p]))
    return ranked[:limit]


def parse_summary(text: str, metaclass: str | None) -> list[str]:
    """Suffixes from an LLM's answer: one per line, without bullets and ``a photo of a [metaclass]``."""
    prefix = re.compile(r"^(?:an?\s+)?(?:photo|picture|image)\s+of\s+(?:an?\s+|the\s+)?"
                        + (re.escape(metaclass.lower()) + r"\b" if metaclass else r"\S+"), re.IGNORECASE)
    out: list[str] = []
    for line in text.splitlines():
        line = re.sub(r"^\s*(?:[-*\u2022]|\d+[.)])\s*", "", line).strip().strip("\"'")
        line = prefix.sub("", line, count=1)
        line = re.sub(r"^[\s,;:-]+|[\s,.;:-]+$", "", line)
        if line and not all(w.lower() in STOP for w in line.split()) and line not in out:
            out.append(line)
    return out


def summary_request(captions: Sequence[str], metaclass: str | None, limit: int = SUMMARY_LIMIT) -> str:
    """The full prompt asking an LLM to summarise ``captions`` (see :data:`SUMMARY_PROMPT`)."""
    listed = "\n".join(f"- {c}" for c in captions)
    return SUMMARY_PROMPT.format(metaclass=metaclass or "object", captions=listed, limit=limit)


def llm_summary(captions: Sequence[str], metaclass: str | None, llm: Mapping[str, Any], seed: int = 0,
                limit: int = SUMMARY_LIMIT, max_captions: int = MAX_CAPTIONS) -> list[str]:
    """Summarise ``captions`` with a language model through ``text.llm-rewrite`` (paper: GPT-4).

    ``llm`` holds ``text.llm-rewrite`` parameters: ``model`` (transformers id or
    directory) or ``client`` (a plugged-in LLM client), plus generation settings.
    At most ``max_captions`` captions (a seeded sample) go into the request.
    """
    import crossaug

    caps = list(captions)
    if len(caps) > max_captions:
        pick = np.random.default_rng(seed).choice(len(caps), size=max_captions, replace=False)
        caps = [caps[int(i)] for i in sorted(pick)]
    # the answer is a list, one phrase per line: no stop at the first newline (base causal LMs' default)
    params = {"max_new_tokens": 256, "stop": [], **dict(llm), "template": "{text}", "prompt": ""}
    rewriter = crossaug.create("augmentation", "text.llm-rewrite", **params)
    request = summary_request(caps, metaclass, limit)
    answer = rewriter.rewrite([request], [int(seed)])[0]
    if answer.strip() == request.strip():  # text.llm-rewrite hands back its input when the model says nothing
        return []
    return parse_summary(answer, metaclass)[:limit]


def get_summariser(name: str | None) -> Callable[[Sequence[str], Any], list[str]]:
    """The summariser named ``"module:function"`` (``None``: :func:`context_phrases`)."""
    return context_phrases if not name else import_callable(name, param="summariser")


def _clean(result: Any, limit: int) -> list[str]:
    return [str(s).strip() for s in result if str(s).strip()][:limit]


def summarise_dataset(captions: Mapping[str, Sequence[str]], metaclass: str | None = None,
                      summariser: str | None = None, llm: Mapping[str, Any] | None = None, seed: int = 0,
                      limit: int = SUMMARY_LIMIT) -> list[str]:
    """One suffix list for the whole dataset from ``{label: captions}`` (the paper's procedure).

    First of: a named ``summariser`` (called with all captions and the metaclass),
    an LLM (``llm``: ``text.llm-rewrite`` parameters), the offline
    :func:`dataset_context_phrases`.
    """
    if summariser:
        every = [c for label in captions for c in captions[label]]
        return _clean(get_summariser(summariser)(every, metaclass), limit)
    if llm:
        every = [c for label in captions for c in captions[label]]
        if not every:
            return []
        found = llm_summary(every, metaclass, llm, seed=seed, limit=limit)
        if not found:
            raise ConfigError("diff-ii: the language model's summary held no suffix lines; check its "
                              "answer with text.llm-rewrite, or give suffixes=[...]")
        return found
    return dataset_context_phrases(captions, metaclass, limit)


def suffixes_for_class(captions: Sequence[str], label: Any, summariser: str | None = None,
                       limit: int = 32) -> list[str]:
    """Per-class variant (ours): summarise one class's captions into at most ``limit`` suffixes."""
    return _clean(get_summariser(summariser)(list(captions), label), limit)


__all__ = ["context_phrases", "dataset_context_phrases", "parse_summary", "summary_request", "llm_summary",
           "get_summariser", "summarise_dataset", "suffixes_for_class", "SUMMARY_PROMPT", "SUMMARY_LIMIT",
           "MAX_CAPTIONS"]
