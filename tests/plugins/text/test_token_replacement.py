"""Token replacement (crossaug_text/token_replacement.py): pure function, real spaCy POS, contract."""

from __future__ import annotations

import numpy as np
import pytest
from crossaug import BadSample, ConfigError, Sample
from crossaug_testing import AugmentationContract, RecipeContract
from crossaug_text.token_replacement import (
    TokenReplacement,
    build_vocabulary,
    num_replaced,
    plan_replacements,
    replace_tokens,
)

VOCAB = ["apple", "river", "green", "runs", "table", "quickly"]
POS_VOCAB = {"NOUN": ["apple", "river", "table", "garden"], "ADJ": ["green", "tiny", "old"],
             "VERB": ["runs", "eats", "sleeps"], "ADV": ["quickly", "slowly"]}
BAD = [(Sample("empty", {"text": ""}), "empty"), (Sample("ws", {"text": "   "}), "whitespace")]


def good():
    return [Sample("s1", {"text": "The small dog eats a big bone in the garden."}),
            Sample("s2", {"text": "A red car drives slowly down the street."})]


class TestTokenReplacementRandomContract(AugmentationContract):
    name = "text.token-replacement"
    params = {"rate": 0.3, "vocabulary": VOCAB}

    def good_samples(self):
        return good()

    def bad_samples(self):
        return BAD


class TestTokenReplacementPOSContract(AugmentationContract):
    name = "text.token-replacement"
    params = {"rate": 0.3, "mode": "pos", "vocabulary": POS_VOCAB}

    def good_samples(self):
        return good()

    def bad_samples(self):
        return BAD


class TestTokenReplacementRecipeContract(RecipeContract):
    name = "token-replacement"
    params = {"rate": 0.3, "n": 2, "vocabulary": VOCAB}

    def good_samples(self):
        return good()


def test_num_replaced_by_hand():
    assert [num_replaced(0.25, n) for n in (0, 1, 4, 10, 12)] == [0, 1, 1, 2, 3]
    assert num_replaced(1.0, 7) == 7


def test_replace_tokens_random_mode_counts_and_membership():
    tokens = "a b c d e f g h , .".split()
    for seed in range(10):
        out = replace_tokens(tokens, 0.5, ["x", "y"], np.random.default_rng(seed))
        changed = [i for i, (a, b) in enumerate(zip(tokens, out, strict=False)) if a != b]
        assert len(changed) == 4  # round(0.5 * 8 word tokens)
        assert all(out[i] in ("x", "y") for i in changed)
        assert out[-2:] == [",", "."]  # punctuation is never replaced


def test_replace_tokens_pos_mode_keeps_tag_by_hand():
    tokens = ["The", "cat", "sleeps"]
    tags = ["DET", "NOUN", "VERB"]
    out = replace_tokens(tokens, 1.0, {"NOUN": ["dog"], "VERB": ["runs"]}, np.random.default_rng(0), tags)
    assert out == ["The", "dog", "runs"]  # DET has no vocabulary: left alone


def test_never_replaces_a_token_by_itself_and_copies_case():
    out = replace_tokens(["Cat"], 1.0, ["cat", "dog"], np.random.default_rng(0))
    assert out == ["Dog"]
    assert plan_replacements(["cat"], 1.0, ["cat"], np.random.default_rng(0)) == []


def test_wrong_vocabulary_types():
    with pytest.raises(ConfigError):
        TokenReplacement(mode="pos", vocabulary=["a"])
    with pytest.raises(ConfigError):
        TokenReplacement(mode="random", vocabulary={"NOUN": ["a"]})
    with pytest.raises(ConfigError, match="vocabulary"):
        TokenReplacement().augment(Sample("s", {"text": "a cat"}), np.random.default_rng(0))


def test_vocabulary_built_from_dataset():
    samples = [Sample("a", {"text": "The cat sat."}), Sample("b", {"text": "A dog ran, the dog barked!"})]
    aug = TokenReplacement(rate=1.0).fit(samples)
    assert aug.vocabulary == ["a", "barked", "cat", "dog", "ran", "sat", "the"]
    out = aug.augment(Sample("c", {"text": "the cat ran"}), np.random.default_rng(0))
    assert all(w.lower() in aug.vocabulary for w in out.fields["text"].split())


def test_pos_mode_with_real_spacy_keeps_pos(nlp):
    texts = ["A young woman rides a brown horse across the field.",
             "Two old men play chess in a quiet park.",
             "The little girl eats a red apple slowly.",
             "A black dog jumps over the wooden fence."]
    vocab = build_vocabulary(texts, "pos", nlp)
    assert "horse" in vocab["NOUN"] and "brown" in vocab["ADJ"] and "rides" in vocab["VERB"]
    aug = TokenReplacement(rate=0.4, mode="pos", vocabulary=vocab)
    agree = total = 0
    for seed in range(8):
        s = Sample("s", {"text": texts[seed % 4]})
        out = aug.augment(s, np.random.default_rng(seed))
        reps = out.lineage[-1].params["replacements"]
        assert reps
        tagged = {t.idx: t.pos_ for t in nlp(out.fields["text"])}
        shift = 0
        for start, end, old, new, pos in reps:
            assert new.lower() in vocab[pos] and new.lower() != old.lower()
            assert pos == nlp(s.fields["text"])[[t.idx for t in nlp(s.fields["text"])].index(start)].pos_
            total += 1
            agree += tagged.get(start + shift) == pos
            shift += len(new) - (end - start)
    assert agree / total >= 0.7, (agree, total)  # re-tagging the new sentence mostly agrees


def test_replay_needs_matching_text():
    aug = TokenReplacement(rate=0.5, vocabulary=VOCAB)
    s = good()[0]
    out = aug.augment(s, np.random.default_rng(1))
    again = TokenReplacement(vocabulary=["unused"]).replay(s, out.lineage[-1].params)
    assert again.fields == out.fields
    with pytest.raises(BadSample):
        aug.replay(Sample("x", {"text": "zz"}), out.lineage[-1].params)


def test_recipe_fits_vocabulary_from_dataset():
    from crossaug import create

    recipe = create("recipe", "token-replacement", rate=0.5, n=2)
    data = [Sample(f"s{i}", {"text": t}) for i, t in enumerate(["red apple pie", "green river stone"])]
    outs = recipe(data, seed=0)
    assert len(outs) == 4
    vocab = {"red", "apple", "pie", "green", "river", "stone"}
    assert all(set(o.fields["text"].split()) <= vocab for o in outs)
    assert recipe.to_dict()["params"]["vocabulary"] is None  # the fitted vocabulary is not a parameter


@pytest.mark.parametrize("text", ["東京は日本の首都です。", "I love 東京 🎉", "🎉 🐱", "Москва"])
def test_non_latin_and_emoji(text):
    aug = TokenReplacement(rate=0.5, vocabulary=["word"])
    out = aug.augment(Sample("s", {"text": text}), np.random.default_rng(0))
    assert out.fields["text"].strip()
    for _start, _end, old, _new, _ in out.lineage[-1].params["replacements"]:
        assert any(ch.isalnum() for ch in old)  # emoji and punctuation stay


def test_100kb_text():
    text = "The small dog eats a big bone. " * 3300
    out = TokenReplacement(rate=0.1, vocabulary=VOCAB).augment(Sample("big", {"text": text}),
                                                               np.random.default_rng(0))
    assert len(out.lineage[-1].params["replacements"]) == round(0.1 * 7 * 3300)
