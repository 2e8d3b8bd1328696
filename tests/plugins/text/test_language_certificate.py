"""The language check's shortcut: an expected language proven from langid's raw scores is langid's answer.

``_Classifier.classify(text, expected)`` returns ``None`` instead of normalising the scores when
the expected language leads every other column by more than ln 2 (plus a float32 margin). These
tests check the shortcut against py3langid's own ``classify`` on real and random text, and the
lead test against a plain-loop softmax with aliased labels folded, written here from langid's
definition.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from crossaug_text import language
from crossaug_text.language import _classify, _has_words, _langid, language_refusal

MULTILINGUAL = [
    "The birch canoe slid on the smooth planks.", "Die Katze sitzt auf der Matte und schläft.",
    "Le chat est assis sur le tapis rouge.", "El gato duerme en la alfombra roja.", "Кошка сидит на ковре.",
    "Il gatto dorme sul tappeto rosso.", "De kat slaapt op de rode mat.", "Kot śpi na czerwonym dywanie.",
    "猫坐在垫子上。", "القطة تجلس على السجادة", "Кот спава на црвеном тепиху.", "Mushuk qizil gilamda uxlaydi.",
    "the cat der Hund le chien", "hail a cab", "ok ok ok", "THE CAT SITS ON THE MAT", "", "!!! ???",
    "Mail me at a@b.org or see https://x.org/a now, $99!", "@user lol thats sooo funny haha #win",
]


def _random_texts(n: int, seed: int = 0, english: bool = False) -> list[str]:
    rnd = random.Random(seed)
    words = ("the cat and dog der die das und le la et el los y il che de het en och ja на и в "
             "是 的 هو في ok lol haha").split()
    if english:
        words = "the a quick brown dog sleeps near old river while children read books about green trees".split()
    out = []
    for _ in range(n):
        out.append(" ".join(rnd.choice(words) for _ in range(rnd.randint(1, 12))))
    return out


@pytest.mark.parametrize("expected", ["en", "de", "fr", "sr", "uz", "xx"])
def test_shortcut_is_taken_only_when_langid_answers_the_expected_language(expected):
    ident = _langid()
    _classify("warm up")
    clf = language._classifier
    proven = 0
    for text in MULTILINGUAL + _random_texts(300) + _random_texts(100, english=True):
        found = clf.classify(text, expected)
        truth = ident.classify(text)
        if found is None:
            proven += 1
            assert truth[0] == expected, text
        else:
            assert tuple(found) == tuple(truth), text  # otherwise langid's exact answer
    if expected in ("sr", "uz", "xx"):  # aliased labels (two columns) and unknown codes are never shortcut
        assert proven == 0
    if expected == "en":
        assert proven > 50


def _langid_tail(raw: list[float], scale: float, classes: list[str]) -> str:
    """langid's normalisation, written as plain loops: softmax of scaled scores, aliased columns summed."""
    z = [s * scale for s in raw]
    top = max(z)
    e = [math.exp(v - top) for v in z]
    total = sum(e)
    p = [v / total for v in e]
    first: dict[str, int] = {}
    for i, c in enumerate(classes):
        if c in first:
            p[first[c]] += p[i]
            p[i] = 0.0
        else:
            first[c] = i
    best = max(range(len(p)), key=lambda i: (p[i], -i))
    return classes[best]


def test_lead_test_matches_a_plain_loop_softmax_with_aliases_folded():
    classes = ["en", "de", "sr", "sr", "fr"]
    cols = {"en": 0, "de": 1, "fr": 4}
    rnd = random.Random(1)
    lead = language._Classifier._leads
    proven = 0
    for _ in range(3000):
        raw = [rnd.uniform(-400.0, -100.0) for _ in classes]
        col = cols[rnd.choice(list(cols))]
        scale = 1.0 / math.sqrt(rnd.randint(5, 400))
        if rnd.random() < 0.5:  # put the candidate just around the ln 2 boundary of the best other column
            other = max(v for i, v in enumerate(raw) if i != col)
            raw[col] = other + (math.log(2.0) + rnd.uniform(-0.05, 0.05)) / scale
        scores = np.array(raw, dtype=np.float32)
        if lead(scores, col, scale):
            proven += 1
            assert _langid_tail([float(v) for v in scores], scale, classes) == classes[col]
            gap = (float(scores[col]) - max(float(v) for i, v in enumerate(scores) if i != col)) * scale
            assert gap > math.log(2.0) + language._Classifier.MARGIN
        assert scores.tolist() == np.array(raw, dtype=np.float32).tolist()  # scores left as they were
    assert 300 < proven < 2700  # both outcomes, many near the boundary


def test_lead_test_refuses_what_aliases_can_overturn():
    classes = ["en", "sr", "sr"]
    # en leads each sr column by 0.5 (< ln 2): folded, the two sr columns outweigh en
    scores = np.array([0.0, -0.5, -0.5], dtype=np.float32)
    assert _langid_tail(scores.tolist(), 1.0, classes) == "sr"
    assert not language._Classifier._leads(scores, 0, 1.0)
    scores = np.array([0.0, -0.70, -0.70], dtype=np.float32)  # beyond ln 2 (0.693), inside the margin (0.703)
    assert _langid_tail(scores.tolist(), 1.0, classes) == "en"
    assert not language._Classifier._leads(scores, 0, 1.0)
    assert language._Classifier._leads(np.array([0.0, -0.8, -0.8], dtype=np.float32), 0, 1.0)
    assert not language._Classifier._leads(np.array([0.0, np.nan, -9.0], dtype=np.float32), 0, 1.0)
    assert not language._Classifier._leads(np.array([-3e4, -9e4, -9e4], dtype=np.float32), 0, 1.0)  # too large


def test_refusals_unchanged_by_the_shortcut():
    assert "'de'" in language_refusal("Die Katze sitzt auf der Matte und schläft.", "en")
    assert language_refusal("The cat sits on the mat and sleeps.", "en") is None
    assert "'en'" in language_refusal("The cat sits on the mat and sleeps.", "de")
    for text in MULTILINGUAL:
        found = _langid().classify(language._plain(language._plain(text)))
        refused = language_refusal(text, "en") is not None
        has_words = sum(any(c.isalpha() for c in w) for w in language._plain(text).split()) >= 3
        assert refused == (has_words and found[0] != "en" and found[1] >= 0.5), text


def test_word_count_stops_early_but_counts_like_the_definition():
    rnd = random.Random(2)
    pieces = ["a", "1", "!!", "é", "١٢", "x1", "--", "猫", "", "ok."]
    for _ in range(2000):
        text = " ".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 6)))
        n = rnd.randint(-1, 4)
        assert _has_words(text, n) == (sum(any(c.isalpha() for c in w) for w in text.split()) >= n), (text, n)
