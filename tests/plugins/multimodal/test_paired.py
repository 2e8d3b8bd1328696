"""Paired StyleGAN2 augmentation: projection, text encoder alignment, the model, recipe and transform."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="paired StyleGAN2 needs crossaug-multimodal[torch]")

import crossaug  # noqa: E402
from crossaug import ConfigError, MissingResource, Sample, Seeder  # noqa: E402
from crossaug_multimodal.paired.model import PairedModel, fit_paired  # noqa: E402
from crossaug_multimodal.paired.projection import RandomConvFeatures, noise_regularization, pixel_distance, project  # noqa: E402
from crossaug_multimodal.paired.recipe import PairedStyleGAN2  # noqa: E402
from crossaug_multimodal.paired.text_encoder import (  # noqa: E402
    EncoderConfig,
    Vocabulary,
    pairwise_ranking_loss,
    tokenize,
    train_text_encoder,
)
from crossaug_multimodal.stylegan2.networks import GeneratorConfig  # noqa: E402
from crossaug_multimodal.stylegan2.train import TrainConfig, load_images, train_stylegan2  # noqa: E402
from crossaug_testing import RecipeContract, TransformContract  # noqa: E402
from crossaug_testing.contract import fields_equal  # noqa: E402

TINY = dict(resolution=16, img_channels=1, z_dim=16, w_dim=16, mapping_layers=2, channel_base=128, channel_max=16)
NAMES = "zero one two three four five six seven eight nine".split()


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def pairs() -> tuple[np.ndarray, list[str]]:
    """48 real 16x16 digit images with captions naming the digit and its stroke weight."""
    from sklearn.datasets import load_digits

    ds = load_digits()
    imgs = (np.kron(ds.images[:48], np.ones((2, 2))) / 16.0 * 255).round().astype(np.uint8)
    ink = imgs.reshape(48, -1).mean(1)
    caps = [f"a {'bold' if i > np.median(ink) else 'thin'} handwritten {NAMES[y]}"
            for i, y in zip(ink, ds.target[:48])]
    return imgs, caps


@pytest.fixture(scope="module")
def generator(pairs):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    res = train_stylegan2(load_images(list(pairs[0]), 16, 1), GeneratorConfig(**TINY),
                          TrainConfig(steps=30, batch_size=8, log_every=0), seed=0)
    torch.set_num_threads(before)
    return res.generator_ema


@pytest.fixture(scope="module")
def model(pairs, generator) -> PairedModel:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    m = fit_paired(list(pairs[0]), pairs[1], generator=generator,
                   projection={"steps": 30, "loss": "pixel", "w_avg_samples": 512},
                   encoder_config=EncoderConfig(embed_dim=16, hidden_dim=16, epochs=12, batch_size=16))
    torch.set_num_threads(before)
    return m


@pytest.fixture(scope="module")
def checkpoint(model, tmp_path_factory) -> str:
    return str(model.save(tmp_path_factory.mktemp("paired") / "paired.pt"))


# -- projection ------------------------------------------------------------------------
def test_noise_regularization_hand_value() -> None:
    ones = torch.ones(1, 1, 8, 8)  # autocorrelation 1 along both axes, one scale
    assert float(noise_regularization([ones])) == pytest.approx(2.0)
    alternating = torch.tensor([[1.0, -1.0] * 4] * 8).reshape(1, 1, 8, 8)  # x-autocorr -1, y-autocorr 1
    assert float(noise_regularization([alternating])) == pytest.approx(2.0)
    assert float(noise_regularization([ones.repeat(1, 1, 2, 2)])) == pytest.approx(4.0)  # 16 and 8


@pytest.mark.parametrize("space,loss", [("w", "pixel"), ("w+", "both")])
def test_projection_reduces_reconstruction_error(generator, pairs, space, loss) -> None:
    target = load_images(list(pairs[0][:4]), 16, 1)
    w_avg, _ = generator.mean_w(512)
    with torch.no_grad():
        start = generator.synthesis(w_avg.reshape(1, 1, -1).repeat(4, generator.num_ws, 1), noise_mode="none")
    res = project(generator, target, space=space, steps=40, loss=loss, w_avg_samples=512, seed=1)
    assert res.ws.shape == (4, generator.num_ws, 16)
    assert res.latents.shape == ((4, 16) if space == "w" else (4, 16 * generator.num_ws))
    assert np.mean(res.losses[-5:]) < np.mean(res.losses[:5])
    assert float(pixel_distance(res.images, target).mean()) < float(pixel_distance(start, target).mean())
    if space == "w":
        assert torch.equal(res.ws[:, 0], res.ws[:, -1])


def test_perceptual_projection_reduces_feature_distance(generator, pairs) -> None:
    from crossaug_multimodal.paired.projection import perceptual_distance

    target = load_images(list(pairs[0][:4]), 16, 1)
    feats = RandomConvFeatures()
    w_avg, _ = generator.mean_w(512)
    with torch.no_grad():
        start = generator.synthesis(w_avg.reshape(1, 1, -1).repeat(4, generator.num_ws, 1), noise_mode="none")
    res = project(generator, target, steps=40, loss="perceptual", feature_net=feats, w_avg_samples=512)
    with torch.no_grad():
        before = perceptual_distance(feats, start, target).mean()
        after = perceptual_distance(feats, res.images, target).mean()
    assert float(after) < float(before)


def test_projection_takes_a_user_feature_network(generator, pairs) -> None:
    calls = []

    def features(x):
        calls.append(x.shape[0])
        return torch.nn.functional.avg_pool2d(x, 2)

    target = load_images(list(pairs[0][:2]), 16, 1)
    res = project(generator, target, steps=5, feature_net=features, w_avg_samples=256)
    assert len(calls) == 2 * 5 and len(res.losses) == 5
    with pytest.raises(ConfigError, match="space"):
        project(generator, target, space="z")
    with pytest.raises(ConfigError, match="shape"):
        project(generator, torch.zeros(1, 3, 16, 16))


def test_random_conv_features_are_fixed() -> None:
    a, b = RandomConvFeatures(seed=3), RandomConvFeatures(seed=3)
    x = torch.randn(2, 1, 16, 16)
    fa, fb = a(x), b(x)
    assert [f.shape[1] for f in fa] == [16, 32, 64]
    assert all(torch.equal(p, q) for p, q in zip(fa, fb))
    assert not list(a.parameters())  # nothing trains


# -- text encoder ------------------------------------------------------------------------
def test_tokenize_and_vocabulary() -> None:
    assert tokenize("A red car, parked.") == ["a", "red", "car", ",", "parked", "."]
    v = Vocabulary.build(["a red car", "a blue car", "a car"])
    assert v.itos[:4] == ["<pad>", "<unk>", "a", "car"]
    assert v.encode("a purple car") == [2, 1, 3]
    assert "," not in Vocabulary.build(["x, y"]).words


def test_ranking_loss_hand_values() -> None:
    t = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    lat = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    # cosine sims s[i, j]; positives 1, 1, -1/sqrt2
    s = torch.nn.functional.normalize(t, dim=1) @ torch.nn.functional.normalize(lat, dim=1).T
    pos = s.diag()
    hinge = lambda v: max(0.0, float(v))  # noqa: E731
    expected_sum = sum(hinge(0.2 + s[i, j] - pos[i]) + hinge(0.2 + s[j, i] - pos[i])
                       for i in range(3) for j in range(3) if i != j) / 3
    expected_max = sum(max(hinge(0.2 + s[i, j] - pos[i]) for j in range(3) if j != i)
                       + max(hinge(0.2 + s[j, i] - pos[i]) for j in range(3) if j != i) for i in range(3)) / 3
    assert float(pairwise_ranking_loss(t, lat, 0.2)) == pytest.approx(expected_sum, rel=1e-5)
    assert float(pairwise_ranking_loss(t, lat, 0.2, max_violation=True)) == pytest.approx(expected_max, rel=1e-5)


def test_alignment_lstm_loss_goes_down(model) -> None:
    hist = model.history["encoder"]
    assert len(hist) == 12
    assert np.mean(hist[-3:]) < 0.5 * np.mean(hist[:3])


def test_aligned_captions_retrieve_their_latents(pairs, model, generator) -> None:
    """After training, a caption is closer to its own image's latent than to most others."""
    target = load_images(list(pairs[0]), 16, 1)
    proj = project(generator, target, steps=30, loss="pixel", w_avg_samples=512, seed=0)  # same as fit
    enc = train_text_encoder(pairs[1], proj.latents, EncoderConfig(embed_dim=16, hidden_dim=16, epochs=12,
                                                                   batch_size=16))
    from crossaug_multimodal.paired.text_encoder import encode_texts

    e = torch.nn.functional.normalize(encode_texts(enc.encoder, enc.vocab, pairs[1]), dim=1)
    lat = torch.nn.functional.normalize(proj.latents - enc.center, dim=1)
    sims = e @ lat.T
    rank = (sims > sims.diag()[:, None]).sum(1).float()  # how many latents beat the right one
    assert float(rank.mean()) < 0.35 * (len(pairs[1]) - 1)  # chance would be ~ half


def test_encoder_training_is_deterministic(pairs) -> None:
    lat = torch.randn(8, 4, generator=torch.Generator().manual_seed(0))
    cfg = EncoderConfig(embed_dim=4, hidden_dim=4, epochs=2, batch_size=4)
    a = train_text_encoder(pairs[1][:8], lat, cfg, seed=1)
    b = train_text_encoder(pairs[1][:8], lat, cfg, seed=1)
    assert a.history == b.history
    with pytest.raises(ConfigError, match="captions"):
        train_text_encoder(pairs[1][:3], lat, cfg)


# -- model and checkpoints -------------------------------------------------------------
def test_checkpoint_round_trip_gives_identical_images(model, checkpoint) -> None:
    loaded = PairedModel.load(checkpoint)
    texts = ["a bold handwritten three", "a thin handwritten zebra"]  # unknown words map to <unk>
    a, b = model.generate(texts, [1, 2]), loaded.generate(texts, [1, 2])
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, b))
    assert a[0].mode == "L" and a[0].size == (16, 16)
    assert torch.equal(model.text_to_ws(texts), loaded.text_to_ws(texts))


def test_generation_depends_on_caption_and_seed(model) -> None:
    ws = model.text_to_ws(["a bold handwritten one", "a thin handwritten seven"])
    assert not torch.equal(ws[0], ws[1])
    # latents sit at the projected latents' typical distance from their mean
    assert torch.allclose((ws[:, 0] - model.center).norm(dim=1), torch.full((2,), model.scale), rtol=1e-4)
    same = model.generate(["a bold handwritten one"] * 2, [4, 4])
    assert np.array_equal(np.asarray(same[0]), np.asarray(same[1]))


def test_model_load_errors(tmp_path) -> None:
    with pytest.raises(MissingResource, match="paired StyleGAN2 checkpoint"):
        PairedModel.load(tmp_path / "nope.pt")
    torch.save({"format": "x"}, tmp_path / "x.pt")
    with pytest.raises(ConfigError, match="not a crossaug paired"):
        PairedModel.load(tmp_path / "x.pt")


# -- registered steps: contract suites -------------------------------------------------
class TestPairedStyleGAN2Contract(RecipeContract):
    name = "paired-stylegan2"

    @pytest.fixture(autouse=True)
    def _params(self, checkpoint):
        self.params = {"checkpoint": checkpoint, "n": 2, "rate": 0.3}

    def good_samples(self):
        return [Sample("d1", {"text": "a bold handwritten three"}),
                Sample("d2", {"text": "a thin handwritten seven"})]

    def bad_samples(self):
        return [(Sample("e1", {"text": "   "}), "empty"),
                (Sample("e2", {"image.depth": "x.png"}), "needs field 'text'")]


class TestTextToLatentImageContract(TransformContract):
    name = "multimodal.text-to-latent-image"

    @pytest.fixture(autouse=True)
    def _params(self, checkpoint):
        self.params = {"checkpoint": checkpoint}

    def good_samples(self):
        return [Sample("t1", {"text": "a thin handwritten one"}), Sample("t2", {"text": "a bold four"}),
                Sample("t3", {"text": "two"})]

    def bad_samples(self):
        return [(Sample("e1", {"text": ""}), "empty"), (Sample("e2", {"label": "x", "text.de": "y"}), "text")]


# -- recipe behaviour -------------------------------------------------------------------
def test_recipe_makes_image_caption_pairs_with_lineage(checkpoint) -> None:
    recipe = crossaug.create("recipe", "paired-stylegan2", checkpoint=checkpoint, n=3, rate=0.5)
    assert not recipe.requires_fit
    parent = Sample("p1", {"text": "a bold handwritten three"}, label=3)
    (group,) = recipe.process([parent], Seeder(0))
    assert [c.id for c in group] == ["p1~0", "p1~1", "p1~2"]
    vocab = set(recipe.model.vocab.words)
    for c in group:
        assert c.parent_id == "p1" and c.kept and c.label == 3
        assert c.fields["image"].size == (16, 16)
        assert c.fields["text"] != parent.fields["text"]
        assert len(c.fields["text"].split()) == 4
        assert set(c.fields["text"].split()) <= vocab  # replacements come from the encoder's vocabulary
        steps = [s.name for s in c.lineage]
        assert steps == ["text.token-replacement", "multimodal.text-to-latent-image"]
        assert c.lineage[0].params["replacements"]
        assert c.lineage[1].model == checkpoint and len(c.lineage[1].revision) == 12
    # the transform replays from the recorded seed and the replaced caption
    t = crossaug.create("transform", "multimodal.text-to-latent-image", checkpoint=checkpoint)
    again = t([Sample("p1", {"text": group[1].fields["text"]})], [group[1].lineage[1].seed])[0]
    assert np.array_equal(np.asarray(again.fields["image"]), np.asarray(group[1].fields["image"]))


def test_recipe_text_augmentation_is_configurable(checkpoint) -> None:
    typo = crossaug.create("augmentation", "text.typo", rate=0.3)
    recipe = PairedStyleGAN2(checkpoint=checkpoint, n=2, text_augmentation=typo)
    again = crossaug.from_dict(json.loads(json.dumps(recipe.to_dict())))
    assert again.text_augmentation.name == "text.typo"
    outs = recipe.process([Sample("q", {"text": "a thin handwritten eight"})], Seeder(1))[0]
    assert [c.lineage[0].name for c in outs] == ["text.typo", "text.typo"]
    assert all(c.fields["image"].size == (16, 16) for c in outs)


def test_recipe_pos_mode_keeps_parts_of_speech(checkpoint) -> None:
    pytest.importorskip("spacy", reason="POS mode needs spaCy")
    from crossaug_text.resources import spacy_pipeline

    try:
        spacy_pipeline(None)
    except Exception as exc:  # noqa: BLE001 - optional offline pipeline
        pytest.skip(f"no spaCy pipeline offline: {exc}")
    vocabulary = {"ADJ": ["bold", "thin"], "NOUN": ["seven", "three"]}
    recipe = PairedStyleGAN2(checkpoint=checkpoint, n=2, rate=0.5, mode="pos", vocabulary=vocabulary)
    outs = recipe.process([Sample("q", {"text": "a bold handwritten three"})], Seeder(2))[0]
    for c in outs:
        for _start, _end, _old, new, pos in c.lineage[0].params["replacements"]:
            assert new in vocabulary[pos]


def test_recipe_bad_config() -> None:
    with pytest.raises(ConfigError):
        PairedStyleGAN2(n=0)
    with pytest.raises(ConfigError):
        PairedStyleGAN2(space="z")
    with pytest.raises(ConfigError):
        PairedStyleGAN2(text_augmentation="text.typo")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="checkpoint"):
        PairedStyleGAN2().process([Sample("a", {"text": "x"})], Seeder(0))


@pytest.mark.slow
def test_recipe_fits_on_pairs_then_generates(pairs, tmp_path) -> None:
    from PIL import Image

    samples = [Sample(f"s{i}", {"image": Image.fromarray(img), "text": cap})
               for i, (img, cap) in enumerate(zip(pairs[0][:24], pairs[1][:24]))]
    save_to = tmp_path / "fitted.pt"
    recipe = PairedStyleGAN2(n=1, rate=0.3, save_to=str(save_to), generator=TINY,
                             training={"steps": 8, "batch_size": 8, "log_every": 0},
                             projection={"steps": 8, "loss": "pixel", "w_avg_samples": 256},
                             encoder={"embed_dim": 8, "hidden_dim": 8, "epochs": 3, "batch_size": 8})
    assert recipe.requires_fit
    outs = recipe(samples[:2], seed=0)  # fits, then processes
    assert not recipe.requires_fit and save_to.is_file()
    assert [o.parent_id for o in outs] == ["s0", "s1"]
    assert all(o.fields["image"].size == (16, 16) and o.fields["text"] for o in outs)
    assert len(recipe.model.history["gan"]) == 8
    # the saved checkpoint reproduces the fitted recipe's outputs
    reloaded = PairedStyleGAN2(checkpoint=str(save_to), n=1, rate=0.3)
    fitted_vocab = recipe.model.vocab.words
    assert reloaded.model.vocab.words == fitted_vocab
    again = reloaded.process(samples[:2], Seeder(0))
    assert all(fields_equal(a, b) for a, b in zip(outs, [g[0] for g in again]))
    with pytest.raises(ConfigError, match="at least two samples"):
        PairedStyleGAN2().fit([samples[0]])


def test_run_writes_pairs_to_a_manifest(checkpoint, tmp_path) -> None:
    data = tmp_path / "captions.jsonl"
    data.write_text("\n".join(json.dumps({"id": f"c{i}", "text": t}) for i, t in
                              enumerate(["a bold handwritten two", "a thin handwritten six", ""])) + "\n")
    res = crossaug.run("paired-stylegan2", data, tmp_path / "out", params={"checkpoint": checkpoint, "n": 2},
                       on_error="skip", report=False)
    lines = [json.loads(x) for x in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    kept = [x for x in lines if x["kept"]]
    assert len(kept) == 4 and all(x["image"].endswith(".png") for x in kept)
    assert all((tmp_path / "out" / x["image"]).is_file() for x in kept)
    assert any(not x["kept"] and x["parent_id"] == "c2" for x in lines)
    assert res.summary["recipe"] == "paired-stylegan2"


def test_light_import_and_missing_torch_hint() -> None:
    """Registered classes import without torch; using them without torch says what to install."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import crossaug_multimodal, crossaug_multimodal.paired.recipe, crossaug_multimodal.lemda.recipe\n"
        "import crossaug_multimodal.stylegan2, crossaug_multimodal.paired, crossaug_multimodal.lemda\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "sys.modules['torch'] = None  # as if not installed\n"
        "from crossaug import MissingDependency, Sample, Seeder\n"
        "from crossaug_multimodal.paired.recipe import PairedStyleGAN2\n"
        "try:\n"
        "    PairedStyleGAN2(checkpoint='x.pt').process([Sample('a', {'text': 'a cat'})], Seeder(0))\n"
        "except MissingDependency as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "crossaug-multimodal[torch]" in out.stdout


def test_recipe_fit_from_a_generator_checkpoint_in_w_plus(pairs, tmp_path) -> None:
    from PIL import Image

    gpath = tmp_path / "g.pt"
    train_stylegan2(list(pairs[0][:8]), GeneratorConfig(**{**TINY, "channel_max": 8}),
                    TrainConfig(steps=2, batch_size=4, log_every=0), checkpoint=gpath)
    samples = [Sample(f"s{i}", {"image": Image.fromarray(img), "text": cap})
               for i, (img, cap) in enumerate(zip(pairs[0][:8], pairs[1][:8]))]
    recipe = PairedStyleGAN2(generator_checkpoint=str(gpath), space="w+", n=2,
                             projection={"steps": 4, "loss": "pixel", "w_avg_samples": 64},
                             encoder={"embed_dim": 4, "hidden_dim": 4, "epochs": 2, "batch_size": 4})
    recipe.fit(samples)
    model = recipe.model
    assert "gan" not in model.history and model.space == "w+"
    assert model.center.shape == (model.generator.num_ws * 16,)
    ws = model.text_to_ws(["a thin handwritten one"])
    assert ws.shape == (1, model.generator.num_ws, 16) and not torch.equal(ws[0, 0], ws[0, -1])
    outs = recipe.process([samples[0]], Seeder(0))[0]
    assert [o.id for o in outs] == ["s0~0", "s0~1"] and all(o.fields["image"].size == (16, 16) for o in outs)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_process_workers_after_torch_ran_in_parent(checkpoint, tmp_path) -> None:
    """The parent has run torch (as after a recipe's fit); forked workers must not hang and give the same output."""
    data = tmp_path / "c.jsonl"
    data.write_text("\n".join(json.dumps({"id": f"c{i}", "text": t}) for i, t in enumerate(
        ["a bold handwritten two", "a thin handwritten six", "a handwritten one", "a bold nine"])) + "\n")
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # the parent's intra-op pool is what forked children inherit
    try:
        params = {"checkpoint": checkpoint, "n": 2}
        crossaug.run("paired-stylegan2", data, tmp_path / "serial", params=params, report=False)
        crossaug.run("paired-stylegan2", data, tmp_path / "procs", params=params, workers=2, executor="process",
                     batch_size=2, report=False)
    finally:
        torch.set_num_threads(before)
    # The reproducibility contract: everything but a neural step's ``runtime`` record (its batch
    # size differs: 8 serial, 2 per worker) is identical; neural pixels agree within 2/255.
    def lines(d: str) -> list[dict]:
        out = [json.loads(x) for x in (tmp_path / d / "manifest.jsonl").read_text().splitlines()]
        for line in out:
            for step in line.get("lineage", []):
                step.pop("runtime", None)
        return out

    assert lines("serial") == lines("procs")
    from crossaug_testing.tolerance import image_mismatch
    from PIL import Image

    media = lambda d: sorted((tmp_path / d).rglob("*.png"), key=lambda p: p.relative_to(tmp_path / d))  # noqa: E731
    assert len(media("serial")) == 8 and len(media("procs")) == 8
    for a, b in zip(media("serial"), media("procs")):
        assert a.relative_to(tmp_path / "serial") == b.relative_to(tmp_path / "procs")
        assert image_mismatch(np.asarray(Image.open(a)), np.asarray(Image.open(b))) is None, a.name
