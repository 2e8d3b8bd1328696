"""EDA (crossaug_text/eda.py): pure planners, real-WordNet behaviour, contract suites, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from crossaug import BadSample, ConfigError, Sample
from crossaug_testing import AugmentationContract
from crossaug_text.eda import (
    EDA,
    RandomDeletion,
    SynonymReplacement,
    apply_operation,
    num_changes,
    plan_random_deletion,
    plan_random_insertion,
    plan_random_swap,
    plan_synonym_replacement,
    recommended_params,
    split_word,
    wordnet_synonyms,
)
from crossaug_text.resources import wordnet
from crossaug_text.stopwords import is_stop_word

SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank."
BAD = [(Sample("empty", {"text": ""}), "empty"), (Sample("blank", {"text": "  \n\t "}), "whitespace"),
       (Sample("nofield", {"image": None}), "needs field")]


def good():
    return [Sample("s1", {"text": SENTENCE}), Sample("s2", {"text": "A happy child reads a good book."})]


class TestEDAContract(AugmentationContract):
    name = "text.eda"
    params = {"alpha_sr": 0.2}

    def good_samples(self):
        return good()

    def bad_samples(self):
        return BAD


class TestSynonymReplacementContract(AugmentationContract):
    name = "text.synonym-replacement"
    params = {"alpha": 0.2}

    def good_samples(self):
        return good()

    def bad_samples(self):
        return BAD


class TestRandomInsertionContract(AugmentationContract):
    name = "text.random-insertion"
    params = {}

    def good_samples(self):
        return good()

    def bad_samples(self):
        return BAD


class TestRandomSwapContract(AugmentationContract):
    name = "text.random-swap"
    params = {"alpha": 0.1}

    def good_samples(self):
        return good()

    def bad_samples(self):
        return BAD


class TestRandomDeletionContract(AugmentationContract):
    name = "text.random-deletion"
    params = {"p": 0.1}

    def good_samples(self):
        return good()

    def bad_samples(self):
        return BAD


# -- pure functions, hand-computed ---------------------------------------------------------
def test_num_changes_is_max_one_int_alpha_l():
    assert [num_changes(0.1, n) for n in (1, 9, 10, 25)] == [1, 1, 1, 2]
    assert num_changes(0.0, 10) == 0 and num_changes(0.1, 0) == 0


def test_recommended_params_table3():
    assert recommended_params(500) == (0.05, 16)
    assert recommended_params(2000) == (0.05, 8)
    assert recommended_params(5000) == (0.1, 4)
    assert recommended_params(10**6) == (0.1, 4)


def test_split_word_keeps_punctuation():
    assert split_word("dog,") == ("", "dog", ",")
    assert split_word("(hello)") == ("(", "hello", ")")
    assert split_word("...") == ("...", "", "") or split_word("...")[1] == ""


def test_apply_operations_by_hand():
    w = ["a", "b", "c", "d"]
    assert apply_operation(w, "sr", [[1, "b", "B"]]) == ["a", "B", "c", "d"]
    assert apply_operation(w, "ri", [[0, "x"], [5, "y"]]) == ["x", "a", "b", "c", "d", "y"]
    assert apply_operation(w, "rs", [[0, 1], [1, 3]]) == ["b", "d", "c", "a"]
    assert apply_operation(w, "rd", [0, 2]) == ["b", "d"]
    with pytest.raises(ValueError):
        apply_operation(w, "sr", [[1, "zzz", "B"]])
    with pytest.raises(ValueError):
        apply_operation(w, "rd", [0, 1, 2, 3])


def test_synonym_replacement_replaces_every_occurrence_and_keeps_case():
    syn = {"cat": ["feline"]}
    edits = plan_synonym_replacement(["Cat", "sees", "cat."], 1, np.random.default_rng(0),
                                     lambda w: syn.get(w, []))
    assert edits == [[0, "Cat", "Feline"], [2, "cat.", "feline."]]


def test_stop_words_never_replaced_or_used_for_insertion():
    calls = []

    def syn(w):
        calls.append(w)
        return ["x"]

    words = "the and of cat".split()
    for seed in range(5):
        edits = plan_synonym_replacement(words, 4, np.random.default_rng(seed), syn)
        assert [e[0] for e in edits] == [3]
        plan_random_insertion(words, 3, np.random.default_rng(seed), syn)
    assert set(calls) == {"cat"}


def test_swap_and_deletion_edge_cases():
    rng = np.random.default_rng(0)
    assert plan_random_swap(["one"], 3, rng) == []
    assert all(i != j for i, j in plan_random_swap(list("abcdef"), 10, rng))
    assert plan_random_deletion(["only"], 1.0, rng) == []
    for seed in range(20):
        d = plan_random_deletion(list("abcde"), 1.0, np.random.default_rng(seed))
        assert len(d) == 4  # p = 1 deletes all but one word
        assert len(plan_random_deletion(list("abcde"), 0.01, np.random.default_rng(seed))) >= 1


# -- behaviour with the real WordNet ---------------------------------------------------------
def test_synonyms_come_from_wordnet_synsets_of_the_word():
    wn = wordnet()
    aug = SynonymReplacement(alpha=0.5)
    s = Sample("s", {"text": SENTENCE})
    seen = 0
    for seed in range(10):
        params = aug.sample_params(s, np.random.default_rng(seed))
        for _, old, new in params["edits"]:
            word = split_word(old)[1].lower()
            lemmas = {lemma.replace("_", " ").replace("-", " ").lower()
                      for syn in wn.synsets(word) for lemma in syn.lemma_names()}
            assert split_word(new)[1].lower() in lemmas, (word, new)
            assert not is_stop_word(word)
            seen += 1
    assert seen >= 10
    assert "hound" in wordnet_synonyms("dog") and "dog" not in wordnet_synonyms("dog")


def test_eda_uses_every_operation_and_counts_follow_alpha():
    aug = EDA()
    s = Sample("s", {"text": " ".join(["word"] * 5 + ["quick", "river", "house", "happy", "run"] * 3)})  # 20 words
    ops = {}
    for seed in range(40):
        p = aug.sample_params(s, np.random.default_rng(seed))
        ops.setdefault(p["op"], []).append(p["edits"])
    assert set(ops) == {"sr", "ri", "rs", "rd"}
    assert all(len(e) == 2 for e in ops["rs"])  # n = int(0.1 * 20)
    assert all(len(e) == 2 for e in ops["ri"])


def test_deletion_never_empties():
    aug = RandomDeletion(p=1.0)
    for text in ["one", "one two", "a b c d e f"]:
        for seed in range(10):
            out = aug.augment(Sample("s", {"text": text}), np.random.default_rng(seed))
            assert len(out.fields["text"].split()) == 1
    assert EDA(p_rd=1.0, alpha_sr=0, alpha_ri=0, alpha_rs=0).augment(
        Sample("s", {"text": "solo"}), np.random.default_rng(0)).fields["text"] == "solo"


def test_label_and_other_fields_preserved():
    s = Sample("s", {"text": SENTENCE, "image": "x.png"}, label="pos")
    out = EDA().augment(s, np.random.default_rng(1))
    assert out.label == "pos" and out.fields["image"] == "x.png"


def test_config_errors():
    with pytest.raises(ConfigError, match="alpha_sr"):
        EDA(alpha_sr=1.5)
    with pytest.raises(ConfigError):
        RandomDeletion(p="lots")


def test_replay_on_other_text_is_bad_sample():
    aug = SynonymReplacement(alpha=0.5)
    s = Sample("s", {"text": SENTENCE})
    out = aug.augment(s, np.random.default_rng(0))
    with pytest.raises(BadSample, match="other"):
        aug.replay(Sample("other", {"text": "completely different words here"}), out.lineage[-1].params)


# -- bad or unusual input, per kernel policy ---------------------------------------------------
@pytest.mark.parametrize("text", ["東京は日本の首都です。", "Москва — столица России.", "I love 東京 and Москва 🎉",
                                  "🎉🎉 🐱", "مرحبا بالعالم"])
def test_non_latin_mixed_and_emoji_are_handled(text):
    # with the language check off, any script goes through without crashing
    for aug in (EDA(input_language=None), SynonymReplacement(alpha=0.5, input_language=None),
                RandomDeletion(p=0.5, input_language=None)):
        for seed in range(4):
            out = aug.augment(Sample("s", {"text": text}), np.random.default_rng(seed))
            assert out.fields["text"].strip()
            edits = out.lineage[-1].params["edits"]
            added = " ".join(str(x) for e in edits if isinstance(e, list) for x in e).split()
            assert set(out.fields["text"].split()) <= set(text.split()) | set(added)


def test_100kb_text():
    text = (SENTENCE + " ") * (100_000 // (len(SENTENCE) + 1) + 1)
    s = Sample("big", {"text": text})
    out = EDA().augment(s, np.random.default_rng(0))
    assert out.fields["text"] and len(out.fields["text"]) > 50_000
    out = SynonymReplacement().augment(s, np.random.default_rng(0))
    assert len(out.lineage[-1].params["edits"]) >= num_changes(0.1, len(text.split())) // 2
