"""Offline grapheme-to-phoneme for ARPAbet TTS models: CMU-dictionary lookup.

The Hugging Face FastSpeech2Conformer tokenizer phonemises with ``g2p_en``,
which downloads NLTK data on first use. This module is the offline fallback:
it looks words up in the CMU pronouncing dictionary shipped in the
``pocketsphinx`` wheel. That dictionary has no lexical stress, so vowels get
stress 1 on the first vowel of a word and 0 elsewhere (an approximation; see
the back-speech docs). Out-of-dictionary words are spelled letter by letter.

Example:
    >>> lex = {"a": ["AH"], "cat": ["K", "AE", "T"]}
    >>> arpabet_tokens("A cat.", lex, {"AH0", "AH1", "K", "AE1", "T", ".", " ", "EY1"})
    ['AH1', ' ', 'K', 'AE1', 'T', '.']
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Mapping
from pathlib import Path

VOWELS = {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"}
_LETTERS = {"a": "EY", "b": "B IY", "c": "S IY", "d": "D IY", "e": "IY", "f": "EH F", "g": "JH IY",
            "h": "EY CH", "i": "AY", "j": "JH EY", "k": "K EY", "l": "EH L", "m": "EH M", "n": "EH N",
            "o": "OW", "p": "P IY", "q": "K Y UW", "r": "AA R", "s": "EH S", "t": "T IY", "u": "Y UW",
            "v": "V IY", "w": "D AH B AH L Y UW", "x": "EH K S", "y": "W AY", "z": "Z IY"}
_TOKEN = re.compile(r"[a-z0-9']+|[.,?!]")


@functools.lru_cache(maxsize=4)
def load_cmudict(path: str) -> dict[str, list[str]]:
    """Read a CMU-style dictionary (``word PH ON ES``; ``word(2)`` alternatives skipped)."""
    lex: dict[str, list[str]] = {}
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if len(parts) < 2 or "(" in parts[0]:
            continue
        lex.setdefault(parts[0].lower(), parts[1:])
    return lex


def _stress(phones: list[str], vocab: Collection[str]) -> list[str]:
    out, first = [], True
    for ph in phones:
        base = ph.rstrip("012")
        if base in VOWELS:
            cand = [ph] if ph[-1:].isdigit() else []
            cand += [base + ("1" if first else "0"), base + "1", base + "0", base + "2", base]
            ph = next((c for c in cand if c in vocab), cand[0])
            first = False
        out.append(ph)
    return out


def arpabet_tokens(text: str, lexicon: Mapping[str, list[str]], vocab: Collection[str]) -> list[str]:
    """ARPAbet tokens (with stress digits and ``" "`` word separators, as g2p_en emits) for ``text``."""
    tokens: list[str] = []
    for tok in _TOKEN.findall(text.lower().replace("-", " ")):
        if tok in ".,?!":
            if tok in vocab:
                if tokens and tokens[-1] == " ":
                    tokens.pop()
                tokens.append(tok)
            continue
        phones = lexicon.get(tok) or lexicon.get(tok.strip("'"))
        if phones is None:
            phones = [p for ch in tok if ch in _LETTERS for p in _LETTERS[ch].split()]
        if not phones:
            continue
        if tokens and tokens[-1] not in (" ",) and " " in vocab:
            tokens.append(" ")
        tokens.extend(_stress(list(phones), vocab))
    return tokens


def pocketsphinx_cmudict_path() -> str:
    """The CMU dictionary inside the ``pocketsphinx`` wheel."""
    import pocketsphinx

    return str(Path(pocketsphinx.get_model_path()) / "en-us" / "cmudict-en-us.dict")
