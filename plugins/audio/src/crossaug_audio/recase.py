"""Give a transcript the casing and punctuation of the sentence it came from.

ASR output is lower-case words. Where the transcript's words line up with the
input's (compared in spoken form, word by word), ``restore_case`` writes the
input's own token back, with its case and the punctuation attached to it; new
words stay as heard, take the capital of the input word they replace at the
start of the sentence, and carry the punctuation that followed the words they
replace. Only words the ASR changed differ from the input.

Example:
    >>> restore_case("This is a shot of Cannery Row in 1932.", "this is a shot of cannery row in nineteen thirty two")
    'This is a shot of Cannery Row in nineteen thirty two.'
    >>> restore_case("He hoped there would be stew for dinner, turnips and carrots.",
    ...              "he hoped there would be stew for dinner turnips")
    'He hoped there would be stew for dinner, turnips.'
    >>> restore_case("Lend some dignity to a dumb story.", "lend some dignity to a dome story")
    'Lend some dignity to a dome story.'
"""

from __future__ import annotations

import difflib
import re

from .spoken_form import spoken_form

_TRAIL = re.compile(r"[^\w'’%$£€]+$")


def _trailing(token: str) -> str:
    m = _TRAIL.search(token)
    return m.group(0) if m else ""


def restore_case(reference: str, hypothesis: str) -> str:
    """``hypothesis`` with ``reference``'s casing and punctuation where their words align."""
    tokens = reference.split()
    hyp = hypothesis.split()
    if not tokens or not hyp:
        return hypothesis
    ref_keys = [spoken_form(t) for t in tokens]
    hyp_keys = [spoken_form(w) for w in hyp]
    out: list[str] = []
    ops = difflib.SequenceMatcher(a=ref_keys, b=hyp_keys, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            out.extend(tokens[i1:i2])
            continue
        punct = _trailing(tokens[i2 - 1]) if i2 > i1 else ""
        words = list(hyp[j1:j2])
        if words:
            if i1 == 0 and i2 > i1 and tokens[0][:1].isupper():
                words[0] = words[0][:1].upper() + words[0][1:]
            words[-1] += punct
            out.extend(words)
        elif punct and out and not _trailing(out[-1]):
            out[-1] += punct
    if out and hyp and not out[0][:1].isupper() and tokens[0][:1].isupper() and ops[0][0] == "insert":
        out[0] = out[0][:1].upper() + out[0][1:]
    return " ".join(out)


__all__ = ["restore_case"]
