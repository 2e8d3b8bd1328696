"""The typo augmentation's planned edits against a plain loop over every letter of the text."""

from __future__ import annotations

import random

import numpy as np
from crossaug import Sample
from crossaug.builtin.typo import OPS, Typo, keyboard_neighbours


def plain_edits(text: str, rate: float, ops: list[str], rng: np.random.Generator) -> list[list[object]]:
    """One uniform draw per letter; a drawn letter not next to an earlier edit gets an operation
    (and a neighbouring key for substitute/insert); never deleting the whole text."""
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    hits = rng.random(len(letters)) < rate
    edits, taken = [], set()
    for i, hit in zip(letters, hits):
        if hit and i not in taken and i + 1 not in taken:
            op = ops[int(rng.integers(len(ops)))]
            ch = ""
            if op in ("substitute", "insert"):
                near = keyboard_neighbours(text[i]) or "e"
                ch = near[int(rng.integers(len(near)))]
            edits.append([i, op, ch])
            taken.update((i, i + 1))
    if edits and sum(1 for e in edits if e[1] == "delete") >= len(text.strip()):
        edits = [e for e in edits if e[1] != "delete"]
    return edits


def test_typo_plans_the_plain_loops_edits_for_any_rate_ops_and_script() -> None:
    rnd = random.Random(0)
    alphabet = "abcdefghijklmnopqrstuvwxyzÄÖüß  ,.!?0123456789ΑΒΓδέКИЛО東京\u212a"
    for k in range(600):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 60))) + "x"
        rate = rnd.choice([0.0, 0.05, 0.3, 1.0])
        ops = rnd.sample(list(OPS), rnd.randint(1, len(OPS)))
        aug = Typo(rate=rate, ops=ops)
        for seed in range(2):  # the second time from the remembered letter positions
            got = aug.sample_params(Sample("s", {"text": text}), np.random.default_rng(seed + 10 * k))["edits"]
            assert got == plain_edits(text, rate, ops, np.random.default_rng(seed + 10 * k)), (text, rate, ops)
