"""The word screen's remembered phrase sets and scans give what a plain scan of the lists gives."""

from __future__ import annotations

import random

from crossaug.builtin.word_screen import blocked_phrases, introduced_blocked_words, words


def plain(parent: str, candidate: str, langs: list[str], extra: list[str]) -> list[str]:
    """Every listed phrase looked for as a word sequence in each text: the definition."""
    phrases = {p for lang in langs for p in blocked_phrases(lang)} | {tuple(words(e)) for e in extra if words(e)}

    def found(text: str) -> set[tuple[str, ...]]:
        toks = words(text)
        return {p for p in phrases if any(tuple(toks[i:i + len(p)]) == p for i in range(len(toks)))}

    return sorted(" ".join(p) for p in found(candidate) - found(parent))


def test_introduced_words_equal_a_plain_scan_for_short_and_long_texts_and_any_screen() -> None:
    rnd = random.Random(0)
    listed = sorted(" ".join(p) for p in blocked_phrases("en"))
    pool = ["the", "a", "journey", "affecting", "Damn!", "it", "all", "bank", "river", "ok", "Scunthorpe", "two girls",
            "cup", "of", "tea", "kurwa", "merde", "köpek"] + rnd.sample(listed, 25)
    screens = [(["en"], []), (["en", "de"], []), (["en"], ["river bank", "tea"]), (["fr"], ["köpek"]), ([], [])]
    for k in range(400):
        parent = " ".join(rnd.choice(pool) for _ in range(rnd.randint(1, 12)))
        candidate = " ".join(rnd.choice(pool) for _ in range(rnd.randint(1, 12)))
        if k % 40 == 0:  # texts over the remembered length take the direct scan
            parent, candidate = ((t + " ") * (1001 // len(t) + 1) for t in (parent, candidate))
            assert len(parent) > 1000 and len(candidate) > 1000
        langs, extra = screens[k % len(screens)]
        for _ in range(2):  # computed, then remembered
            assert introduced_blocked_words(parent, candidate, langs, extra) == plain(parent, candidate, langs, extra)
