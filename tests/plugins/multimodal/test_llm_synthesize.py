"""llm-synthesize: templates, format checks, the symbolic form and the recipe (registered clients, tiny models)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
import yaml
from crossaug import ConfigError, MissingResource, Sample, Seeder, create
from crossaug.cli import app
from crossaug_multimodal.llm_synthesize import (
    BUILTIN,
    MalformedOutput,
    check_output,
    format_boxes,
    load_templates,
    to_turns,
)
from crossaug_multimodal.llm_synthesize.templates import load_all
from crossaug_testing import RecipeContract
from typer.testing import CliRunner

pytest.importorskip("crossaug_text", reason="the teacher goes through the text plugin's text.llm-rewrite")
from crossaug_text.llm_clients import register_client, unregister_client  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "crossaug_image_tests_tiny_models_mm", Path(__file__).parents[1] / "image" / "tiny_models.py")
tiny = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(tiny)  # type: ignore[union-attr]

ALL = ["conversation", "detailed_description", "complex_reasoning", "tool_use", "cot_rationale"]
DETS = json.dumps({"boxes": [[4.0, 8.0, 24.0, 40.0], [30.0, 0.0, 48.0, 20.0]], "labels": ["cat", "ball"],
                   "scores": [0.9, 0.5]})


def _section(prompt: str, head: str) -> list[str]:
    """The lines under ``head:`` up to the next blank line."""
    lines = prompt.splitlines()
    start = next(i for i, x in enumerate(lines) if x.strip().startswith(head + ":")) + 1
    out = []
    for x in lines[start:]:
        if not x.strip():
            break
        out.append(x.strip())
    return out


def scripted_teacher(prompts, seeds, **options):
    """A teacher that follows each bundled template's reply format from what the prompt shows."""
    outs = []
    for p in prompts:
        if p.startswith("Question:"):  # T-SciQ rationale
            answer = re.search(r"^Correct answer: (.*)$", p, re.M).group(1)
            outs.append(json.dumps({"rationale": "The context says so; step one, step two.", "answer": answer}))
            continue
        caption = _section(p, "Captions")[0]
        if p.startswith("Captions:"):  # the user template of the command-line test
            outs.append(json.dumps({"question": "What does the caption say?", "answer": caption}))
            continue
        if "JSON list of turns" in p:
            outs.append(json.dumps([{"question": "What is in the image?", "answer": f"It shows {caption}"},
                                    {"question": "How many objects?", "answer": "Two."}]))
        elif p.endswith("Description:"):
            objs = ", ".join(x.split(":")[0] for x in _section(p, "Objects"))
            outs.append(f"The image shows {caption}. " + f"Objects seen: {objs}. " + "word " * 15)
        elif "Tools:" in p:
            outs.append("```json\n" + json.dumps([{"instruction": "Remove the cat from the photo",
                                                  "tool": "remove something from the photo",
                                                  "arguments": "image.png, cat"}]) + "\n```")
        else:
            outs.append(json.dumps({"question": "Why is the cat here?", "answer": f"Because {caption}."}))
    return outs


BAD = {"not-json": "no json here", "missing": json.dumps([{"question": "q?"}]), "empty": "",
       "tool": json.dumps([{"instruction": "do", "tool": "Fly To The Moon", "arguments": "x"}]),
       "answer": json.dumps({"rationale": "r", "answer": "blue"}), "short": "too short",
       "object": json.dumps([1, 2])}


@pytest.fixture(autouse=True, scope="module")
def clients():
    register_client("test-teacher", scripted_teacher)
    register_client("test-bad", lambda prompts, seeds, **o: [BAD[p.split("|")[0]] if "|" in p else BAD["not-json"]
                                                             for p in prompts])
    yield
    unregister_client("test-teacher")
    unregister_client("test-bad")


def _samples():
    return [Sample("a", {"image": tiny.make_image(0, (48, 40)), "text": "a cat on the grass\na cat with a ball",
                         "text.detections": DETS, "text.question": "What animal is shown?",
                         "text.answer": "a cat"}, label="cat", meta={"choices": ["a cat", "a dog"]}),
            Sample("b", {"image": tiny.make_image(1, (32, 32)), "text": "a red car on the beach",
                         "text.detections": json.dumps({"boxes": [[0, 0, 16, 16]], "labels": ["car"],
                                                        "scores": [0.7]})}, label="car")]


def _recipe(**kw):
    params = dict(templates=ALL, client="test-teacher", captioner=None, detector=None)
    params.update(kw)
    return create("recipe", "llm-synthesize", **params)


# -- templates ---------------------------------------------------------------
def test_bundled_templates_load_and_name_their_paper():
    assert sorted(BUILTIN) == sorted(ALL)
    papers = {t.name: t.source for t in load_all(ALL)}
    assert "LLaVA" in papers["conversation"] and "LLaVA" in papers["detailed_description"]
    assert "LLaVA" in papers["complex_reasoning"] and "GPT4Tools" in papers["tool_use"]
    assert "T-SciQ" in papers["cot_rationale"]
    desc = load_templates("detailed_description")[0]
    assert len(desc.instructions) == 16 and desc.output == {"format": "text", "min_words": 20}
    assert [t["name"] for t in load_templates("tool_use")[0].tools][:2] == ["Generate Image From User Input Text",
                                                                          "Detect the Given Object"]


def test_user_template_file_and_its_errors(tmp_path):
    good = tmp_path / "mine.yaml"
    good.write_text("name: caption_qa\nneeds: [captions]\nprompt: 'Captions: ${captions}. Reply {\"q\": ...}'\n"
                    "output: {format: json, shape: object, keys: [q, a]}\nturns: {human: '${q}', gpt: '${a}'}\n")
    t = load_templates(str(good))[0]
    assert t.render({"captions": "a dog"}) == 'Captions: a dog. Reply {"q": ...}'
    cases = {"prompt: '${colour}'": "unknown placeholder", "output: {format: xml}": "output.format",
             "turns: {human: '${zzz}', gpt: x}": "turns use unknown", "needs: [pixels]": "needs ['pixels']",
             "output: {format: json, shape: list, keys: []}": "output.keys"}
    for line, msg in cases.items():
        text = good.read_text()
        key = line.split(":")[0]
        text = re.sub(rf"^{key}:.*$", line, text, flags=re.M)
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(ConfigError, match=re.escape(msg)):
            load_templates(str(bad))
    with pytest.raises(ConfigError, match="did you mean conversation"):
        load_templates("conversaton")
    with pytest.raises(MissingResource):
        load_templates(str(tmp_path / "absent.yaml"))
    both = tmp_path / "two.json"
    one = {"name": "x", "prompt": "p", "output": {"format": "text"}, "turns": {"human": "h", "gpt": "${text}"}}
    both.write_text(json.dumps([one, {**one, "prompt": "q"}]))
    with pytest.raises(ConfigError, match="appear twice"):
        load_all([str(both)])


# -- pure pieces -------------------------------------------------------------
def test_boxes_are_normalised_by_the_image_size_by_hand():
    # cat: 4/48, 8/40, 24/48, 40/40 ; ball: 30/48, 0/40, 48/48, 20/40
    assert format_boxes(DETS, 48, 40) == "cat: [0.083, 0.200, 0.500, 1.000]\nball: [0.625, 0.000, 1.000, 0.500]"
    assert format_boxes({"boxes": [], "labels": [], "scores": []}, 10, 10) == ""
    with pytest.raises(ValueError, match="x1, y1, x2, y2"):
        format_boxes({"boxes": [[1, 2, 3]]}, 10, 10)


def test_format_checks_by_hand():
    conv, tools, cot, desc = (load_templates(n)[0] for n in
                              ("conversation", "tool_use", "cot_rationale", "detailed_description"))
    assert check_output(conv, 'Here: [{"question": " What  is it? ", "answer": "A cat."}] thanks', {}) == \
        [{"question": "What is it?", "answer": "A cat."}]
    assert check_output(conv, '{"question": "q?", "answer": "a"}', {}) == [{"question": "q?", "answer": "a"}]
    for text, msg in (("no json", "no '[' or '{'"), ('[{"question": "q?"', "not JSON"),
                      ('[{"question": "q?", "answer": ""}]', "item 1: missing or empty 'answer'"),
                      ("[]", "0 items"), ("[1]", "expected a JSON list of objects")):
        with pytest.raises(MalformedOutput, match=re.escape(msg)):
            check_output(conv, text, {})
    row = check_output(tools, '[{"instruction": "i", "tool": "segment THE image", "arguments": "image.png"}]', {})
    assert row[0]["tool"] == "Segment the Image"
    with pytest.raises(MalformedOutput, match="is not one of the template's tools"):
        check_output(tools, '[{"instruction": "i", "tool": "Fly", "arguments": "x"}]', {})
    assert check_output(cot, '{"rationale": "r", "answer": "A Cat."}', {"answer": "a cat"})[0]["answer"] == "A Cat."
    with pytest.raises(MalformedOutput, match="differs from the known answer 'a cat'"):
        check_output(cot, '{"rationale": "r", "answer": "a dog"}', {"answer": "a cat"})
    with pytest.raises(MalformedOutput, match="3 words; template 'detailed_description' wants at least 20"):
        check_output(desc, "only three words", {})
    turns = to_turns(conv, [{"question": "q1?", "answer": "a1"}, {"question": "q2?", "answer": "a2"}], {})
    assert turns == [{"from": "human", "value": "<image>\nq1?"}, {"from": "gpt", "value": "a1"},
                     {"from": "human", "value": "q2?"}, {"from": "gpt", "value": "a2"}]


# -- the recipe --------------------------------------------------------------
def test_every_bundled_template_writes_kept_samples_with_lineage():
    groups = _recipe().process(_samples(), Seeder(0))
    a = {o.id: o for o in groups[0]}
    assert sorted(a) == sorted(f"a~{n}-0" for n in ALL) and all(o.kept for o in a.values()), \
        [(o.id, o.reason) for o in a.values()]
    conv = json.loads(a["a~conversation-0"]["text.conversation"])
    assert conv[0] == {"from": "human", "value": "<image>\nWhat is in the image?"}
    assert conv[1] == {"from": "gpt", "value": "It shows a cat on the grass"} and len(conv) == 4
    tool = json.loads(a["a~tool_use-0"]["text.conversation"])
    assert tool[1]["value"] == ("Thought: Do I need to use a tool? Yes\nAction: Remove Something From The Photo\n"
                                "Action Input: image.png, cat")
    cot = json.loads(a["a~cot_rationale-0"]["text.conversation"])
    assert cot[0]["value"] == ("<image>\nQuestion: What animal is shown?\nContext: a cat on the grass\n"
                               "a cat with a ball\nOptions: (A) a cat (B) a dog")
    assert cot[1]["value"] == "The context says so; step one, step two. The answer is a cat."
    desc = a["a~detailed_description-0"]
    instruction = desc.lineage[-1].params["instruction"]
    assert instruction in load_templates("detailed_description")[0].instructions
    assert json.loads(desc["text.conversation"])[0]["value"] == f"<image>\n{instruction}"
    for o in a.values():
        teacher, mine = o.lineage[-2], o.lineage[-1]
        assert teacher.name == "text.llm-rewrite" and teacher.model == "client:test-teacher"
        assert mine.name == "llm-synthesize" and mine.params["template"] == o.meta["template"]
        assert mine.params["teacher_model"] == "client:test-teacher" and mine.params["teacher"] == "text.llm-rewrite"
        t = load_templates(o.meta["template"])[0]
        ctx = {"captions": "a cat on the grass\na cat with a ball", "label": "cat",
               "boxes": "cat: [0.083, 0.200, 0.500, 1.000]\nball: [0.625, 0.000, 1.000, 0.500]",
               "question": "What animal is shown?", "answer": "a cat", "choices": "(A) a cat (B) a dog",
               "instruction": mine.params["instruction"]}
        assert teacher.params["prompt"] == t.render(ctx) and teacher.seed == teacher.params["seed"]
        assert o["image"] is _samples()[0]["image"] or o["image"].size == (48, 40)
    # b has no question: T-SciQ's template is rejected with the reason, the others kept
    b = {o.id: o for o in groups[1]}
    assert not b["b~cot_rationale-0"].kept
    assert b["b~cot_rationale-0"].reason == "template 'cot_rationale' needs question: the sample has no question " \
                                            "(field 'text.question')"
    assert all(o.kept for k, o in b.items() if k != "b~cot_rationale-0")


def test_malformed_empty_and_duplicate_outputs_are_rejected_with_reasons(tmp_path):
    lines = []
    for key in BAD:
        fmt = ("{format: text, min_words: 3}" if key in ("short", "empty") else
               "{format: json, shape: list, keys: [instruction, tool, arguments], allowed: {tool: tools}}"
               if key == "tool" else "{format: json, shape: object, keys: [rationale, answer], "
               "matches: {answer: answer}}" if key == "answer" else
               "{format: json, shape: list, keys: [question, answer]}")
        extra = "tools: [{name: Segment the Image}]\n" if key == "tool" else ""
        gpt = "${text}" if key in ("short", "empty") else "${answer}" if key != "tool" else "${tool}"
        human = "h"
        lines.append(f"name: {key}\nprompt: '{key}|${{captions}}'\n{extra}output: {fmt}\n"
                     f"turns: {{human: '{human}', gpt: '{gpt}'}}\n")
    files = []
    for i, text in enumerate(lines):
        f = tmp_path / f"t{i}.yaml"
        f.write_text(text)
        files.append(str(f))
    sample = Sample("s", {"image": tiny.make_image(2), "text": "a cat", "text.answer": "red"})
    out = {o.meta["template"]: o for o in _recipe(templates=files, client="test-bad").process([sample],
                                                                                              Seeder(0))[0]}
    reasons = {k: o.reason for k, o in out.items()}
    assert reasons == {
        "not-json": "malformed output for template 'not-json': not JSON: no '[' or '{' in the output",
        "missing": "malformed output for template 'missing': item 1: missing or empty 'answer'",
        "empty": "the teacher wrote nothing",
        "tool": "malformed output for template 'tool': item 1: tool 'Fly To The Moon' is not one of the "
                "template's tools",
        "answer": "malformed output for template 'answer': item 1: answer 'blue' differs from the known answer 'red'",
        "short": "malformed output for template 'short': 2 words; template 'short' wants at least 3",
        "object": "malformed output for template 'object': expected a JSON list of objects, got list"}
    for o in out.values():
        assert not o.kept and o.lineage[-1].name == "llm-synthesize"
    assert out["not-json"].lineage[-2].params["output"] == "no json here", "the raw reply stays in lineage"
    # the scripted teacher ignores the seed: the second and third outputs repeat the first
    g = _recipe(templates=["complex_reasoning"], n=3).process(_samples()[:1], Seeder(0))[0]
    assert [o.reason for o in g] == [None, "duplicate of a~complex_reasoning-0", "duplicate of a~complex_reasoning-0"]
    assert [o.reason for o in _recipe(templates=["complex_reasoning"], n=3, dedupe=False).process(
        _samples()[:1], Seeder(0))[0]] == [None, None, None]


def test_missing_captions_and_detections_are_rejections_with_the_sample_reason():
    bare = Sample("bare", {"image": tiny.make_image(3)})
    empty = Sample("nodet", {"image": tiny.make_image(4), "text": "a dog",
                             "text.detections": json.dumps({"boxes": [], "labels": [], "scores": []})})
    groups = _recipe(templates=["conversation", "complex_reasoning"]).process([bare, empty], Seeder(0))
    r = {o.id: o.reason for g in groups for o in g}
    assert r["bare~conversation-0"] == ("template 'conversation' needs captions: no caption in field 'text' and "
                                        "no captioner")
    assert r["bare~complex_reasoning-0"].startswith("template 'complex_reasoning' needs captions")
    assert r["nodet~conversation-0"] is None
    assert r["nodet~complex_reasoning-0"] == ("template 'complex_reasoning' needs boxes: no detections in the "
                                              "sample's detections")


def test_bad_configuration():
    with pytest.raises(ConfigError, match="did you mean"):
        _recipe(teacher="text.llm-rewrit")
    with pytest.raises(ConfigError, match="has no rewrite"):
        _recipe(teacher="text.eda")
    with pytest.raises(ConfigError, match="maps text -> image"):
        _recipe(captioner="image.text-to-image.diffusers")
    with pytest.raises(ConfigError, match="n must be"):
        _recipe(n=0)
    with pytest.raises(ConfigError, match="would overwrite"):
        _recipe(out_field="text")


class TestLLMSynthesizeContract(RecipeContract):
    name = "llm-synthesize"
    params = {"templates": ALL, "client": "test-teacher", "captioner": None, "detector": None}

    def good_samples(self):
        return _samples()

    def bad_samples(self):
        return [(Sample("noimage", {"text": "a cat"}), "needs field 'image'")]


# -- tiny real models ----------------------------------------------------------
@pytest.fixture(scope="module")
def image_models(tmp_path_factory):
    pytest.importorskip("transformers", reason="captioner and detector need crossaug-image[transformers]")
    pytest.importorskip("crossaug_image", reason="captioner and detector come from the image plugin")
    return (str(tiny.build_blip(tmp_path_factory.mktemp("blip"))),
            str(tiny.build_owlvit(tmp_path_factory.mktemp("owlvit"))))


@pytest.mark.model
def test_captions_and_boxes_from_registered_image_models(image_models):
    blip, owl = image_models
    r = create("recipe", "llm-synthesize", templates=["detailed_description"], client="test-teacher",
               caption_model=blip, caption_params={"max_new_tokens": 5, "min_new_tokens": 2}, detect_model=owl,
               detect_params={"phrases": ["a photo of a {label}", "a tree"], "threshold": 0.0,
                              "max_detections": 3}, device="cpu")
    s = Sample("img", {"image": tiny.make_image(5, (48, 40))}, label="cat")
    o = r.process([s], Seeder(0))[0][0]
    assert o.kept, o.reason
    names = [st.name for st in o.lineage]
    assert names == ["image.caption.blip", "image.detect", "text.llm-rewrite", "llm-synthesize"]
    cap_step, det_step = o.lineage[0], o.lineage[1]
    assert cap_step.model == blip and det_step.model == owl
    # independent: the same transforms built by name give the caption and detections the prompt shows
    cap = create("transform", "image.caption.blip", model=blip, max_new_tokens=5, min_new_tokens=2,
                 device="cpu")([s], [cap_step.seed])[0]["text"]
    det = json.loads(create("transform", "image.detect", model=owl, phrases=["a photo of a {label}", "a tree"],
                            threshold=0.0, max_detections=3, device="cpu")([s], [0])[0]["text.detections"])
    assert det["boxes"], "threshold 0 keeps the best boxes"
    want = [f"{lab}: [{x0 / 48:.3f}, {y0 / 40:.3f}, {x1 / 48:.3f}, {y1 / 40:.3f}]"
            for (x0, y0, x1, y1), lab in zip(det["boxes"], det["labels"])]
    prompt = o.lineage[2].params["prompt"]
    assert _section(prompt, "Captions") == [" ".join(cap.split())]
    assert _section(prompt, "Objects") == want
    assert o.meta.get("boxes") is None, "the recipe's detector leaves meta alone"


@pytest.fixture(scope="module")
def tiny_teacher(tmp_path_factory):
    """A tiny random GPT-2 with a word-level tokenizer over the conversation prompt's words."""
    pytest.importorskip("transformers", reason="the transformers teacher needs crossaug-text[llm]")
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    words = set(re.findall(r"\w+|[^\w\s]", load_templates("conversation")[0].prompt)) | {"a", "cat", "grass"}
    words -= set("[]{}")  # the tiny model cannot write JSON: every reply is malformed
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(sorted(words))}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    d = tmp_path_factory.mktemp("teacher")
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(vocab_size=len(vocab), n_embd=16, n_layer=1, n_head=2, n_positions=512,
                               bos_token_id=1, eos_token_id=1, pad_token_id=0)).save_pretrained(d)
    fast.save_pretrained(d)
    return str(d)


@pytest.mark.model
def test_a_real_tiny_causal_lm_teacher_through_text_llm_rewrite(tiny_teacher):
    r = create("recipe", "llm-synthesize", templates=["conversation"], model=tiny_teacher, captioner=None,
               detector=None, n=2, teacher_params={"max_new_tokens": 8}, device="cpu")
    outs = r.process([Sample("g", {"image": tiny.make_image(6), "text": "a cat on grass"})], Seeder(0))[0]
    rewrite = create("augmentation", "text.llm-rewrite", model=tiny_teacher, prompt="", template="{text}",
                     max_new_tokens=8, stop=[], device="cpu")
    for o in outs:
        teacher = o.lineage[-2]
        assert teacher.name == "text.llm-rewrite" and teacher.model == tiny_teacher
        assert teacher.params["prompt"] == load_templates("conversation")[0].render({"captions": "a cat on grass"})
        # the same prompt and seed through the teacher built on its own: the same reply
        again = rewrite.rewrite([teacher.params["prompt"]], [teacher.params["seed"]])[0]
        assert teacher.params["output"] == ("" if again == teacher.params["prompt"] else again)
        assert teacher.params["output"].strip()
        assert not o.kept and o.reason == ("malformed output for template 'conversation': not JSON: no '[' or '{' "
                                           "in the output")
    assert outs[0].lineage[-2].seed != outs[1].lineage[-2].seed


# -- command line ----------------------------------------------------------------
def test_cli_end_to_end_with_a_user_template(tmp_path):
    rows = []
    for i, s in enumerate(_samples()):
        s["image"].save(tmp_path / f"{i}.png")
        rows.append(json.dumps({"id": s.id, "image": f"{i}.png", "text": s["text"],
                                "text.detections": s["text.detections"], "label": s.label}))
    (tmp_path / "in.jsonl").write_text("\n".join(rows) + "\n")
    mine = tmp_path / "qa.yaml"
    mine.write_text(yaml.safe_dump({
        "name": "qa", "needs": ["captions"],
        "prompt": 'Captions:\n${captions}\n\nReply with one JSON object only: {"question": ..., "answer": ...}.',
        "output": {"format": "json", "shape": "object", "keys": ["question", "answer"]},
        "turns": {"human": "${question}", "gpt": "${answer}"}}))
    res = CliRunner().invoke(app, ["run", "llm-synthesize", "-i", str(tmp_path / "in.jsonl"), "-o",
                                   str(tmp_path / "o"), "--no-progress", "-p", "client=test-teacher",
                                   "-p", "captioner=null", "-p", "detector=null",
                                   "-p", f"templates=[conversation, complex_reasoning, {mine}]"])
    assert res.exit_code == 0, res.output
    recs = [json.loads(x) for x in (tmp_path / "o" / "manifest.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in recs) == sorted(f"{p}~{t}-0" for p in "ab"
                                                   for t in ("conversation", "complex_reasoning", "qa"))
    assert all(r["kept"] for r in recs), [r["reason"] for r in recs]
    for r in recs:
        turns = json.loads(r["text.conversation"])
        assert turns[0]["from"] == "human" and turns[0]["value"].startswith("<image>\n")
        assert r["lineage"][-1]["params"]["template"] in ("conversation", "complex_reasoning", "qa")
        assert r["lineage"][-2]["model"] == "client:test-teacher" and r["lineage"][-2]["params"]["prompt"]
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert (summary["kept"], summary["rejected"]) == (6, 0)
