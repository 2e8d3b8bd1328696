"""ALIA (recipe ``alia``): domain prompt, domain parsing, both filters against plain loops, lineage, bad inputs.

Tiny random models (BLIP, CLIP, Stable Diffusion img2img and InstructPix2Pix, GPT-2) are built once
per module and loaded through the public paths; the language model is a registered deterministic
client, and one test goes through a real tiny GPT-2 via ``text.llm-rewrite``.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from crossaug import BadSample, ConfigError, Sample, Seeder, create
from crossaug_image.recipes.alia_domains import (
    DOMAIN_PROMPT,
    clean_captions,
    domain_request,
    edit_prompt,
    parse_domains,
)
from crossaug_image.recipes.alia_filters import LinearProbe
from crossaug_testing import RecipeContract

pytestmark = pytest.mark.model

CLIENT = "alia-test-client"
ANSWER = ("Here you go:\n- a photo of a animal in the snow.\n2. A photo of a animal on a beach at night\n"
          "- a photo of a animal in the snow\nsomething else entirely\n")
CALLS: list[list[str]] = []

# The reference code's request (prompt_generation.py of ALIA), typed out here independently of the module.
REFERENCE = ("\nI have a set of image captions that I want to summarize into objective descriptions that describe "
             "the scenes, actions, camera pose, zoom, and other image qualities present. \nMy captions are: \n\n"
             "{text}\n\nI want the output to be a <=10 of captions that describe a unique setting, of the form "
             "\"{prefix}\".\nHere are 3 examples of what I want the output to look like:\n"
             "- {prefix} standing on a branch.\n"
             "- {prefix} flying in the sky with the Austin skyline in the background.\n"
             "- {prefix} playing in a river at night.\n\nBased on the above captions, the output should be:\n")


@pytest.fixture(scope="module", autouse=True)
def _client():
    pytest.importorskip("crossaug_text", reason="the LLM step is the text plugin's text.llm-rewrite")
    from crossaug_text.llm_clients import register_client, unregister_client

    def answer(prompts, seeds, **options):
        CALLS.append(list(prompts))
        return [ANSWER for _ in prompts]

    register_client(CLIENT, answer)
    yield
    unregister_client(CLIENT)


@pytest.fixture(scope="module")
def pix2pix_dir(tmp_path_factory, tiny):
    pytest.importorskip("diffusers", reason="InstructPix2Pix needs crossaug-image[diffusers]")
    return str(tiny.build_stable_diffusion(tmp_path_factory.mktemp("alia-pix2pix"), in_channels=8,
                                           pipeline="StableDiffusionInstructPix2PixPipeline"))


def _images(tiny, n=4):
    return [Sample(f"s{i}", {"image": tiny.make_image(i, (32, 32))}, label=["cat", "dog"][i % 2]) for i in range(n)]


def _params(sd_dir, clip_dir, blip_dir, **over):
    base = {"subject": "animal", "prefix": "a photo of a animal", "caption_model": blip_dir,
            "caption_params": {"max_new_tokens": 6}, "llm_client": CLIENT, "editor_model": sd_dir,
            "editor_params": {"num_inference_steps": 4}, "clip_model": clip_dir, "device": "cpu", "n": 2}
    base.update(over)
    return base


@pytest.fixture(scope="module")
def run(sd_dir, clip_dir, blip_dir, tiny):
    """One fitted recipe and its outputs on four images of two classes."""
    CALLS.clear()
    recipe = create("recipe", "alia", **_params(sd_dir, clip_dir, blip_dir))
    samples = _images(tiny)
    recipe.fit(samples)
    first = recipe.process(samples[:2], Seeder(0))
    second = recipe.process(samples[2:], Seeder(0))
    return recipe, samples, first + second, len(CALLS)


# -- the domain prompt -------------------------------------------------------------------------
def test_domain_request_is_the_reference_prompt():
    caps = ["a bird on a branch", "a bird in the snow", "  a bird   on a branch ", "", "bird " * 6]
    got = domain_request(caps, "a photo of a bird", seed=3)
    # cleaned: the blank and the degenerate caption (a word more than five times) go, duplicates merge, sorted
    assert got == REFERENCE.format(text="a bird in the snow\na bird on a branch", prefix="a photo of a bird")
    assert DOMAIN_PROMPT == REFERENCE


def test_domain_request_samples_twenty_captions_under_the_seed():
    caps = [f"an animal number {i} in a field" for i in range(50)]

    def shown(request):
        return [line for line in request.splitlines() if line.startswith("an animal number")]

    a = shown(domain_request(caps, "a photo of a animal", seed=1))
    assert len(a) == 20 and len(set(a)) == 20 and set(a) <= set(caps)
    assert a == shown(domain_request(list(reversed(caps)), "a photo of a animal", seed=1))  # input order is moot
    assert a != shown(domain_request(caps, "a photo of a animal", seed=2))


def test_parse_domains_keeps_lines_of_the_prefix_form():
    got = parse_domains(ANSWER, "a photo of a animal")
    assert got == ["in the snow", "on a beach at night"]
    assert parse_domains("nothing useful here", "a photo of a animal") == []
    many = "\n".join(f"- a photo of a cat scene {i}" for i in range(15))
    assert len(parse_domains(many, "a photo of a cat")) == 10


def test_edit_prompts_fill_domain_label_and_subject():
    assert edit_prompt("put the {label} {domain}", "near a lake", "zebra_foal", "animal") == \
        "put the zebra foal near a lake"
    assert edit_prompt("a photo of a {label} {subject} {domain}", "on rocks", "cardinal", "bird") == \
        "a photo of a cardinal bird on rocks"
    with pytest.raises(ConfigError, match="domain"):
        create("recipe", "alia", domains=["x"], edit_template="a photo of a {label}")
    with pytest.raises(ConfigError, match="may only use"):
        create("recipe", "alia", domains=["x"], edit_template="{domain} {colour}")


def test_clean_captions_drops_empty_degenerate_and_duplicates():
    assert clean_captions(["", "  ", "a a a a a a cat", "b dog", "b  dog", "a cat"]) == ["a cat", "b dog"]


# -- the dataset-level step runs once ------------------------------------------------------------
def test_domains_are_summarised_once_per_run_and_recorded(run):
    recipe, samples, groups, calls = run
    assert calls == 1  # one LLM request for the run, not one per sample or batch
    summary = recipe.summary
    assert summary["source"] == "llm" and summary["domains"] == ["in the snow", "on a beach at night"]
    assert summary["request"].startswith(REFERENCE.split("{text}")[0])
    for group in groups:
        assert len(group) == 2 * 2  # n edits for each of the two domains
        for o in group:
            step = o.lineage[0]
            assert step.name == "alia" and step.params["llm_model"] == f"client:{CLIENT}"
            assert step.params["captioner"] == "image.caption.blip" and step.params["caption_model"]
            assert step.params["request_blake2b"] == summary["request_blake2b"] and step.seed == 0
            assert step.params["domains"] == summary["domains"]


def test_fit_is_deterministic_under_its_seed(sd_dir, clip_dir, blip_dir, tiny, run):
    recipe = run[0]
    again = create("recipe", "alia", **_params(sd_dir, clip_dir, blip_dir))
    again.fit(list(reversed(_images(tiny))))  # input order does not matter
    assert again.summary == recipe.summary and again.thresholds == recipe.thresholds
    other = create("recipe", "alia", **_params(sd_dir, clip_dir, blip_dir, fit_seed=5))
    other.fit(_images(tiny))
    assert other.summary["llm_seed"] != recipe.summary["llm_seed"]


def test_every_output_names_its_models_prompt_strength_seed_and_both_scores(run):
    recipe, samples, groups, _ = run
    for s, group in zip(samples, groups):
        for o in group:
            names = [st.name for st in o.lineage]
            assert names == ["alia", "image.img2img", "alia.semantic", "alia.confidence"]
            dom, edit, sem, conf = o.lineage
            assert edit.params["prompt"] == f"a photo of a {s.label} {dom.params['domain']}" == dom.params["prompt"]
            assert edit.params["strength"] == 0.6 and edit.params["guidance_scale"] == 7.5
            assert isinstance(edit.seed, int) and edit.model
            assert sem.score is not None and conf.score is not None and sem.model
            assert conf.model.startswith("clip-probe:")
            assert o.parent_id == s.id and "text.alia_prompt" not in o.fields
            assert o.kept or (o.reason and o.reason.startswith(("alia.semantic", "alia.confidence")))


# -- both filters against plain loops ---------------------------------------------------------------
def _clip_embeddings(clip_dir, images=(), texts=()):
    """Unit CLIP embeddings computed directly with transformers, one item at a time."""
    import torch
    from transformers import CLIPModel, CLIPProcessor

    model = CLIPModel.from_pretrained(clip_dir).eval()
    proc = CLIPProcessor.from_pretrained(clip_dir)
    out = []
    with torch.no_grad():
        for im in images:
            pix = proc(images=[im.convert("RGB")], return_tensors="pt")["pixel_values"]
            f = model.get_image_features(pixel_values=pix)
            out.append(getattr(f, "pooler_output", f)[0].tolist())
        for t in texts:
            enc = proc(text=[t], return_tensors="pt", padding=True, truncation=True)
            f = model.get_text_features(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
            out.append(getattr(f, "pooler_output", f)[0].tolist())
    return [[v / math.sqrt(sum(x * x for x in vec)) for v in vec] for vec in out]


def _dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def _softmax(xs):
    m = max(xs)
    e = [math.exp(x - m) for x in xs]
    return [v / sum(e) for v in e]


def test_semantic_filter_decisions_match_a_plain_loop(run, clip_dir):
    recipe, _, groups, _ = run
    outs = [o for g in groups for o in g]
    prompts = recipe.task_prompts() + recipe.negative_prompts
    assert prompts[1:] == ["a photo of an object", "a photo of a scene", "a photo of geometric shapes", "a photo",
                           "an image", "a black photo"]
    imgs = _clip_embeddings(clip_dir, images=[o["image"] for o in outs])
    txts = _clip_embeddings(clip_dir, texts=prompts)
    verdicts = []
    for o, im in zip(outs, imgs):
        p = _softmax([100.0 * _dot(im, t) for t in txts])
        best = max(range(len(p)), key=lambda j: p[j])
        step = o.lineage[2]
        assert step.kept is (best == 0), (o.id, p)
        assert abs(step.score - p[0]) < 2e-3
        verdicts.append(step.kept)
    assert True in verdicts and False in verdicts, "the tiny run should exercise both verdicts"


def test_confidence_filter_decisions_match_a_plain_loop(run, clip_dir):
    recipe, samples, groups, _ = run
    classes = recipe.fitted_classes
    w, b = recipe._probe.weight, recipe._probe.bias

    def probs(vec):
        return _softmax([sum(vec[d] * w[d][k] for d in range(len(vec))) + b[k] for k in range(len(classes))])

    train = _clip_embeddings(clip_dir, images=[s["image"] for s in samples])
    thresholds = []
    for k, name in enumerate(classes):
        own = [probs(v)[k] for v, s in zip(train, samples) if s.label == name]
        thresholds.append(sum(own) / len(own))
    assert np.allclose(thresholds, [recipe.thresholds[c] for c in classes], atol=1e-4)
    outs = [o for g in groups for o in g]
    seen = set()
    for o, vec in zip(outs, _clip_embeddings(clip_dir, images=[o["image"] for o in outs])):
        p = probs(vec)
        y = classes.index(o.label)
        top = max(range(len(p)), key=lambda j: p[j])
        expected = "kept"
        if p[top] > thresholds[y]:
            expected = "too-easy" if top == y else "corrupted"
        step = o.lineage[3]
        assert step.params["decision"] == expected, (o.id, p, thresholds)
        assert abs(step.score - p[top]) < 2e-3 and step.params["predicted"] == classes[top]
        seen.add(expected)
    assert {"too-easy", "corrupted"} <= seen, seen


def test_linear_probe_matches_plain_gradient_descent():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 3)), [0, 1, 2, 0, 1, 2]
    probe = LinearProbe(steps=5, lr=0.5, l2=0.01).fit(x, y, 3)
    w = [[0.0] * 3 for _ in range(3)]
    b = [0.0] * 3
    for _ in range(5):
        gw = [[0.0] * 3 for _ in range(3)]
        gb = [0.0] * 3
        for i in range(6):
            p = _softmax([sum(x[i][d] * w[d][k] for d in range(3)) + b[k] for k in range(3)])
            for k in range(3):
                err = (p[k] - (1.0 if y[i] == k else 0.0)) / 6
                gb[k] += err
                for d in range(3):
                    gw[d][k] += x[i][d] * err
        w = [[w[d][k] - 0.5 * (gw[d][k] + 0.01 * w[d][k]) for k in range(3)] for d in range(3)]
        b = [b[k] - 0.5 * gb[k] for k in range(3)]
    assert np.allclose(probe.weight, w) and np.allclose(probe.bias, b)


def test_a_fixed_confidence_threshold_applies_to_every_class(sd_dir, clip_dir, blip_dir, tiny):
    r = create("recipe", "alia", **_params(sd_dir, clip_dir, blip_dir, domains=["in the rain"],
                                           confidence_threshold=1.0, semantic_filter=False, n=1))
    r.fit(_images(tiny))
    assert r.thresholds == {"cat": 1.0, "dog": 1.0}
    outs = [o for g in r.process(_images(tiny), Seeder(1)) for o in g]
    assert all(o.kept for o in outs)  # no confidence exceeds 1
    assert [st.name for st in outs[0].lineage] == ["alia", "image.img2img", "alia.confidence"]


# -- editors, domains given, bad inputs ---------------------------------------------------------------
def test_instruct_pix2pix_editor_with_given_domains(pix2pix_dir, clip_dir, tiny):
    r = create("recipe", "alia", domains=["a photo of a animal near a lake", "in a grassy field"],
               prefix="a photo of a animal", editor="instruct-edit", editor_model=pix2pix_dir,
               editor_params={"num_inference_steps": 2}, clip_model=clip_dir, device="cpu", n=1,
               domains_per_image=1)
    assert r.editor == "image.instruct-edit"
    samples = _images(tiny, 2)
    r.fit(samples)
    assert r.summary == {"source": "given", "domains": ["near a lake", "in a grassy field"]}
    groups = r.process(samples, Seeder(0))
    assert [len(g) for g in groups] == [1, 1]
    for s, g in zip(samples, groups):
        edit = g[0].lineage[1]
        assert edit.name == "image.instruct-edit"
        assert edit.params["prompt"] in {f"put the {s.label} near a lake", f"put the {s.label} in a grassy field"}
        assert edit.params["image_guidance_scale"] == 1.3 and edit.params["guidance_scale"] == 5.0
        assert g[0].lineage[0].params["source"] == "given" and g[0].lineage[0].seed is None


def test_empty_domain_list_is_a_clear_error():
    with pytest.raises(ConfigError, match="domain list is empty"):
        create("recipe", "alia", domains=[])
    with pytest.raises(ConfigError, match="empty once the prefix"):
        create("recipe", "alia", domains=["a photo of a bird"], subject="bird").domain_list()


def test_misspelled_model_steps_suggest_the_registered_names():
    with pytest.raises(ConfigError, match="did you mean.*image.img2img"):
        create("recipe", "alia", domains=["x"], editor="img2imgg")
    with pytest.raises(ConfigError, match="did you mean.*image.clip-score"):
        create("recipe", "alia", domains=["x"], clip_filter="clip-scor")
    with pytest.raises(ConfigError, match="maps image -> text"):
        create("recipe", "alia", domains=["x"], editor="image.caption.blip")


def test_an_unknown_llm_step_says_where_the_default_comes_from(sd_dir, clip_dir, blip_dir, tiny):
    r = create("recipe", "alia", **_params(sd_dir, clip_dir, blip_dir, llm="text.no-such-llm"))
    with pytest.raises(ConfigError, match="pip install crossaug-text"):
        r.fit(_images(tiny))


def test_an_answer_without_domains_is_a_clear_error(sd_dir, clip_dir, blip_dir, tiny):
    from crossaug_text.llm_clients import register_client, unregister_client

    register_client("alia-chatty", lambda prompts, seeds, **kw: ["I cannot help with that." for _ in prompts])
    try:
        r = create("recipe", "alia", **_params(sd_dir, clip_dir, blip_dir, llm_client="alia-chatty"))
        with pytest.raises(ConfigError, match="no domain description of the form 'a photo of a animal'"):
            r.fit(_images(tiny))
    finally:
        unregister_client("alia-chatty")


def test_no_usable_caption_is_a_clear_error(sd_dir, clip_dir, blip_dir, tiny, monkeypatch):
    import crossaug_image.recipes.alia as alia

    monkeypatch.setattr(alia, "clean_captions", lambda caps: [])  # as if every caption were empty or degenerate
    r = create("recipe", "alia", **_params(sd_dir, clip_dir, blip_dir))
    with pytest.raises(ConfigError, match="no usable caption"):
        r.fit(_images(tiny))


def test_bad_samples_are_rejected_naming_sample_and_reason(run, tiny):
    recipe = run[0]
    with pytest.raises(BadSample) as info:
        recipe.process([Sample("nolabel", {"image": tiny.make_image(9, (32, 32))})], Seeder(0))
    assert "nolabel" in str(info.value) and "label" in str(info.value)
    with pytest.raises(BadSample, match="not seen by fit"):
        recipe.process([Sample("bird1", {"image": tiny.make_image(9, (32, 32))}, label="bird")], Seeder(0))
    with pytest.raises(BadSample, match="needs field 'image'"):
        recipe.process([Sample("noimage", {"text": "a cat"}, label="cat")], Seeder(0))


def test_one_class_cannot_train_the_confidence_filter(sd_dir, clip_dir, blip_dir, tiny):
    r = create("recipe", "alia", **_params(sd_dir, clip_dir, blip_dir, domains=["in the snow"]))
    with pytest.raises(ConfigError, match="two or more classes"):
        r.fit([s for s in _images(tiny) if s.label == "cat"])


def test_process_before_fit_is_a_clear_error(sd_dir, clip_dir, blip_dir, tiny):
    r = create("recipe", "alia", **_params(sd_dir, clip_dir, blip_dir, domains=["in the snow"]))
    with pytest.raises(ConfigError, match="fit"):
        r.process(_images(tiny, 1), Seeder(0))


# -- a real tiny language model ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory):
    """A random 1-layer GPT-2 with a word-level tokenizer (the LLM step's real transformers path)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    words = set(DOMAIN_PROMPT.replace("\n", " ").split()) | set("abcdefghijklmnopqrstuvwxyz.,:-\"<=")
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for w in sorted(words):
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    d = tmp_path_factory.mktemp("alia-gpt2")
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(vocab_size=len(vocab), n_embd=16, n_layer=1, n_head=2, n_positions=512,
                               bos_token_id=1, eos_token_id=1, pad_token_id=0)).save_pretrained(d)
    fast.save_pretrained(d)
    return str(d)


def test_the_request_goes_through_a_real_tiny_transformers_model(sd_dir, clip_dir, blip_dir, gpt2_dir, tiny):
    """A random GPT-2 answers gibberish: the run stops with the model's answer, which is exactly what the
    same model says to the ALIA request built from the captions (so the request and seed reached it)."""
    llm = {"max_new_tokens": 8, "do_sample": False}
    r = create("recipe", "alia", **_params(sd_dir, clip_dir, blip_dir, llm_client=None, llm_model=gpt2_dir,
                                           llm_params=llm))
    samples = _images(tiny)
    with pytest.raises(ConfigError, match="no domain description") as info:
        r.fit(samples)
    cap = create("transform", "image.caption.blip", model=blip_dir, prompt=None, mode="greedy", max_new_tokens=6,
                 out_field="text.caption", device="cpu")
    seeder = Seeder(0)
    caps = [o["text.caption"] for o in cap(samples, [seeder.integer_seed("alia-caption", s.id) for s in samples])]
    request = domain_request(caps, "a photo of a animal", seed=0)
    direct = create("augmentation", "text.llm-rewrite", model=gpt2_dir, template="{text}", prompt="", stop=[],
                    **llm).rewrite([request], [seeder.integer_seed("alia-llm")])[0]
    assert direct.strip() and direct.strip() != request.strip()
    assert repr(direct.strip()[:200]) in str(info.value)


# -- the contract suite and the command line ------------------------------------------------------------
class TestAliaContract(RecipeContract):
    name = "alia"

    @pytest.fixture(autouse=True)
    def _models(self, sd_dir, clip_dir, tiny):
        type(self).params = {"domains": ["in the snow"], "subject": "animal", "editor_model": sd_dir,
                             "editor_params": {"num_inference_steps": 2}, "clip_model": clip_dir, "device": "cpu",
                             "n": 1}
        self._tiny = tiny

    def good_samples(self):
        return _images(self._tiny, 3)

    def bad_samples(self):
        img = self._tiny.make_image(7, (32, 32))
        return [(Sample("unlabelled", {"image": img}), "label is empty"),
                (Sample("stranger", {"image": img}, label="bird"), "not seen by fit"),
                (Sample("imageless", {"text": "a cat"}, label="cat"), "needs field 'image'")]


def test_cli_runs_alia_end_to_end(tmp_path, sd_dir, clip_dir, blip_dir, tiny):
    from crossaug.cli import app
    from typer.testing import CliRunner

    rows = []
    for s in _images(tiny):
        s["image"].save(tmp_path / f"{s.id}.png")
        rows.append(json.dumps({"id": s.id, "image": f"{s.id}.png", "label": s.label}))
    (tmp_path / "train.jsonl").write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", "alia", "-i", str(tmp_path / "train.jsonl"), "-o", str(out), "--no-progress",
                                   "-p", "subject=animal", "-p", "prefix=a photo of a animal",
                                   "-p", f"caption_model={blip_dir}", "-p", "caption_params={max_new_tokens: 6}",
                                   "-p", f"llm_client={CLIENT}", "-p", f"editor_model={sd_dir}",
                                   "-p", "editor_params={num_inference_steps: 2}", "-p", f"clip_model={clip_dir}",
                                   "-p", "device=cpu", "-p", "n=1", "--batch-size", "2"])
    assert res.exit_code == 0, res.output
    recs = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
    assert len(recs) == 4 * 2 and sorted({r["parent_id"] for r in recs}) == ["s0", "s1", "s2", "s3"]
    for r in recs:
        names = [st["name"] for st in r["lineage"]]
        assert names == ["alia", "image.img2img", "alia.semantic", "alia.confidence"]
        assert r["kept"] or r["reason"].startswith(("alia.semantic", "alia.confidence"))
        assert r["lineage"][0]["params"]["domains"] == ["in the snow", "on a beach at night"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["recipe"] == "alia"
    assert len({r["lineage"][0]["params"]["request_blake2b"] for r in recs}) == 1
