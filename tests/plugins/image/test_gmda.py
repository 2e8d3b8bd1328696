"""gmda on tiny random models (InstructBLIP, Stable Diffusion) and the offline spaCy NER (CPU, seconds).

A random MLLM writes gibberish, so the behaviour of parsing, box reuse and the three
filters is checked with a test transform that writes given annotated sentences in place
of the MLLM; the real tiny InstructBLIP shows the instruction and the sampling seeds reach
the model, and runs the recipe from the command line.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import crossaug
import pytest
from crossaug import BadSample, ConfigError, Sample, Seeder, Transform, create
from crossaug_image.filters.entity_consistency import span_f1
from crossaug_image.recipes.gmda import scale_box
from crossaug_image.recipes.gmda_text import entities_from_markup, linearize, parse_annotated, parse_entities
from crossaug_testing import FilterContract, RecipeContract

pytestmark = pytest.mark.model

T2I = {"num_inference_steps": 2, "guidance_scale": 1.0, "height": 32, "width": 32}
ENTS = [{"text": "Kevin Durant", "type": "PER", "box": [4, 2, 24, 20]}, ["Oklahoma", "LOC"]]


def _spacy():
    pytest.importorskip("spacy", reason="the NER check needs crossaug-image[spacy]")
    from crossaug import MissingResource
    from crossaug_image.filters.entity_consistency import spacy_ner

    try:
        spacy_ner()
    except MissingResource as exc:
        pytest.skip(f"no offline spaCy pipeline: {exc}")


@pytest.fixture(scope="module")
def ib_dir(tmp_path_factory, tiny):
    pytest.importorskip("transformers", reason="image.vqa needs crossaug-image[transformers]")
    return str(tiny.build_instructblip(tmp_path_factory.mktemp("instructblip")))


def _inputs(tiny):
    return [Sample("g0", {"image": tiny.make_image(0), "text": "Kevin Durant arrives in Oklahoma"},
                   meta={"entities": ENTS, "boxes": [[4, 2, 24, 20]]}),
            Sample("g1", {"image": tiny.make_image(1), "text": "[PER Barack Obama] spoke in [LOC Chicago]"})]


def _params(ib_dir, sd_dir, **over):
    params = dict(mllm_model=ib_dir, instruction="{entities}", max_new_tokens=10, image_model=sd_dir,
                  image_params=T2I, device="cpu", l=2)
    params.update(over)
    return params


# -- parsing -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, plain, spans, how", [
    ("[PER Kevin  Durant] lands in [LOC Oklahoma] .", "Kevin Durant lands in Oklahoma .",
     [("Kevin Durant", "PER"), ("Oklahoma", "LOC")], "markup"),
    ("  [per kevin durant]\n\tin [FOO bar] [ORG NBA]", "kevin durant in [FOO bar] NBA",
     [("kevin durant", "PER"), ("NBA", "ORG")], "markup"),
    ("Kevin Durant waves; kevin durant smiles in oklahoma", "Kevin Durant waves; kevin durant smiles in oklahoma",
     [("Kevin Durant", "PER"), ("kevin durant", "PER"), ("oklahoma", "LOC")], "matched"),
    ("Kevin Duranty in Oklahomas", "Kevin Duranty in Oklahomas", [], "none"),
])
def test_parse_annotated_spans_index_the_plain_text(text, plain, spans, how):
    ents = parse_entities(ENTS, "s")
    got_plain, got, got_how = parse_annotated(text, ents)
    assert (got_plain, got_how) == (plain, how)
    assert [(s["text"], s["type"]) for s in got] == spans
    assert all(got_plain[s["start"]:s["end"]] == s["text"] for s in got)
    # markup of the plain text and its spans parses back to the same spans
    again = parse_annotated(linearize(got_plain, got), ents)
    assert (again[0], [(s["start"], s["end"], s["type"]) for s in again[1]]) == \
        (got_plain, [(s["start"], s["end"], s["type"]) for s in got]) or how == "none"


def test_the_given_entitys_box_follows_its_span():
    _, spans, _ = parse_annotated("[PER Kevin Durant] and [LOC Oklahoma]", parse_entities(ENTS, "s"))
    assert [s["box"] for s in spans] == [[4, 2, 24, 20], None]
    assert entities_from_markup("[PER A B] x [LOC C]") == [{"text": "A B", "type": "PER", "box": None},
                                                           {"text": "C", "type": "LOC", "box": None}]


def test_span_f1_and_box_scaling_by_hand():
    a = [(0, 12, "PER"), (30, 38, "LOC")]
    assert span_f1(a, a) == 1.0
    assert span_f1(a, [(0, 12, "PER")]) == pytest.approx(2 * 1 / 3)  # 2|A&P| / (|A|+|P|)
    assert span_f1(a, [(0, 12, "LOC"), (30, 38, "LOC"), (40, 45, "PER")]) == pytest.approx(2 * 1 / 5)
    assert span_f1([], [(0, 1, "PER")]) == 0.0
    assert scale_box([6, 5, 48, 40], 32 / 48, 32 / 40) == [4.0, 4.0, 32.0, 32.0]


# -- the filters ---------------------------------------------------------------------------------------
def _annotated(sid: str, text: str) -> Sample:
    plain, spans, _ = parse_annotated(text, parse_entities(ENTS, sid))
    return Sample(sid, {"text": plain}, meta={"entities": spans})


class TestMinWordsContract(FilterContract):
    name = "image.min-words"
    params = {"min_words": 5}

    def pairs(self):
        p = Sample("p", {"text": "x"})
        return [(Sample("a", {"text": "Kevin Durant waves to fans"}), p, True),
                (Sample("b", {"text": "Kevin Durant waves - ."}), p, False),
                (Sample("c", {"text": "one two three four five six"}), p, True)]

    def bad_samples(self):
        return [(Sample("no-text", {"text.other": "x"}), "text")]


class TestEntityConsistencyContract(FilterContract):
    name = "image.entity-consistency"

    @pytest.fixture(autouse=True)
    def _needs_spacy(self):
        _spacy()

    def pairs(self):
        p = Sample("p", {"text": "x"})
        return [(_annotated("ok", "[PER Kevin Durant] waves to fans in [LOC Oklahoma] tonight ."), p, True),
                (_annotated("type", "[LOC Kevin Durant] waves to fans in [LOC Oklahoma] tonight ."), p, False),
                (_annotated("missed", "[PER Kevin Durant] waves to fans in Oklahoma tonight ."), p, False),
                (_annotated("none", "a man waves to the fans tonight ."), p, False)]

    def bad_samples(self):
        return [(Sample("no-spans", {"text": "Kevin Durant waves"}), "entity spans")]


def test_entity_consistency_scores_are_the_span_f1_against_spacy():
    _spacy()
    f = create("filter", "image.entity-consistency", min_agreement=0.5)
    c = [_annotated("a", "[PER Kevin Durant] waves to fans in Oklahoma tonight ."),
         _annotated("b", "a man waves to the fans tonight .")]
    out = f(c, c)
    assert [o.lineage[-1].score for o in out] == [pytest.approx(2 / 3), 0.0]  # spaCy: PERSON + GPE; 1 of 1 annotated
    assert out[0].kept and not out[1].kept
    assert "none of the annotated entities" in out[1].reason


def ner_upper_words(texts: list[str]) -> list[list[tuple[int, int, str]]]:
    """A toy NER for the function hook: every capitalised word is a PER."""
    out = []
    for t in texts:
        spans, pos = [], 0
        for w in t.split(" "):
            if w[:1].isupper():
                spans.append((pos, pos + len(w), "PER"))
            pos += len(w) + 1
        out.append(spans)
    return out


def test_entity_consistency_with_a_users_ner_function():
    f = create("filter", "image.entity-consistency", function=ner_upper_words)
    good = Sample("g", {"text": "Ann meets Bob"}, meta={"entities": [
        {"start": 0, "end": 3, "type": "PER"}, {"start": 10, "end": 13, "type": "PER"}]})
    bad = Sample("b", {"text": "Ann meets Bob"}, meta={"entities": [{"start": 0, "end": 3, "type": "PER"}]})
    assert [o.kept for o in f([good, bad], [good, bad])] == [True, False]
    assert f.to_dict()["params"]["function"].endswith(":ner_upper_words")


# -- the recipe with given MLLM outputs ------------------------------------------------------------------
class Scripted(Transform):
    """Writes ``sentences[k]`` for the k-th sample of each call (the l candidates of one input, in order)."""

    name: ClassVar[str] = "test.scripted-mllm"
    source: ClassVar[str] = "image"
    target: ClassVar[str] = "text"

    def __init__(self, sentences: list[str], out_field: str = "text.annotated") -> None:
        self.sentences, self.out_field = sentences, out_field

    def transform_batch(self, samples: Any, seeds: Any) -> list[Any]:
        return [self.sentences[k] for k in range(len(samples))]


SCRIPT = ["[PER Kevin Durant] waves to fans in [LOC Oklahoma] tonight .",
          "[PER Kevin Durant] smiles",
          "[PER Kevin Durant] waves to fans in [LOC Oklahoma] tonight",
          "a man holds a ball near the crowd",
          "[LOC Kevin Durant] waves to fans in [LOC Oklahoma] tonight ."]


def test_parsing_box_reuse_and_the_three_filters(ib_dir, sd_dir, tiny):
    _spacy()
    r = create("recipe", "gmda", **_params(ib_dir, sd_dir, l=5))
    r.forward = [Scripted(SCRIPT)]
    group = r.process(_inputs(tiny)[:1], Seeder(0))[0]
    assert [c.id for c in group] == [f"g0~{i}.0.0" for i in range(5)]
    verdicts = [(c.kept, (c.reason or "").split(":")[0]) for c in group]
    assert verdicts == [(True, ""), (False, "image.min-words"), (False, "duplicate"),
                        (False, "image.entity-consistency"), (False, "image.entity-consistency")]
    assert group[2].reason == "duplicate: same output as g0~0.0.0"
    assert group[1].reason == "image.min-words: 3 words < 5"
    kept = group[0]
    assert kept["text"] == "Kevin Durant waves to fans in Oklahoma tonight ."
    assert kept["text.annotated"] == SCRIPT[0] and "text.gmda-instruction" not in kept.fields
    assert kept["image"].size == (32, 32)
    # the original 48x40 boxes, scaled to the 32x32 generated image
    assert kept.meta["entities"] == [
        {"text": "Kevin Durant", "type": "PER", "start": 0, "end": 12, "box": [2.67, 1.6, 16.0, 16.0]},
        {"text": "Oklahoma", "type": "LOC", "start": 30, "end": 38, "box": None}]
    assert kept.meta["boxes"] == [[2.67, 1.6, 16.0, 16.0]]
    names = [s.name for s in kept.lineage]
    assert names == ["test.scripted-mllm", "gmda.parse-annotations", "image.text-to-image.diffusers",
                     "gmda.reuse-boxes", "image.min-words", "image.entity-consistency"]
    assert kept.lineage[2].params["prompt"] == kept["text"] and kept.lineage[2].model == sd_dir
    assert kept.lineage[3].params == {"from_size": [48, 40], "to_size": [32, 32], "entity_boxes": 1, "boxes": 1}
    assert [kept.lineage[4].score, kept.lineage[5].score] == [8.0, 1.0]  # "." is no word
    assert kept.lineage[1].params["annotation"] == "markup"


def test_without_dedupe_the_repeat_is_kept(ib_dir, sd_dir, tiny):
    _spacy()
    r = create("recipe", "gmda", **_params(ib_dir, sd_dir, l=3, dedupe=False, min_words=None))
    r.forward = [Scripted(SCRIPT)]
    assert [c.kept for c in r.process(_inputs(tiny)[:1], Seeder(0))[0]] == [True, True, True]


# -- the real tiny MLLM ------------------------------------------------------------------------------------
def test_the_instruction_and_sampling_seeds_reach_the_mllm(ib_dir, sd_dir, tiny):
    r = create("recipe", "gmda", **_params(ib_dir, sd_dir, l=3, top_k=5, top_p=0.8, entity_check=False,
                                           min_words=None, dedupe=False))
    group = r.process(_inputs(tiny)[:1], Seeder(0))[0]
    assert len(group) == 3
    first = [c.lineage[0] for c in group]
    assert all(s.name == "image.vqa" and s.model == ib_dir for s in first)
    assert {s.params["question"] for s in first} == {"Kevin Durant (PER), Oklahoma (LOC)"}
    assert all(s.params["mode"] == "sample" for s in first) and len({s.seed for s in first}) == 3
    vqa = create("transform", "image.vqa", model=ib_dir, question="Kevin Durant (PER), Oklahoma (LOC)",
                 prompt_template="{question}", do_sample=True, top_k=5, top_p=0.8, max_new_tokens=10,
                 out_field="text.annotated", device="cpu")
    for c, s in zip(group, first):
        direct = vqa([_inputs(tiny)[0]], [s.seed])[0]
        assert c["text.annotated.forward"] == direct["text.annotated"]
        assert c.lineage[1].name == "gmda.parse-annotations"


class TestGMDAContract(RecipeContract):
    name = "gmda"

    @pytest.fixture(autouse=True)
    def _models(self, ib_dir, sd_dir, tiny):
        _spacy()
        type(self).params = _params(ib_dir, sd_dir)
        self._tiny = tiny

    def good_samples(self):
        return _inputs(self._tiny)


@pytest.mark.parametrize("meta, text, fragment", [
    ({}, "no markup here", "non-empty entity list"),
    ({"entities": []}, "x", "non-empty entity list"),
    ({"entities": [{"text": "", "type": "PER"}]}, "x", "non-empty text and type"),
    ({"entities": [["Kevin", "PER", [0, 0, 60, 10]]]}, "x", "outside the 48x40 image"),
    ({"entities": ENTS, "boxes": [[10, 10, 5, 20]]}, "x", "outside the 48x40 image or is empty"),
    ({"entities": ENTS, "boxes": "0 0 4 4"}, "x", "list of boxes"),
])
def test_bad_inputs_name_the_sample(ib_dir, sd_dir, tiny, meta, text, fragment):
    r = create("recipe", "gmda", **_params(ib_dir, sd_dir))
    with pytest.raises(BadSample, match=fragment) as info:
        r.process([Sample("bad7", {"image": tiny.make_image(0), "text": text}, meta=meta)], Seeder(0))
    assert "bad7" in str(info.value)
    with pytest.raises(BadSample, match="text"):
        r.process([Sample("notext", {"image": tiny.make_image(0)}, meta={"entities": ENTS})], Seeder(0))


def test_config_errors(ib_dir, sd_dir):
    with pytest.raises(ConfigError, match="entities"):
        create("recipe", "gmda", **_params(ib_dir, sd_dir, instruction="describe the image"))
    with pytest.raises(ConfigError, match="did you mean"):
        create("recipe", "gmda", **_params(ib_dir, sd_dir, mllm="image.vq"))
    with pytest.raises(ConfigError, match="min_words"):
        create("recipe", "gmda", **_params(ib_dir, sd_dir, min_words=0))
    r = create("recipe", "gmda", **_params(ib_dir, sd_dir, ner_params={"min_agreement": 0.5}))
    again = crossaug.from_dict(json.loads(json.dumps(r.to_dict())))
    assert again.to_dict() == r.to_dict() and again.filters[1].min_agreement == 0.5


def test_cli_end_to_end(tmp_path, ib_dir, sd_dir, tiny):
    _spacy()
    from crossaug.cli import app
    from typer.testing import CliRunner

    rows = []
    for i, s in enumerate(_inputs(tiny)):
        s["image"].save(tmp_path / f"{i}.png")
        rows.append(json.dumps({"id": s.id, "image": f"{i}.png", "text": s["text"], **s.meta}))
    rows.append(json.dumps({"id": "off", "image": "0.png", "text": "Kevin Durant waves",
                            "entities": [["Kevin Durant", "PER", [0, 0, 90, 10]]]}))  # box outside the 48x40 image
    (tmp_path / "ner.jsonl").write_text("\n".join(rows) + "\n")
    res = CliRunner().invoke(app, [
        "run", "gmda", "-i", str(tmp_path / "ner.jsonl"), "-o", str(tmp_path / "o"), "--no-progress",
        "-p", f"mllm_model={ib_dir}", "-p", "instruction='{entities}'", "-p", "max_new_tokens=10",
        "-p", f"image_model={sd_dir}",
        "-p", "image_params={num_inference_steps: 2, guidance_scale: 1.0, height: 32, width: 32}",
        "-p", "l=3", "-p", "device=cpu"])
    assert res.exit_code == 0, res.output
    recs = [json.loads(x) for x in (tmp_path / "o" / "manifest.jsonl").read_text().splitlines()]
    bad = [r for r in recs if r["parent_id"] == "off"]
    assert len(bad) == 1 and not bad[0]["kept"] and "outside the 48x40 image" in bad[0]["reason"]
    out = [r for r in recs if r["id"] != r["parent_id"]]
    assert len(out) == 6 and {r["parent_id"] for r in out} == {"g0", "g1"}
    for r in out:
        names = [s["name"] for s in r["lineage"]]
        assert names[:4] == ["image.vqa", "gmda.parse-annotations", "image.text-to-image.diffusers",
                             "gmda.reuse-boxes"]
        assert r["kept"] or r["reason"].split(":")[0] in ("image.min-words", "image.entity-consistency", "duplicate")
        assert r["lineage"][0]["params"]["question"] in ("Kevin Durant (PER), Oklahoma (LOC)",
                                                         "Barack Obama (PER), Chicago (LOC)")
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary is not None


def test_entity_consistency_with_a_tiny_transformers_ner(tmp_path):
    """``ner_model`` loads a token-classification model by path; its grouped entities, mapped onto the
    annotation types, are what the span F1 is computed against (recomputed here from the pipeline)."""
    pytest.importorskip("transformers", reason="a transformers NER needs crossaug-image[transformers]")
    import torch
    import transformers
    from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "kevin", "durant", "waves", "in", "oklahoma", "."]
    (tmp_path / "vocab.txt").write_text("\n".join(words) + "\n")
    BertTokenizerFast(str(tmp_path / "vocab.txt")).save_pretrained(tmp_path)
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    torch.manual_seed(0)  # this random model tags "Oklahoma" LOC (and more), so the F1 is neither 0 nor 1
    BertForTokenClassification(BertConfig(vocab_size=len(words), hidden_size=16, num_hidden_layers=1,
                                          num_attention_heads=2, intermediate_size=16, max_position_embeddings=32,
                                          id2label=dict(enumerate(labels)),
                                          label2id={x: i for i, x in enumerate(labels)})).save_pretrained(tmp_path)
    f = create("filter", "image.entity-consistency", ner_model=str(tmp_path), min_agreement=0.0, device="cpu")
    c = _annotated("t", "[PER Kevin Durant] waves in [LOC Oklahoma] .")
    out = f([c], [c])[0]
    pipe = transformers.pipeline("token-classification", model=str(tmp_path), aggregation_strategy="simple",
                                 device="cpu")
    found = {(d["start"], d["end"], d["entity_group"]) for d in pipe(c["text"])}
    assert set(f.find([c["text"]])[0]) == found
    annotated = {(0, 12, "PER"), (22, 30, "LOC")}
    hits = len(annotated & found)
    assert hits >= 1 and found != annotated
    assert out.lineage[-1].score == pytest.approx(2 * hits / (len(annotated) + len(found)))
    assert out.lineage[-1].model == str(tmp_path)
