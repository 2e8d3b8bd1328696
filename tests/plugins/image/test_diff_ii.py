"""Diff-II: pure interpolation math, LoRA, and every stage on a tiny random Stable Diffusion pipeline."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from crossaug import BadSample, ConfigError, Sample, Seeder, create
from crossaug_image.diff_ii.cache import StageCache, image_digest, stable_key
from crossaug_image.diff_ii.components import class_prompt, concept_token, load_pipeline
from crossaug_image.diff_ii.concepts import ConceptParams, apply_concepts, learn_concepts
from crossaug_image.diff_ii.denoise import DenoiseParams, paper_split, stage_schedule, two_stage_denoise
from crossaug_image.diff_ii.interpolation import (
    angle_between,
    circle_interpolation,
    circle_period,
    norm_preserving_interpolation,
    random_circle_interpolation,
    slerp,
    spherical_extrapolation,
    spherical_interpolation,
)
from crossaug_image.diff_ii.inversion import InversionParams, ddim_invert
from crossaug_image.diff_ii.lora import LoRALinear, inject_lora, lora_state_dict
from crossaug_image.diff_ii.suffixes import context_phrases, suffixes_for_class, summarise_dataset
from crossaug_testing import RecipeContract

# -- pure math ---------------------------------------------------------------


def _paper_eq5_loop(a, b, lam):
    """Eq. 5 of the paper written out element by element: theta from the dot product, sine weights."""
    dot = sum(x * y for x, y in zip(a, b))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    theta = math.acos(dot / (na * nb))
    wa = math.sin((1 - lam) * theta) / math.sin(theta)
    wb = math.sin(lam * theta) / math.sin(theta)
    return [wa * x + wb * y for x, y in zip(a, b)]


def _paper_eq7_loop(a, b, lam):
    """Eq. 7 (spherical extrapolation, the other way round the circle), element by element."""
    dot = sum(x * y for x, y in zip(a, b))
    theta = math.acos(dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))))
    return [(math.sin((1 + lam) * theta) * x - math.sin(lam * theta) * y) / math.sin(theta) for x, y in zip(a, b)]


def test_circle_interpolation_is_the_papers_eq5_against_a_plain_loop():
    rng = np.random.default_rng(0)
    for _ in range(10):
        a, b = rng.standard_normal(7) * rng.uniform(0.5, 2), rng.standard_normal(7) * rng.uniform(0.5, 2)
        period = circle_period(a, b)
        for lam in (0.0, 0.3, 1.0, -0.7, 1.9, 0.5 * period, 0.97 * period, rng.uniform(0, period)):
            assert np.allclose(circle_interpolation(a, b, lam), _paper_eq5_loop(a.tolist(), b.tolist(), lam))
        for lam in (0.0, 0.4, 1.0, rng.uniform(0, period - 1)):
            want = _paper_eq7_loop(a.tolist(), b.tolist(), lam)
            assert np.allclose(spherical_extrapolation(a, b, lam), want)
            assert np.allclose(circle_interpolation(a, b, -lam), want)  # eq. 5 unifies eq. 7
        lam = rng.uniform(0, 1)
        assert np.allclose(spherical_interpolation(a, b, lam), _paper_eq5_loop(a.tolist(), b.tolist(), lam))
    # shape and dtype of the latents are kept
    z = circle_interpolation(np.ones((2, 3), np.float32), np.eye(2, 3, dtype=np.float32), 0.5)
    assert z.shape == (2, 3) and z.dtype == np.float32
    with pytest.raises(ValueError):
        spherical_interpolation(a, b, 1.5)


def test_circle_interpolation_hand_values_and_period():
    a, b = np.array([2.0, 0.0]), np.array([0.0, 4.0])  # theta = pi/2, sin(theta) = 1
    assert np.allclose(circle_interpolation(a, b, 0.0), a) and np.allclose(circle_interpolation(a, b, 1.0), b)
    assert np.allclose(circle_interpolation(a, b, 0.5), [np.sqrt(2), 2 * np.sqrt(2)])  # sine weights: an ellipse
    assert np.allclose(circle_interpolation(a, b, -1.0), [0.0, -4.0])  # eq. 7, a quarter turn the other way
    assert circle_period(a, b) == pytest.approx(4.0)
    assert np.allclose(circle_interpolation(a, b, 4.0), a)  # a full turn
    assert np.allclose(circle_interpolation(a, 3 * a, 0.5), 2 * a)  # parallel: linear fallback
    # the norm-preserving variant walks the same angle on a true circle of geometric radius
    assert np.allclose(norm_preserving_interpolation(a, b, 0.5), [2.0, 2.0])
    assert np.allclose(slerp(a, b, 0.5), circle_interpolation(a, b, 0.5))  # slerp is eq. 5


def test_circle_interpolation_keeps_the_norm_statistics_of_gaussian_noise():
    rng = np.random.default_rng(0)
    d = 4 * 32 * 32
    norms_c, norms_l = [], []
    for _ in range(20):
        a, b = rng.standard_normal(d), rng.standard_normal(d)
        z, _ = random_circle_interpolation(a, b, rng)
        norms_c.append(np.linalg.norm(z))
        norms_l.append(np.linalg.norm(0.5 * a + 0.5 * b))
        assert abs(z.mean()) < 0.05 and abs(z.std() - 1.0) < 0.05  # still looks like N(0, 1) noise
    assert np.mean(norms_c) == pytest.approx(np.sqrt(d), rel=0.03)
    assert np.mean(norms_l) == pytest.approx(np.sqrt(d / 2), rel=0.02)  # what plain lerp would do


def test_random_strength_samples_the_whole_circle():
    rng = np.random.default_rng(1)
    a, b = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])  # theta = pi/2: lam ~ U(0, 4)
    lams, angles = [], []
    for _ in range(400):
        z, lam = random_circle_interpolation(a, b, rng)
        lams.append(lam)
        assert np.allclose(z, _paper_eq5_loop(a.tolist(), b.tolist(), lam))
        angles.append(math.atan2(z[1], z[0]) % (2 * math.pi))  # where on the circle, from a
    assert 0 <= min(lams) < 0.1 and 3.9 < max(lams) <= 4.0
    counts, _ = np.histogram(angles, bins=4, range=(0, 2 * math.pi))
    assert counts.min() > 70  # every quarter of the circle is reached, the long (blue) arc included
    arc = [random_circle_interpolation(a, b, rng, strength=0.5)[1] for _ in range(200)]
    assert -0.5 <= min(arc) < 0 and 1 < max(arc) <= 1.5  # the arc-limited variant
    assert all(0 <= random_circle_interpolation(a, b, rng, strength=0.0)[1] <= 1 for _ in range(50))
    with pytest.raises(ValueError):
        random_circle_interpolation(a, b, rng, mode="linear")
    assert angle_between(a, b) == pytest.approx(math.pi / 2)


def test_paper_split_follows_the_shots_per_class():
    assert paper_split({"a": 5, "b": 5, "c": 4}) == 0.3  # 5-shot (Sec. 4.1)
    assert paper_split({"a": 10, "b": 10}) == 0.1  # 10-shot (Sec. 4.1)
    assert paper_split({"a": 100, "b": 20, "c": 1}) == 1.0  # long-tailed (Sec. 4.2)
    assert paper_split({"a": 2, "b": 2}) == 0.3 and paper_split({"a": 8, "b": 9}) == 0.1
    with pytest.raises(ValueError):
        paper_split({})


def test_stage_schedule_split():
    assert stage_schedule(4, 0.5) == [0, 0, 1, 1]
    assert stage_schedule(3, 0.0) == [1, 1, 1] and stage_schedule(3, 1.0) == [0, 0, 0]
    with pytest.raises(ValueError):
        stage_schedule(3, 1.5)


def test_suffix_summaries():
    caps = ["a photo of a dog running on the beach", "a dog, sleeping on a sofa", "a photo of a dog"]
    assert context_phrases(caps, "dog") == ["running on the beach", "sleeping on a sofa"]
    named = suffixes_for_class(caps, "dog", "crossaug_image.diff_ii.suffixes:context_phrases", limit=1)
    assert named == ["running on the beach"]
    with pytest.raises(ConfigError):
        suffixes_for_class(caps, "dog", "nowhere:nothing")


def test_dataset_wide_summary_carries_contexts_across_classes():
    caps = {"husky": ["a husky running on the beach", "a photo of a husky in the snow"],
            "pug": ["a pug in the snow", "a dog sleeping on a sofa"]}
    shared = summarise_dataset(caps, metaclass="dog")
    # one list for the dataset; the context two classes share ranks first; the metaclass is stripped too
    assert shared == ["in the snow", "running on the beach", "sleeping on a sofa"]
    assert summarise_dataset(caps, "dog", summariser="crossaug_image.diff_ii.suffixes:context_phrases") == \
        ["a husky running on the beach", "a photo of a husky in the snow", "a pug in the snow",
         "sleeping on a sofa"]  # a named summariser gets every caption and the metaclass


def test_llm_summary_goes_through_the_text_plugins_llm_interface():
    pytest.importorskip("crossaug_text", reason="LLM summaries use crossaug-text's text.llm-rewrite")
    from crossaug_text.llm_clients import register_client, unregister_client

    seen = []

    def fake_gpt(prompts, seeds, **options):
        seen.extend(prompts)
        return ["1. a photo of a dog in the snow.\n2. A photo of a dog running on a beach\n- a photo of a dog"]

    register_client("fake-gpt", fake_gpt)
    try:
        caps = {"husky": ["a husky in the snow"], "pug": ["a pug on the beach"]}
        assert summarise_dataset(caps, "dog", llm={"client": "fake-gpt"}) == ["in the snow", "running on a beach"]
        assert len(seen) == 1 and "a husky in the snow" in seen[0] and "a pug on the beach" in seen[0]
        assert '"a photo of a dog ..."' in seen[0]  # one request over the whole dataset
        register_client("fake-gpt", lambda prompts, seeds, **o: [""])  # says nothing: no silent fallback
        with pytest.raises(ConfigError):
            summarise_dataset(caps, "dog", llm={"client": "fake-gpt"})
    finally:
        unregister_client("fake-gpt")


def test_prompts_and_cache_keys(tmp_path, tiny):
    assert class_prompt("tabby_cat", concept_token("tabby_cat"), "on a sofa") == \
        "a photo of a <tabby-cat> tabby cat on a sofa"
    assert class_prompt("tabby_cat", "<tabby-cat>", "on a sofa", metaclass="pet") == \
        "a photo of a <tabby-cat> pet on a sofa"  # the paper's "a photo of a [V] [metaclass] [suffix]"
    assert class_prompt("tabby_cat", None, metaclass="pet") == "a photo of a tabby cat pet"
    assert class_prompt("x", "<x>", template="{token} {label}, {metaclass}", metaclass="m") == "<x> x, m"
    assert image_digest(tiny.make_image(0)) == image_digest(tiny.make_image(0)) != image_digest(tiny.make_image(1))
    assert stable_key({"a": 1}) != stable_key({"a": 2})
    cache = StageCache(tmp_path)
    cache.save("x", "k", {"t": torch.ones(2)})
    assert torch.equal(cache.load("x", "k")["t"], torch.ones(2)) and cache.load("x", "other") is None
    assert StageCache(False).load("x", "k") is None


# -- LoRA --------------------------------------------------------------------


def test_lora_starts_as_identity_and_learns():
    torch.manual_seed(0)
    model = torch.nn.Sequential()
    model.add_module("attn", torch.nn.Module())
    model.attn.to_q = torch.nn.Linear(6, 6)
    model.attn.to_out = torch.nn.ModuleList([torch.nn.Linear(6, 6)])
    model.add_module("ff", torch.nn.Linear(6, 6))
    x = torch.randn(3, 6)
    before = model.attn.to_out[0](model.attn.to_q(x))
    params = inject_lora(model, rank=2, targets=("to_q", "to_out.0"))
    assert isinstance(model.attn.to_q, LoRALinear) and isinstance(model.attn.to_out[0], LoRALinear)
    assert not isinstance(model.ff, LoRALinear)  # only attention projections
    assert len(params) == 4 and torch.equal(model.attn.to_out[0](model.attn.to_q(x)), before)
    opt = torch.optim.SGD(params, lr=0.1)
    loss = model.attn.to_out[0](model.attn.to_q(x)).pow(2).sum()
    loss.backward()
    opt.step()
    assert not torch.equal(model.attn.to_out[0](model.attn.to_q(x)), before)
    assert set(lora_state_dict(model)) == {"attn.to_q.lora_a", "attn.to_q.lora_b", "attn.to_out.0.lora_a",
                                           "attn.to_out.0.lora_b"}
    assert model.attn.to_q.base.weight.grad is None  # the base stays frozen


# -- stages on the tiny pipeline --------------------------------------------------

STEPS = 2


@pytest.fixture(scope="module")
def pipe(sd_dir):
    return load_pipeline(sd_dir, device="cpu")


@pytest.mark.model
def test_ddim_inversion_shape_and_determinism(pipe, tiny):
    imgs = [tiny.make_image(0, (32, 32)), tiny.make_image(1, (40, 32))]
    params = InversionParams(steps=STEPS, resolution=32)
    z = ddim_invert(pipe, imgs, ["a photo of a cat"] * 2, params)
    assert z.shape == (2, 4, 16, 16) and torch.isfinite(z).all()
    again = ddim_invert(pipe, imgs[:1], ["a photo of a cat"], params)
    assert torch.allclose(z[:1], again, atol=1e-5)
    other = ddim_invert(pipe, imgs[:1], ["a dog"], params)
    assert not torch.allclose(again, other)  # the prompt conditions the inversion


@pytest.mark.model
def test_two_stage_denoising_honours_the_split(pipe):
    z = torch.randn(1, 4, 16, 16, generator=torch.Generator().manual_seed(0))
    run = lambda split: two_stage_denoise(pipe, z, ["a cat, in the snow"], ["a cat"],  # noqa: E731
                                          DenoiseParams(steps=4, guidance_scale=3.0, split=split),
                                          return_latents=True)
    _, sched_half, z_half = run(0.5)
    _, sched_plain, z_plain = run(0.0)
    _, sched_suffix, z_suffix = run(1.0)
    assert sched_half == [0, 0, 1, 1] and sched_plain == [1] * 4 and sched_suffix == [0] * 4
    # split=0 is plain-prompt denoising, split=1 suffixed-only; the mixed one differs from both
    _, _, z_ref = two_stage_denoise(pipe, z, ["a cat"], ["a cat"], DenoiseParams(4, 3.0, 0.5), return_latents=True)
    assert torch.allclose(z_plain, z_ref, atol=1e-5)
    assert not torch.allclose(z_half, z_plain, atol=1e-4) and not torch.allclose(z_half, z_suffix, atol=1e-4)


@pytest.mark.model
def test_concept_learning_changes_only_the_new_token_and_lora(sd_dir, tiny):
    p = load_pipeline(sd_dir, device="cpu")
    emb_before = p.text_encoder.get_input_embeddings().weight.detach().clone()
    imgs = [tiny.make_image(i, (32, 32)) for i in range(3)]
    state = learn_concepts(p, imgs, ["cat", "cat", "dog"], ConceptParams(steps=3, batch_size=2, resolution=32,
                                                                          lr_lora=1e-2))
    emb = p.text_encoder.get_input_embeddings().weight
    n_old = emb_before.shape[0]
    assert emb.shape[0] == n_old + 2 and set(state["tokens"].values()) == {"<cat>", "<dog>"}
    assert torch.equal(emb[:n_old], emb_before)  # only the placeholder rows were trained
    assert len(state["losses"]) == 3 and all(np.isfinite(state["losses"]))
    assert any(v.abs().sum() > 0 for k, v in state["lora"].items() if k.endswith("lora_b"))  # LoRA moved
    # a fresh pipeline with the saved concepts computes the same as the trained one
    fresh = load_pipeline(sd_dir, device="cpu")
    apply_concepts(fresh, state)
    z = torch.randn(1, 4, 16, 16, generator=torch.Generator().manual_seed(1))
    a = two_stage_denoise(p, z, ["a photo of a <cat> cat"], ["a photo of a <cat> cat"], DenoiseParams(2, 1.0, 0.5),
                          return_latents=True)[2]
    b = two_stage_denoise(fresh, z, ["a photo of a <cat> cat"], ["a photo of a <cat> cat"],
                          DenoiseParams(2, 1.0, 0.5), return_latents=True)[2]
    assert torch.allclose(a, b, atol=1e-5)


# -- the recipe ----------------------------------------------------------------


def _dataset(tiny):
    return [Sample("c0", {"image": tiny.make_image(0, (32, 32))}, label="cat"),
            Sample("c1", {"image": tiny.make_image(1, (32, 32))}, label="cat"),
            Sample("d0", {"image": tiny.make_image(2, (32, 32))}, label="dog")]


@pytest.fixture(scope="module")
def diff_params(sd_dir, blip_dir, tmp_path_factory):
    return dict(model=sd_dir, expansion=2, steps=STEPS, inversion_steps=STEPS, guidance_scale=2.0, resolution=32,
                concept_steps=2, concept_batch_size=2, caption_model=blip_dir,
                caption_params={"max_new_tokens": 4, "min_new_tokens": 2}, device="cpu",
                cache_dir=str(tmp_path_factory.mktemp("diff-ii-cache")))


class TestDiffIIContract(RecipeContract):
    name = "diff-ii"

    @pytest.fixture(autouse=True)
    def _models(self, diff_params, tiny):
        type(self).params = diff_params
        self._tiny = tiny

    def good_samples(self):
        return _dataset(self._tiny)


@pytest.mark.model
def test_diff_ii_end_to_end(diff_params, tiny):
    r = create("recipe", "diff-ii", **{**diff_params, "expansion": {"cat": 3}, "default_expansion": 1})
    data = _dataset(tiny)
    r.fit(data)
    assert r._members["cat"] and len(r._pool) == 3 and set(r._suffix_map) == {"cat", "dog"}
    assert r._suffix_map["cat"] == r._suffix_map["dog"]  # one dataset-wide suffix list (paper)
    assert r.resolved_split() == 0.3  # 2 and 1 images per class: the paper's few-shot split
    groups = r.process(data, Seeder(0))
    assert [len(g) for g in groups] == [3, 3, 1]  # per-class expansion rate
    for g in groups[:2]:
        for c in g:
            rec = c.lineage[-1].params
            assert rec["init"] == "inversion" and rec["partner"] != image_digest(data[int(c.id[1])]["image"])
            assert rec["split"] == 0.3 and rec["lam"] >= 0  # whole-circle strength, U(0, 2 pi / theta)
            assert c["image"].size == (32, 32) and c.label == "cat" and c.lineage[-1].name == "diff-ii"
    assert groups[2][0].lineage[-1].params["init"] == "noise"  # single-image class: random noise (paper)
    # concepts and inversions were cached on disk and are reused by a new instance
    cache = StageCache(diff_params["cache_dir"])
    assert list((cache.root / "concepts").glob("*.pt")) and len(list((cache.root / "inversions").glob("*.pt"))) >= 3
    r2 = create("recipe", "diff-ii", **{**diff_params, "expansion": {"cat": 3}, "default_expansion": 1})
    r2.fit(data)
    again = r2.process(data[:1], Seeder(0))[0]
    assert [np.asarray(c["image"]).tobytes() for c in again] == [np.asarray(c["image"]).tobytes() for c in groups[0]]


@pytest.mark.model
def test_diff_ii_errors(diff_params, tiny):
    r = create("recipe", "diff-ii", **diff_params)
    with pytest.raises(ConfigError):
        r.process(_dataset(tiny), Seeder(0))
    with pytest.raises(BadSample) as info:
        r.fit([Sample("nolabel", {"image": tiny.make_image(0)})])
    assert "nolabel" in str(info.value)
    for bad in ({"split": 1.5}, {"expansion": 0}, {"resolution": 30}, {"strength": -1}, {"interpolation": "lerp"},
                {"suffix_scope": "label"}, {"prompt_template": "a photo of a {metaclass}"}, {"summary_llm": "gpt"}):
        with pytest.raises(ConfigError):
            create("recipe", "diff-ii", **{**diff_params, **bad})


def test_diff_ii_prompt_uses_the_metaclass():
    r = create("recipe", "diff-ii", model="unused", metaclass="bird")
    assert r._prompt("Blue_Jay") == "a photo of a <blue-jay> bird"  # "a photo of a [V] [metaclass]"
    assert r._prompt("Blue_Jay", "standing on a branch") == "a photo of a <blue-jay> bird standing on a branch"
    plain = create("recipe", "diff-ii", model="unused", learn_concepts=False, metaclass="bird")
    assert plain._prompt("Blue_Jay") == "a photo of a Blue Jay bird"  # templated prompt without concepts
    assert r._concept_params().metaclass == "bird"  # concepts are learned under the same prompt


@pytest.mark.model
def test_concept_learning_in_float16_stays_finite_with_float32_masters(sd_dir, tiny):
    """The bug this pins: Adam on the float16 embedding matrix turned 155 of 156 rows into NaN."""
    p = load_pipeline(sd_dir, device="cpu", dtype="float16")
    imgs = [tiny.make_image(i, (32, 32)) for i in range(3)]
    state = learn_concepts(p, imgs, ["cat", "cat", "dog"], ConceptParams(steps=3, batch_size=2, resolution=32,
                                                                          lr_lora=1e-2))
    emb = p.text_encoder.get_input_embeddings().weight
    assert emb.dtype == torch.float16 and p.unet.dtype == torch.float16  # the pipeline keeps its dtype
    assert torch.isfinite(emb).all() and all(np.isfinite(state["losses"]))
    assert all(v.dtype == torch.float32 and torch.isfinite(v).all() for v in state["embeddings"].values())
    assert all(v.dtype == torch.float32 for v in state["lora"].values())  # float32 masters
    assert state["losses"][-1] < state["losses"][0]  # and it still learns


@pytest.mark.model
def test_a_nan_loss_stops_concept_learning_naming_the_step(sd_dir, tiny):
    from crossaug.precision import TrainingDiverged

    p = load_pipeline(sd_dir, device="cpu")
    imgs = [tiny.make_image(i, (32, 32)) for i in range(2)]
    with pytest.raises(TrainingDiverged, match="Diff-II concept learning: loss is (nan|inf) at step 1"):
        learn_concepts(p, imgs, ["cat", "dog"], ConceptParams(steps=3, batch_size=2, resolution=32, lr_lora=1e30,
                                                              lr_embedding=1e30))


@pytest.mark.model
def test_diff_ii_end_to_end_in_float16_makes_finite_non_constant_images(diff_params, tiny, tmp_path):
    r = create("recipe", "diff-ii", **{**diff_params, "dtype": "float16", "cache_dir": str(tmp_path),
                                       "expansion": 1})
    data = _dataset(tiny)
    r.fit(data)
    assert r.pipeline.unet.dtype == torch.float16
    assert all(torch.isfinite(v).all() for v in r._concepts["embeddings"].values())
    for group in r.process(data, Seeder(0)):
        for c in group:
            arr = np.asarray(c["image"], dtype=np.float64)
            assert np.isfinite(arr).all() and arr.std() > 1.0  # not the all-black image of the NaN bug
            assert c.lineage[-1].runtime is None or c.lineage[-1].runtime.get("dtype") in (None, "float16")


@pytest.mark.model
def test_nan_pixels_in_diff_ii_are_an_error_of_that_sample(diff_params, tiny, tmp_path):
    r = create("recipe", "diff-ii", **{**diff_params, "cache_dir": str(tmp_path), "expansion": 1})
    data = _dataset(tiny)
    r.fit(data)
    with torch.no_grad():
        r.pipeline.vae.decoder.conv_out.bias.fill_(float("nan"))
    with pytest.raises(BadSample, match="NaN or infinite pixels") as info:
        r.process(data[:1], Seeder(0))
    assert info.value.sample_id == "c0" and info.value.field == "image"
