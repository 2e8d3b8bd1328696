"""Token replacement: protected spans, kept whitespace, language refusal in POS mode."""

from __future__ import annotations

import re

import numpy as np
import pytest
from crossaug import BadSample, Sample, Seeder
from crossaug_text.token_replacement import TokenReplacement, plan_replacements

VOCAB = ["for", "the", "dog", "five", "hundred", "doe", "john", "com", "misal", "deal", "tree"]
SOCIAL = "Hey @john_doe see https://example.com/x and example.com: only $999 #BigDeal\tnow\nbye"
PROTECTED = ["@john_doe", "https://example.com/x", "example.com", "$999", "#BigDeal"]


@pytest.mark.parametrize("seed", range(15))
def test_random_mode_keeps_protected_spans_and_whitespace(seed):
    aug = TokenReplacement(rate=1.0, vocabulary=VOCAB)
    out = aug.augment(Sample("s", {"text": SOCIAL}), np.random.default_rng(seed)).fields["text"]
    for p in PROTECTED:
        assert p in out, out
    assert re.findall(r"\s+", out) == re.findall(r"\s+", SOCIAL)
    assert out.split()[0] != "Hey" or out.split()[-1] != "bye"  # something was replaced


@pytest.mark.parametrize("seed", range(5))
def test_pos_mode_keeps_protected_spans(seed, nlp):
    aug = TokenReplacement(rate=1.0, mode="pos", vocabulary={"NOUN": ["tree", "house"], "NUM": ["5"],
                                                              "PROPN": ["Ann"], "VERB": ["run"], "X": ["x"],
                                                              "SYM": ["€"]})
    out = aug.augment(Sample("s", {"text": "@john_doe paid $999 for the car at example.com"}),
                      np.random.default_rng(seed)).fields["text"]
    assert "@john_doe" in out and "$999" in out and "example.com" in out, out


def test_editable_flags_are_honoured():
    rng = np.random.default_rng(0)
    plan = plan_replacements(["a", "b", "c"], 1.0, ["x"], rng, editable=[True, False, True])
    assert [i for i, _ in plan] == [0, 2]
    with pytest.raises(ValueError):
        plan_replacements(["a", "b"], 1.0, ["x"], rng, editable=[True])


def test_pos_mode_refuses_german(nlp):
    aug = TokenReplacement(rate=0.5, mode="pos", vocabulary={"NOUN": ["tree"]})
    with pytest.raises(BadSample) as info:
        aug.augment(Sample("g", {"text": "Der Hund läuft schnell durch den großen Park."}),
                    np.random.default_rng(0))
    assert info.value.sample_id == "g" and "'de'" in str(info.value)


def test_random_mode_does_not_judge_language_by_default_but_can():
    text = "Der Hund läuft schnell durch den großen Park."
    out = TokenReplacement(rate=0.5, vocabulary=["Katze", "Baum"]).augment(Sample("g", {"text": text}),
                                                                           np.random.default_rng(0))
    assert out.fields["text"] != text
    with pytest.raises(BadSample, match="'de'"):
        TokenReplacement(rate=0.5, vocabulary=["tree"], input_language="en").augment(
            Sample("g", {"text": text}), np.random.default_rng(0))


def test_an_input_is_tagged_once_for_all_its_outputs(monkeypatch, nlp):
    """POS mode parses a text with spaCy (about 2 ms a sentence): a recipe making ``n`` outputs of an
    input parses it once, with the same outputs as parsing it for each."""
    from crossaug_text import resources, token_replacement
    from crossaug_text.recipes import TokenReplacementRecipe

    parsed, real_pipeline = [], resources.spacy_pipeline

    def counting(model=None):
        real = real_pipeline(model)
        return lambda text: parsed.append(text) or real(text)

    vocab = {"NOUN": ["tree", "house", "river"], "VERB": ["runs", "sings"], "ADJ": ["green", "old"]}
    texts = ["the old fisherman mended his torn net slowly", "a quick dog runs to the small green house"]
    samples = [Sample(f"t{i}", {"text": t}) for i, t in enumerate(texts)]
    recipe = TokenReplacementRecipe(rate=0.5, mode="pos", n=4, vocabulary=vocab)
    token_replacement._analysed.cache_clear()
    resources.spacy_tokens.cache_clear()
    expected = [[o.fields["text"] for o in g] for g in recipe.process(samples, Seeder(0))]
    monkeypatch.setattr(resources, "spacy_pipeline", counting)
    token_replacement._analysed.cache_clear()
    resources.spacy_tokens.cache_clear()
    groups = recipe.process(samples, Seeder(0))
    assert [[o.fields["text"] for o in g] for g in groups] == expected
    assert sorted(parsed) == sorted(texts)  # once each, not four times
    assert len({o for g in expected for o in g}) > 2  # and the outputs still differ
