"""Text preparation for TTS (crossaug_audio/tts/chunking.py, tts/g2p.py)."""

from __future__ import annotations

from crossaug_audio.tts.chunking import speakable_problem, split_for_tts
from crossaug_audio.tts.g2p import arpabet_tokens, load_cmudict, pocketsphinx_cmudict_path


def test_sentences_packed_up_to_limit():
    text = "One two three. Four five six. Seven."
    assert split_for_tts(text, 40) == [text]
    assert split_for_tts(text, 20) == ["One two three.", "Four five six.", "Seven."]
    assert split_for_tts(text, 29) == ["One two three. Four five six.", "Seven."]


def test_long_sentence_split_at_clauses_then_words():
    text = "alpha beta gamma, delta epsilon zeta; eta theta iota kappa lambda mu"
    chunks = split_for_tts(text, 24)
    assert chunks == ["alpha beta gamma,", "delta epsilon zeta;", "eta theta iota kappa", "lambda mu"]
    assert all(len(c) <= 24 for c in chunks)
    # nothing lost
    assert " ".join(chunks).split() == text.split()


def test_giant_token_is_cut():
    assert split_for_tts("x" * 50, 20) == ["x" * 20, "x" * 20, "x" * 10]


def test_speakable():
    assert speakable_problem("Hello, world!") is None
    assert speakable_problem("42") is None
    assert "nothing to speak" in speakable_problem("... !!! ???")
    assert "nothing to speak" in speakable_problem("🙂🎉")
    assert "Cyrillic" in speakable_problem("Привет, как дела?")
    assert "Cjk" in speakable_problem("你好世界")
    assert speakable_problem("Привет", latin_only=False) is None
    assert speakable_problem("Café au lait") is None


def test_cmudict_g2p_against_dictionary():
    lex = load_cmudict(pocketsphinx_cmudict_path())
    assert lex["cat"] == ["K", "AE", "T"]
    vocab = {"K", "AE1", "AE0", "T", "DH", "AH0", "AH1", " ", "."}
    assert arpabet_tokens("The cat.", lex, vocab) == ["DH", "AH1", " ", "K", "AE1", "T", "."]
    # unknown words are spelled; first vowel gets primary stress, later ones 0
    assert arpabet_tokens("zq", {}, {"Z", "IY1", "IY0", "K", "Y", "UW0", "UW1"}) == \
        ["Z", "IY1", "K", "Y", "UW0"]
