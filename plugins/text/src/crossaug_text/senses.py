"""Part of speech and word sense of a word in context, for code-switching.

A word is switched only in the sense its lexicon entry (or sense table) translates:
spaCy's universal POS tag of the token picks the WordNet part of speech (``NOUN``
and ``PROPN`` -> ``n``, ``VERB`` -> ``v``, ``ADJ`` -> ``a``/``s``, ``ADV`` -> ``r``;
other tags are never switched), then :func:`choose_sense` picks one of the word's
WordNet senses of that part of speech:

* ``"lesk"`` (default): simplified Lesk (Kilgarriff and Rosenzweig, 2000): the sense
  whose gloss, examples and lemma names (its own and its hypernyms') share the most
  content words with the sentence, when it shares at least ``MIN_OVERLAP`` (2) and
  more than the most frequent sense; otherwise the most frequent sense (WordNet's
  first of that part of speech). One shared word is too weak a signal ("two" in
  "two cats" would pick the caterpillar tractor);
* ``"mfs"``: the most frequent sense (WordNet's first) of that part of speech.

Culture Mixup itself does not say how it disambiguates; both are ours.

Example:
    >>> from crossaug_text.resources import wordnet
    >>> choose_sense(wordnet(), "bank", "n", "he sat on the bank of the river fishing").name()
    'bank.n.01'
    >>> choose_sense(wordnet(), "bank", "n", "deposit money in the bank", method="mfs").name()
    'bank.n.01'
    >>> wordnet_pos("VERB"), wordnet_pos("DET")
    ('v', None)
"""

from __future__ import annotations

import functools
import re
from typing import Any

from .stopwords import is_stop_word

#: spaCy universal POS -> WordNet part of speech.
UPOS_TO_WN = {"NOUN": "n", "PROPN": "n", "VERB": "v", "ADJ": "a", "ADV": "r"}
METHODS = ("lesk", "mfs")
MIN_OVERLAP = 2
_WORD = re.compile(r"[a-z]+")


def wordnet_pos(upos: str) -> str | None:
    """WordNet part of speech of a spaCy universal POS tag (``None``: not a content word)."""
    return UPOS_TO_WN.get(upos)


def synset_pos(name: str) -> str | None:
    """The part of speech of a synset name (``"cat.n.01"`` -> ``"n"``; satellites ``s`` -> ``a``)."""
    parts = name.rsplit(".", 2)
    if len(parts) != 3 or parts[1] not in "nvasr":
        return None
    return "a" if parts[1] == "s" else parts[1]


def _content(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower().replace("_", " ")) if not is_stop_word(w) and len(w) > 1}


@functools.lru_cache(maxsize=16384)
def _signature(syn: Any) -> frozenset[str]:
    """The content words of a synset's gloss, examples, lemmas and hypernyms' glosses and lemmas, once
    per synset (NLTK synsets hash and compare by name, whichever thread's reader made them)."""
    words = _content(syn.definition() + " " + " ".join(syn.examples()) + " " + " ".join(syn.lemma_names()))
    for h in syn.hypernyms():
        words |= _content(h.definition() + " " + " ".join(h.lemma_names()))
    return frozenset(words)


def candidate_senses(wn: Any, word: str, pos: str) -> list[Any]:
    """WordNet senses of ``word`` (any inflection) with part of speech ``pos``, most frequent first."""
    found = wn.synsets(word.lower(), pos="a" if pos == "s" else pos)
    if pos in ("a", "s"):
        found = [s for s in found if s.pos() in ("a", "s")] or found
    return found


def choose_sense(wn: Any, word: str, pos: str, context: str, method: str = "lesk") -> Any | None:
    """The sense of ``word`` (part of speech ``pos``) in the sentence ``context``; ``None`` if it has none."""
    senses = candidate_senses(wn, word, pos)
    if not senses:
        return None
    if method == "mfs":
        return senses[0]
    if method != "lesk":
        raise ValueError(f"unknown sense method {method!r}; expected one of {METHODS}")
    ctx = _content(context) - {word.lower()} - {x.lower() for x in senses[0].lemma_names()}
    best, best_score = senses[0], len(ctx & _signature(senses[0]))
    for syn in senses[1:]:  # strict > keeps WordNet's (frequency) order on ties
        score = len(ctx & _signature(syn))
        if score > best_score and score >= MIN_OVERLAP:
            best, best_score = syn, score
    return best


__all__ = ["wordnet_pos", "synset_pos", "candidate_senses", "choose_sense", "UPOS_TO_WN", "METHODS", "MIN_OVERLAP"]
