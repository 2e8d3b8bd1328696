"""Code-switching (crossaug_text/code_switch.py): tiers, recorded spans, lexicons, culture graph."""

from __future__ import annotations

import numpy as np
import pytest
from crossaug import BadSample, ConfigError, MissingResource, Sample
from crossaug_testing import AugmentationContract, RecipeContract
from crossaug_text.code_switch import CodeSwitch, read_lexicon, sentence_spans, switched_spans
from crossaug_text.culture_graph import CultureGraph

LEX = {"cat": "kedi", "dog": ["köpek", "it"], "ice cream": "dondurma", "tea": {"target": "çay", "concept": "tea.n.01"},
       "good morning": "günaydın", "the dog sleeps.": "köpek uyuyor."}
TEXT = "The cat and the dog eat ice cream. Good morning! We drink tea with two cats."
BAD = [(Sample("empty", {"text": ""}), "empty"), (Sample("ws", {"text": "\t"}), "whitespace")]


def good():
    return [Sample("s1", {"text": TEXT}), Sample("s2", {"text": "A dog likes tea. The dog sleeps."})]


class TestCodeSwitchContract(AugmentationContract):
    name = "text.code-switch"
    params = {"lexicon": LEX, "language": "tr", "word_rate": 0.5, "phrase_rate": 0.5, "sentence_rate": 0.2}

    def good_samples(self):
        return good()

    def bad_samples(self):
        return BAD


class TestCodeSwitchRecipeContract(RecipeContract):
    name = "code-switch"
    params = {"lexicon": LEX, "language": "tr", "n": 2}

    def good_samples(self):
        return good()


def check_spans(original: str, out: str, switches: list[dict]) -> None:
    """Every switch names its source span in the original and its target lands in the output."""
    for sw in switches:
        assert set(sw) == {"start", "end", "source", "target", "concept", "level"}
        assert original[sw["start"]:sw["end"]] == sw["source"]
        assert sw["level"] in ("word", "phrase", "sentence")
    starts = [sw["start"] for sw in switches]
    assert starts == sorted(starts)
    for sw, (a, b) in zip(switches, switched_spans(switches), strict=False):
        assert out[a:b] == sw["target"]
    ends = [sw["end"] for sw in switches]
    assert all(e <= s for e, s in zip(ends, starts[1:], strict=False))  # no overlaps


def test_word_and_phrase_tiers_all_switched_at_rate_one():
    aug = CodeSwitch(lexicon=LEX, language="tr", word_rate=1.0, phrase_rate=1.0)
    out = aug.augment(Sample("s", {"text": TEXT}), np.random.default_rng(0))
    sw = out.lineage[-1].params["switches"]
    assert [(s["source"], s["level"]) for s in sw] == [
        ("cat", "word"), ("dog", "word"), ("ice cream", "phrase"), ("Good morning", "phrase"),
        ("tea", "word"), ("cats", "word")]
    assert sw[2]["target"] == "dondurma" and sw[3]["target"] == "günaydın"
    assert sw[4]["concept"] == "tea.n.01" and sw[5]["target"] == "kedi"  # "cats" lemmatised by WordNet
    check_spans(TEXT, out.fields["text"], sw)
    assert out.fields["text"].startswith("The kedi and the ")


def test_rates_zero_switch_nothing_and_tiers_are_independent():
    s = Sample("s", {"text": TEXT})
    none = CodeSwitch(lexicon=LEX, word_rate=0.0, phrase_rate=0.0).augment(s, np.random.default_rng(0))
    assert none.fields["text"] == TEXT and none.lineage[-1].params["switches"] == []
    phrases = CodeSwitch(lexicon=LEX, word_rate=0.0, phrase_rate=1.0).augment(s, np.random.default_rng(0))
    assert {x["level"] for x in phrases.lineage[-1].params["switches"]} == {"phrase"}


def test_word_rate_is_a_probability():
    aug = CodeSwitch(lexicon=LEX, word_rate=0.5, phrase_rate=0.0, lemmatize=False)
    s = Sample("s", {"text": " ".join(["cat"] * 400)})
    n = len(aug.sample_params(s, np.random.default_rng(0))["switches"])
    assert 160 < n < 240


def test_sentence_tier_translates_whole_sentences_only():
    # the paper's sentence tier translates the sentence; one the lexicon does not hold (and no
    # sentence_model) is not switched span by span any more but left to the other tiers
    text = "A dog likes tea. The dog sleeps."
    aug = CodeSwitch(lexicon=LEX, word_rate=0.0, phrase_rate=0.0, sentence_rate=1.0)
    out = aug.augment(Sample("s", {"text": text}), np.random.default_rng(0))
    sw = out.lineage[-1].params["switches"]
    assert [(s["source"], s["level"]) for s in sw] == [("The dog sleeps.", "sentence")]
    assert sw[-1]["target"] == "köpek uyuyor." and sw[-1]["concept"] is None
    check_spans(text, out.fields["text"], sw)
    both = CodeSwitch(lexicon=LEX, word_rate=1.0, phrase_rate=0.0, sentence_rate=1.0)
    sw = both.augment(Sample("s", {"text": text}), np.random.default_rng(0)).lineage[-1].params["switches"]
    assert [(s["source"], s["level"]) for s in sw] == [("dog", "word"), ("tea", "word"),
                                                      ("The dog sleeps.", "sentence")]


def test_sentence_spans():
    assert sentence_spans("One. Two!  Three?") == [(0, 4), (5, 9), (11, 17)]
    assert sentence_spans("東京です。大阪です。") == [(0, 5), (5, 10)]


def test_lexicon_files(tmp_path):
    tsv = tmp_path / "en-tr.tsv"
    tsv.write_text("# comment\ncat\tkedi\tcat.n.01\ncat\tpisik\nhot dog\tsosisli\n", encoding="utf-8")
    lex = read_lexicon(tsv)
    assert lex["cat"] == {"targets": ["kedi", "pisik"], "concept": "cat.n.01"}
    aug = CodeSwitch(lexicon=str(tsv), word_rate=1.0, phrase_rate=1.0)
    out = aug.augment(Sample("s", {"text": "A hot dog and a cat."}), np.random.default_rng(0))
    assert [x["source"] for x in out.lineage[-1].params["switches"]] == ["hot dog", "cat"]
    js = tmp_path / "lex.json"
    js.write_text('{"cat": "gato"}', encoding="utf-8")
    assert read_lexicon(js) == {"cat": {"targets": ["gato"], "concept": None}}
    with pytest.raises(MissingResource, match="lexicon"):
        CodeSwitch(lexicon=str(tmp_path / "none.tsv")).augment(Sample("s", {"text": "a cat"}),
                                                               np.random.default_rng(0))


def test_culture_graph_related_concepts(tmp_path):
    g = CultureGraph()
    g.add_concept("robe.n.01", {"en": ["robe"], "tr": ["cübbe"]})
    g.add_concept("kimono.n.01", {"en": ["kimono"], "ja": ["着物"]})
    g.add_concept("sari.n.01", {"en": ["sari"], "ja": ["サリー"]})
    g.add_edge("kimono.n.01", "robe.n.01")
    g.add_edge("sari.n.01", "robe.n.01")
    path = g.save(tmp_path / "g.json")
    same = CodeSwitch(graph=str(path), language="ja", word_rate=1.0, lemmatize=False)
    out = same.augment(Sample("s", {"text": "She wears a kimono."}), np.random.default_rng(0))
    assert out.fields["text"] == "She wears a 着物."
    related = CodeSwitch(graph=str(path), language="ja", word_rate=1.0, max_distance=2, lemmatize=False)
    targets = {related.sample_params(Sample("s", {"text": "a kimono"}), np.random.default_rng(k))["switches"][0]
               ["concept"] for k in range(20)}
    assert targets == {"kimono.n.01", "sari.n.01"}  # sari reached through robe (distance 2)


def test_config_errors_and_replay_mismatch():
    with pytest.raises(ConfigError, match="lexicon"):
        CodeSwitch()
    with pytest.raises(ConfigError, match="word_rate"):
        CodeSwitch(lexicon=LEX, word_rate=2)
    with pytest.raises(ConfigError, match="language"):
        CodeSwitch(graph="g.json")
    aug = CodeSwitch(lexicon=LEX, word_rate=1.0)
    out = aug.augment(Sample("s", {"text": TEXT}), np.random.default_rng(0))
    with pytest.raises(BadSample, match="cannot replay"):
        aug.replay(Sample("o", {"text": "something else entirely, longer than before."}), out.lineage[-1].params)


@pytest.mark.parametrize("text", ["東京は日本の首都です。", "I love 東京 and my cat 🐱!", "🎉🎉", "Кошка и cat."])
def test_non_latin_mixed_emoji(text):
    aug = CodeSwitch(lexicon={**LEX, "東京": "Tokyo"}, word_rate=1.0)
    out = aug.augment(Sample("s", {"text": text}), np.random.default_rng(0))
    check_spans(text, out.fields["text"], out.lineage[-1].params["switches"])
    assert out.fields["text"].strip()


@pytest.mark.slow  # spaCy tags 100 kB of text
def test_100kb_text():
    text = TEXT * (100_000 // len(TEXT) + 1)
    aug = CodeSwitch(lexicon=LEX, word_rate=0.3, phrase_rate=0.3, sentence_rate=0.1)
    out = aug.augment(Sample("big", {"text": text}), np.random.default_rng(0))
    sw = out.lineage[-1].params["switches"]
    assert len(sw) > 100
    check_spans(text, out.fields["text"], sw)


@pytest.mark.slow
def test_kenet_lexicon_switches_to_turkish():
    try:
        aug = CodeSwitch(lexicon="kenet:tr", word_rate=1.0)
        out = aug.augment(Sample("s", {"text": "The dog drinks water."}), np.random.default_rng(0))
    except MissingResource as exc:
        pytest.skip(f"KeNet not installed: {exc}")
    sw = {s["source"]: s for s in out.lineage[-1].params["switches"]}
    assert sw["dog"]["concept"] == "dog.n.01" and sw["dog"]["target"] in ("köpek", "it", "kapik", "kelb")
    assert sw["water"]["target"] in ("su", "ab", "âb") and "The" not in sw
    assert out.lineage[-1].params["language"] == "tr"


def test_omw_table_as_lexicon(tmp_path):
    tab = tmp_path / "wn-data-fra.tab"
    tab.write_text("02084071-n\tfra:lemma\tchien\n02121620-n\tfra:lemma\tchat\n", encoding="utf-8")
    aug = CodeSwitch(lexicon=f"omw:{tab}", language="fr", word_rate=1.0)
    out = aug.augment(Sample("s", {"text": "The dog chases two cats."}), np.random.default_rng(0))
    assert out.fields["text"] == "The chien chases two chat."
    assert [s["concept"] for s in out.lineage[-1].params["switches"]] == ["dog.n.01", "cat.n.01"]


def test_an_input_is_tagged_once_for_all_its_switches(monkeypatch, nlp):
    """The part-of-speech filter tags the input with spaCy (about 2 ms a sentence): a recipe making
    ``n`` switches of an input tags it once, with the outputs of tagging it for each."""
    from crossaug import Seeder
    from crossaug_text import resources
    from crossaug_text.recipes import CodeSwitchRecipe

    parsed, real_pipeline = [], resources.spacy_pipeline

    def counting(model=None):
        real = real_pipeline(model)
        return lambda text: parsed.append(text) or real(text)

    recipe = CodeSwitchRecipe(lexicon=LEX, language="tr", word_rate=0.6, phrase_rate=0.6, n=4)
    samples = good()
    resources.spacy_tokens.cache_clear()
    expected = [[o.fields["text"] for o in g] for g in recipe.process(samples, Seeder(0))]
    monkeypatch.setattr(resources, "spacy_pipeline", counting)
    resources.spacy_tokens.cache_clear()
    assert [[o.fields["text"] for o in g] for g in recipe.process(samples, Seeder(0))] == expected
    assert sorted(parsed) == sorted(s.fields["text"] for s in samples)  # once each, not four times
    assert len({o for g in expected for o in g}) > 2
