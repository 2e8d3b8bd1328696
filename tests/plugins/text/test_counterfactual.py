"""CFT-CLIP counterfactual captions (crossaug_text/counterfactual.py) with the offline spaCy NER."""

from __future__ import annotations

import json

import crossaug
import numpy as np
import pytest
from crossaug import ConfigError, Sample, Seeder
from crossaug_testing import AugmentationContract, RecipeContract

pytest.importorskip("spacy", reason="the [spacy] extra is not installed")

from crossaug_text.counterfactual import DEFAULT_TYPES, Counterfactual, CounterfactualTextRecipe, spacy_ner, swap_spans  # noqa: E402

NEWS = [
    "Angela Merkel meets Emmanuel Macron in Berlin on Tuesday.",
    "Apple unveils its new iPhone at an event in California.",
    "Serena Williams wins her first match at Wimbledon since 2019.",
    "Protesters gather outside the White House in Washington on Saturday.",
    "The United Nations warns of famine in Somalia.",
    "Lionel Messi celebrates after scoring for Argentina against Brazil.",
    "Floods force thousands from their homes in Bangladesh last week.",
    "Microsoft shares rise after strong earnings reported in January.",
    "Prime Minister Justin Trudeau speaks to reporters in Ottawa.",
    "Toyota recalls a million cars in Japan over faulty airbags.",
    "Firefighters battle a wildfire near Athens on Sunday.",
    "Greta Thunberg addresses climate activists in Stockholm.",
    "NASA launches a new telescope from Florida in December.",
    "Elon Musk announces that Tesla will build a factory in Mexico.",
    "Rescue teams search for survivors after an earthquake in Turkey.",
    "Pope Francis leads a mass at the Vatican on Christmas Day.",
    "The European Central Bank raises interest rates in Frankfurt.",
    "Narendra Modi visits a flooded village in Assam on Monday.",
    "Barack Obama campaigns for Democrats in Pennsylvania.",
    "Workers at Amazon warehouses in Germany go on strike in November.",
]


def news_samples():
    return [Sample(f"n{i}", {"text": t}) for i, t in enumerate(NEWS)]


def test_swap_spans_by_hand():
    assert swap_spans("Obama visited Paris in May", [(14, 19, "Rome"), (0, 5, "Merkel")]) == \
        "Merkel visited Rome in May"
    with pytest.raises(ConfigError):
        swap_spans("abcdef", [(0, 3, "x"), (2, 4, "y")])


def test_twenty_news_captions_change_an_entity_and_keep_its_type():
    nlp = spacy_ner()
    recipe = CounterfactualTextRecipe()
    samples = news_samples()
    recipe.fit(samples)
    groups = recipe.process(samples, Seeder(0))
    with_entities = 0
    for s, [out] in zip(samples, groups):
        ents = [e for e in nlp(s["text"]).ents if e.label_ in DEFAULT_TYPES]
        if not ents:
            assert not out.kept
            continue
        with_entities += 1
        assert out.kept, (s.id, out.reason)
        assert out.label == "negative" and out["text"] != s["text"]
        swaps = out.lineage[-1].params["swaps"]
        assert swaps
        # recompute where each replacement landed (plain walk over the original offsets)
        new_ents = {(e.start_char, e.end_char): e.label_ for e in nlp(out["text"]).ents}
        shift = 0
        for w in sorted(swaps, key=lambda w: w["start"]):
            assert s["text"][w["start"]:w["end"]] == w["text"]
            assert w["replacement"].lower() != w["text"].lower()
            start = w["start"] + shift
            end = start + len(w["replacement"])
            assert out["text"][start:end] == w["replacement"]
            assert new_ents.get((start, end)) == w["label"], (out["text"], w)  # same type, same NER
            shift += len(w["replacement"]) - (w["end"] - w["start"])
    assert with_entities == 20


def test_caption_without_entities_is_rejected_with_reason():
    groups = CounterfactualTextRecipe().process([Sample("x", {"text": "a dog runs across the grass"})], Seeder(0))
    assert not groups[0][0].kept and "no named entity" in groups[0][0].reason


def test_fit_adds_the_datasets_entities_and_seeds_vary_the_choice():
    aug = Counterfactual(pool=None, entity_types=["GPE"])
    aug.fit(news_samples())
    assert {"Berlin", "Somalia", "Ottawa", "Frankfurt"} <= set(aug.entities["GPE"])
    sample = Sample("s", {"text": "Firefighters battle a wildfire near Athens on Sunday."})
    reps = {aug.augment(sample, seed).lineage[-1].params["swaps"][0]["replacement"] for seed in range(8)}
    assert len(reps) > 1 and "Athens" not in reps


def test_max_swaps_limits_the_swaps():
    aug = Counterfactual(max_swaps=1)
    out = aug.augment(Sample("s", {"text": NEWS[0]}), 3)
    assert len(out.lineage[-1].params["swaps"]) == 1


def _tiny_bert(d):
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

    words = sorted({w.strip(".,").lower() for t in NEWS for w in t.split()})
    d.mkdir()
    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words])}
    tok = BertTokenizerFast(vocab=vocab, do_lower_case=True)
    assert len(tok) == len(vocab)
    torch.manual_seed(0)
    BertForMaskedLM(BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                               intermediate_size=32, max_position_embeddings=64)).save_pretrained(d)
    tok.save_pretrained(d)
    return str(d)


@pytest.mark.model
def test_masked_language_model_predicts_the_replacement(tmp_path):
    pytest.importorskip("torch", reason="the [llm] extra is not installed")
    model = _tiny_bert(tmp_path / "bert")
    aug = crossaug.create("augmentation", "text.counterfactual", mlm_model=model, verify_type=False, pool=None)
    out = aug.augment(Sample("s", {"text": "Greta Thunberg addresses climate activists in Stockholm."}), 0)
    swaps = out.lineage[-1].params["swaps"]
    assert swaps and all(w["source"] == "mlm" for w in swaps)
    for w in swaps:
        assert w["replacement"].lower() != w["text"].lower() and w["replacement"] in out["text"]
    # with the type check on, an MLM guess the NER does not type alike falls back to the pool
    checked = Counterfactual(mlm_model=model, max_tries=2).augment(Sample("s", {"text": NEWS[11]}), 0)
    for w in checked.lineage[-1].params["swaps"]:
        assert w["source"] in ("mlm", "pool")


class TestCounterfactualContract(AugmentationContract):
    name = "text.counterfactual"

    def good_samples(self):
        return news_samples()[:3]

    def bad_samples(self):
        return [(Sample("empty", {"text": " "}), "empty")]


class TestCounterfactualTextRecipeContract(RecipeContract):
    name = "counterfactual-text"

    def good_samples(self):
        return news_samples()[:4]


def test_run_end_to_end(tmp_path):
    data = tmp_path / "news.jsonl"
    data.write_text("\n".join(json.dumps({"id": f"n{i}", "text": t, "label": "match"})
                              for i, t in enumerate(NEWS[:5])) + "\n")
    result = crossaug.run("counterfactual-text", str(data), tmp_path / "out", seed=0, report=False,
                          params={"n": 2})
    lines = list(crossaug.read_manifest(result.output_dir))
    assert len(lines) == 10 and all(ln["kept"] and ln["label"] == "negative" for ln in lines)
    for ln in lines:
        params = ln["lineage"][-1]["params"]
        assert params["swaps"] and params["original_label"] == "match"
    assert np.mean([ln["text"] != NEWS[int(ln["parent_id"][1:])] for ln in lines]) == 1.0


@pytest.mark.model
def test_token_classification_ner_backend(tmp_path):
    pytest.importorskip("torch", reason="the [llm] extra is not installed")
    import torch
    from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast

    words = sorted({w.strip(".,").lower() for t in NEWS for w in t.split()})
    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words])}
    tok = BertTokenizerFast(vocab=vocab, do_lower_case=True)
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    torch.manual_seed(0)
    model = BertForTokenClassification(BertConfig(
        vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=64, num_labels=len(labels), id2label=dict(enumerate(labels)),
        label2id={lab: i for i, lab in enumerate(labels)}))
    model.save_pretrained(tmp_path / "ner")
    tok.save_pretrained(tmp_path / "ner")
    aug = Counterfactual(ner_model=str(tmp_path / "ner"), entity_types=["PER", "LOC"], verify_type=False)
    text = NEWS[0]
    ents = aug.find_entities(text)
    assert ents, "a random 5-label tagger tags something in a 9-word sentence"
    for start, end, ent, label in ents:
        assert 0 <= start < end <= len(text) and text[start:end] == ent and label in ("PER", "LOC")
    aug.fit(news_samples())  # the pool's names are spaCy-typed: this tagger's types come from the dataset
    assert set(aug.entities) == {"PER", "LOC"}
    out = aug.augment(Sample("s", {"text": text}), 0)
    swaps = out.lineage[-1].params["swaps"]
    assert swaps and out["text"] != text
    for w in swaps:
        rep = w["replacement"]
        if w["start"] == 0:  # a replacement opening the sentence is capitalised
            rep = rep[0].lower() + rep[1:]
        assert w["label"] in ("PER", "LOC")
        assert rep in aug.entities[w["label"]] or w["replacement"] in aug.entities[w["label"]]


def test_the_ner_finds_the_same_entities_without_the_components_it_does_not_read():
    """The offline pipeline's NER has its own embedding: skipping tok2vec, tagger and attribute
    ruler (about half of a parse) must leave every entity as the whole pipeline finds it."""
    import spacy
    from crossaug_text.counterfactual import unused_by_ner
    from crossaug_text.resources import spacy_pipeline_name

    nlp = spacy_ner()
    assert {"tok2vec", "tagger"} <= set(nlp.disabled) and nlp.pipe_names == ["ner"] and unused_by_ner(nlp) == []
    whole = spacy.load(spacy_pipeline_name(None), exclude=["parser", "lemmatizer"])
    texts = NEWS + ["Taylor Swift sang at Madison Square Garden on Friday for $2 million.",
                    "the Red Cross and the World Health Organization sent 300 doctors to Haiti in 2010.",
                    "On 4 July 1776, in Philadelphia, the Continental Congress adopted the Declaration."]
    for text in texts:
        assert [(e.start_char, e.end_char, e.label_) for e in nlp(text).ents] == \
            [(e.start_char, e.end_char, e.label_) for e in whole(text).ents], text
    ruled = spacy.blank("en")  # an entity ruler may read what the other components set: nothing is skipped
    ruled.add_pipe("entity_ruler")
    ruled.add_pipe("ner")
    assert unused_by_ner(ruled) == []


def test_an_input_is_parsed_once_for_all_its_outputs(monkeypatch):
    from crossaug_text import counterfactual

    parsed, real = [], counterfactual.spacy_ner

    def counting(name=None):
        nlp = real(name)
        return lambda text: parsed.append(text) or nlp(text)

    recipe = CounterfactualTextRecipe(n=3, verify_type=False)
    samples = news_samples()[:4]
    counterfactual._entities.cache_clear()
    expected = [[o.fields["text"] for o in g] for g in recipe.process(samples, Seeder(0))]
    monkeypatch.setattr(counterfactual, "spacy_ner", counting)
    counterfactual._entities.cache_clear()
    assert [[o.fields["text"] for o in g] for g in recipe.process(samples, Seeder(0))] == expected
    assert sorted(parsed) == sorted(s["text"] for s in samples)  # once each (was twice per output)
