"""EDA's language check: the memoised classifier gives py3langid's exact answer, once per text."""

from __future__ import annotations

import random

import pytest
from crossaug_text import language
from crossaug_text.language import _classify, _langid, detect_language, language_refusal, spans_of
from crossaug_text.protected import protected_spans, without_protected

SENTENCES = [
    "The birch canoe slid on the smooth planks.", "Die Katze sitzt auf der Matte und schläft.",
    "Le chat est assis sur le tapis rouge.", "El gato duerme en la alfombra roja.", "Кошка сидит на ковре.",
    "猫坐在垫子上。", "القطة تجلس على السجادة", "THE CAT SITS ON THE MAT", "", "   ", "!!! ??? ...", "a",
    "1234 5678", "Mail me at a@b.org or see https://x.org/a now, $99!", "Der Der Der Der", "ok " * 200,
]


def _corpus(n: int = 400) -> list[str]:
    rnd = random.Random(0)
    alphabet = "abcdefghijklmnopqrstuvwxyzäöüßéèçñ АБВГДабвгд中文字 \t\n.,!?'\"-"
    return SENTENCES + ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 120))) for _ in range(n)]


def test_fast_classifier_is_langids_classify_exactly():
    ident = _langid()
    texts = _corpus()
    for _ in range(2):  # the second pass reads every chunk from the memo
        for text in texts:
            assert _classify(text) == ident.classify(text), text


def test_classifier_memo_is_bounded_and_stays_exact(monkeypatch):
    ident = _langid()
    _classify("warm up")
    monkeypatch.setattr(language._classifier, "MAX_MEMO", 8)
    language._classifier.memo.clear()
    language._classifier.memo_size = 0
    for text in _corpus(50):
        assert _classify(text) == ident.classify(text)
        memo = language._classifier.memo
        assert sum(map(len, memo.values())) == language._classifier.memo_size <= 8


def test_spans_of_is_protected_spans_once_per_text():
    text = "Ask @john_doe: $999 at example.com #deal"
    spans_of.cache_clear()
    assert list(spans_of(text)) == protected_spans(text)
    spans_of(text)
    assert spans_of.cache_info().hits == 1


@pytest.mark.parametrize("text", SENTENCES)
def test_detection_and_refusal_read_the_text_without_protected_spans(text):
    assert detect_language(text) == tuple(_langid().classify(without_protected(text)))
    assert language_refusal(text, "en") == language_refusal(text, "en", plain=without_protected(text))


def test_german_still_refused_and_english_accepted():
    assert "'de'" in language_refusal("Die Katze sitzt auf der Matte und schläft.", "en")
    assert language_refusal("The cat sits on the mat and sleeps.", "en") is None


def test_row_cache_starting_over_stays_exact(monkeypatch):
    monkeypatch.setattr(language._Classifier, "CACHE_ROWS", 80)  # a few texts fill it; long ones bypass it
    ident = _langid()
    small = language._Classifier(ident)
    for text in _corpus(100):
        assert small.classify(text) == ident.classify(text), text
        assert small.used <= 80
