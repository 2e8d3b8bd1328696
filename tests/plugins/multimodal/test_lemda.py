"""LeMDA: losses, gradient reversal, joint training on a toy problem, checkpoints, the recipe."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="LeMDA needs crossaug-multimodal[torch]")

import crossaug  # noqa: E402
from crossaug import BadSample, ConfigError, MissingResource, Sample, Seeder  # noqa: E402
from crossaug_multimodal.lemda.losses import confident_consistency_kl, vae_loss  # noqa: E402
from crossaug_multimodal.lemda.networks import AugmentationNetwork, grad_reverse  # noqa: E402
from crossaug_multimodal.lemda.recipe import LeMDARecipe  # noqa: E402
from crossaug_multimodal.lemda.trainer import LeMDATrainer, load_augmenter  # noqa: E402
from crossaug_testing import RecipeContract  # noqa: E402

DIMS = [3, 5]  # two "modalities"


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def toy(n: int = 256, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two modalities whose features jointly decide a binary label."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, sum(DIMS), generator=g)
    w = torch.tensor([1.0, -2.0, 0.5, 1.5, 0.0, -1.0, 0.5, 2.0])
    y = (x @ w > 0).long()
    return x, y


def task_model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(sum(DIMS), 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))


@pytest.fixture(scope="module")
def trained() -> LeMDATrainer:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with torch.random.fork_rng():
        model = task_model(0)
    trainer = LeMDATrainer(model, DIMS, hidden_dims=(32,), latent_dim=8, lr=3e-3, aug_lr=3e-3, seed=0)
    x, y = toy()
    g = torch.Generator().manual_seed(1)
    trainer.history = []  # type: ignore[attr-defined]
    for _ in range(25):
        order = torch.randperm(len(x), generator=g)
        for s in range(0, len(x), 32):
            idx = order[s:s + 32]
            trainer.history.append(trainer.step((x[idx], y[idx])))  # type: ignore[attr-defined]
    torch.set_num_threads(before)
    return trainer


# -- pure pieces -------------------------------------------------------------------------
def test_vae_loss_hand_value() -> None:
    x, x_aug = torch.zeros(2, 2), torch.ones(2, 2)
    zero = torch.zeros(2, 3)
    assert float(vae_loss(x, x_aug, zero, zero)) == pytest.approx(2.0)            # recon 1 + 1, KL 0
    mu = torch.ones(2, 3)                                                         # KL = 0.5 * 3 * 1
    assert float(vae_loss(x, x, mu, zero, kl_weight=2.0)) == pytest.approx(3.0)


def test_consistency_ignores_unconfident_samples() -> None:
    unsure = torch.zeros(3, 2)                     # max prob 0.5 < 0.9
    assert float(confident_consistency_kl(unsure, torch.randn(3, 2), 0.9)) == 0.0
    sure = torch.tensor([[10.0, 0.0]])
    assert float(confident_consistency_kl(sure, torch.tensor([[0.0, 10.0]]), 0.9)) > 9.0


def test_gradient_reversal_flips_and_scales() -> None:
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = grad_reverse(x * 3, 2.0)
    assert torch.equal(y, torch.tensor([3.0, 6.0]))
    y.sum().backward()
    assert x.grad.tolist() == [-6.0, -6.0]


def test_augmentation_network_seeded_noise() -> None:
    net = AugmentationNetwork(8, (16,), 4)
    x = torch.randn(2, 8)
    a = net(x, generator=torch.Generator().manual_seed(0))[0]
    b = net(x, generator=torch.Generator().manual_seed(0))[0]
    c = net(x, generator=torch.Generator().manual_seed(1))[0]
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(net(x, generator=torch.Generator().manual_seed(1), noise_scale=0.0)[0],
                       net(x, generator=torch.Generator().manual_seed(2), noise_scale=0.0)[0])


# -- joint training -------------------------------------------------------------------------
def test_training_decreases_task_loss(trained) -> None:
    task = np.array([h["task"] for h in trained.history])
    assert task[:10].mean() > 2 * task[-10:].mean()
    x, y = toy(512, seed=7)  # held-out
    acc = (trained.predict(x).argmax(1) == y).float().mean()
    assert float(acc) > 0.9


def test_augmentations_differ_but_stay_near_and_keep_labels(trained) -> None:
    x, y = toy(512, seed=7)
    aug = trained.augment(x, seed=3)
    dist = (aug - x).norm(dim=1)
    other = (x - x.roll(1, 0)).norm(dim=1)         # distance to a different sample
    assert float(dist.min()) > 0
    assert float(dist.mean()) < 0.5 * float(other.mean())
    agree = (trained.predict(aug).argmax(1) == y).float().mean()
    assert float(agree) > 0.8
    # per-modality lists are concatenated in feature_dims order
    parts = [x[:, :3], x[:, 3:]]
    assert torch.equal(trained.augment(parts, seed=3), aug)


def test_adversarial_signal_reaches_the_augmenter() -> None:
    """With only the reversed task loss, the augmenter's update increases the task loss on its outputs."""
    x, y = toy(64)
    with torch.random.fork_rng():
        model = task_model(2)
    trainer = LeMDATrainer(model, DIMS, hidden_dims=(16,), consistency_weight=0.0, vae_weight=0.0,
                           lr=0.0, aug_lr=1e-2, seed=4)  # task network frozen (lr 0)
    losses = [trainer.step((x, y))["task_aug"] for _ in range(30)]
    assert np.mean(losses[-5:]) > np.mean(losses[:5])


def test_training_is_deterministic() -> None:
    x, y = toy(64)
    runs = []
    for _ in range(2):
        with torch.random.fork_rng():
            model = task_model(1)
        t = LeMDATrainer(model, DIMS, hidden_dims=(8,), seed=5)
        runs.append([t.step((x[i:i + 16], y[i:i + 16])) for i in range(0, 64, 16)])
    assert runs[0] == runs[1]


def test_split_features_and_encoder() -> None:
    seen = []

    class Fusion(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = torch.nn.Linear(3, 2), torch.nn.Linear(5, 2)

        def forward(self, parts):
            seen.append([p.shape[1] for p in parts])
            return self.a(parts[0]) + self.b(parts[1])

    enc = torch.nn.Linear(4, 8)
    trainer = LeMDATrainer(Fusion(), DIMS, encoder=lambda raw: [enc(raw)[:, :3], enc(raw)[:, 3:]],
                           split_features=True, hidden_dims=(8,))
    out = trainer.step((torch.randn(6, 4), torch.tensor([0, 1] * 3)))
    assert seen[0] == [3, 5] and np.isfinite(out["total"])
    with pytest.raises(ConfigError, match="feature_dims"):
        LeMDATrainer(Fusion(), [])
    with pytest.raises(ConfigError, match="expected"):
        LeMDATrainer(torch.nn.Linear(8, 2), DIMS).step((torch.randn(2, 7), torch.tensor([0, 1])))


def test_augmenter_checkpoint_round_trip(trained, tmp_path) -> None:
    path = trained.save_augmenter(tmp_path / "lemda.pt", feature_keys=["f_a", "f_b"])
    net, dims, keys = load_augmenter(path)
    x, _ = toy(4)
    from crossaug_multimodal.lemda.trainer import augment_features

    assert dims == DIMS and keys == ["f_a", "f_b"]
    assert torch.equal(augment_features(net, x, seed=11), trained.augment(x, seed=11))
    with pytest.raises(MissingResource):
        load_augmenter(tmp_path / "none.pt")


# -- the recipe -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def checkpoint(trained, tmp_path_factory) -> str:
    return str(trained.save_augmenter(tmp_path_factory.mktemp("lemda") / "lemda.pt", ["f_a", "f_b"]))


def feature_sample(sid: str, seed: int, label: int | None = None) -> Sample:
    x = np.random.default_rng(seed).normal(size=sum(DIMS)).round(4)
    return Sample(sid, {"text": f"sample {sid}"}, label=label,
                  meta={"f_a": x[:3].tolist(), "f_b": x[3:].tolist(), "source": "test"})


class TestLeMDAContract(RecipeContract):
    name = "lemda"

    @pytest.fixture(autouse=True)
    def _params(self, checkpoint):
        self.params = {"checkpoint": checkpoint, "n": 2, "feature_keys": ["f_a", "f_b"]}

    def good_samples(self):
        return [feature_sample("a", 0), feature_sample("b", 1)]

    def bad_samples(self):
        good = feature_sample("x", 2)
        return [(good.replace(id="m1", meta={"f_a": [0.0] * 3}), "no feature vector 'f_b'"),
                (good.replace(id="m2", meta={**good.meta, "f_b": [1.0, 2.0]}), "expects 5"),
                (good.replace(id="m3", meta={**good.meta, "f_a": [0.0, float("nan"), 1.0]}), "nan"),
                (good.replace(id="m4", meta={**good.meta, "f_a": "abc"}), "not a list of numbers")]


def test_recipe_augments_meta_features(checkpoint, trained) -> None:
    recipe = crossaug.create("recipe", "lemda", checkpoint=checkpoint, n=3, feature_keys=["f_a", "f_b"])
    s = feature_sample("p", 5, label=1)
    (group,) = recipe.process([s], Seeder(0))
    assert [c.id for c in group] == ["p~0", "p~1", "p~2"]
    for c in group:
        assert c.parent_id == "p" and c.label == 1 and c.fields == s.fields and c.meta["source"] == "test"
        assert len(c.meta["f_a"]) == 3 and len(c.meta["f_b"]) == 5
        assert c.meta["f_a"] + c.meta["f_b"] != s.meta["f_a"] + s.meta["f_b"]
        assert c.lineage[-1].name == "lemda" and c.lineage[-1].model == checkpoint
        # replay: the recorded seed reproduces the features exactly
        again = trained.augment(torch.tensor([s.meta["f_a"] + s.meta["f_b"]]), seed=c.lineage[-1].seed)
        assert again[0].tolist() == c.meta["f_a"] + c.meta["f_b"]
    assert group[0].meta["f_a"] != group[1].meta["f_a"]
    with pytest.raises(ConfigError, match="feature vectors"):
        LeMDARecipe(checkpoint=checkpoint, feature_keys=["only"]).process([s], Seeder(0))


def test_recipe_fits_on_labelled_features(tmp_path) -> None:
    x, y = toy(96, seed=3)
    samples = [Sample(f"s{i}", {"text": "t"}, label=int(y[i]), meta={"f_a": x[i, :3].tolist(),
                                                                      "f_b": x[i, 3:].tolist()})
               for i in range(len(x))]
    recipe = LeMDARecipe(feature_keys=["f_a", "f_b"], epochs=3, batch_size=32, hidden_dims=[16],
                         task_hidden=[16], save_to=str(tmp_path / "fitted.pt"))
    assert recipe.requires_fit
    recipe.fit(samples)
    out = [g[0] for g in recipe.process(samples[:4], Seeder(1))]
    assert not recipe.requires_fit and len(out) == 4 and (tmp_path / "fitted.pt").is_file()
    assert len(recipe.history) == 9
    reloaded = LeMDARecipe(checkpoint=str(tmp_path / "fitted.pt"), feature_keys=["f_a", "f_b"])
    again = [g[0] for g in reloaded.process(samples[:4], Seeder(1))]
    assert [o.meta for o in out] == [o.meta for o in again]
    with pytest.raises(ConfigError, match="two classes"):
        LeMDARecipe(feature_keys=["f_a", "f_b"]).fit(samples[:1])


def test_recipe_config_errors() -> None:
    with pytest.raises(ConfigError):
        LeMDARecipe(feature_keys="features")
    with pytest.raises(ConfigError):
        LeMDARecipe(n=0)
    with pytest.raises(ConfigError, match="fit"):
        LeMDARecipe().process([feature_sample("a", 0)], Seeder(0))


def test_run_reads_features_from_jsonl(checkpoint, tmp_path) -> None:
    data = tmp_path / "feats.jsonl"
    rows = [{"id": f"r{i}", "text": "x", **feature_sample(f"r{i}", i).meta} for i in range(3)]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    crossaug.run("lemda", data, tmp_path / "out", params={"checkpoint": checkpoint,
                                                           "feature_keys": ["f_a", "f_b"]}, report=False)
    lines = [json.loads(x) for x in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    assert len(lines) == 3 and all(len(x["meta"]["f_b"]) == 5 for x in lines)
    assert lines[0]["meta"]["f_a"] != rows[0]["f_a"]


def test_bad_sample_is_named() -> None:
    with pytest.raises(BadSample, match="'z'"):
        LeMDARecipe(feature_keys=["f"]).features_of(Sample("z", {"text": "q"}))



def test_defaults_keep_labels_on_small_digits_dataset() -> None:
    """60 digit feature vectors, recipe defaults: a classifier trained on the originals keeps >= 80% of labels."""
    datasets = pytest.importorskip("sklearn.datasets", reason="the digits features come from scikit-learn")
    from sklearn.linear_model import LogisticRegression

    x, y = datasets.load_digits(return_X_y=True)
    x, y = x[:60], y[:60]
    samples = [Sample(f"d{i}", {"text": "digit"}, label=int(y[i]), meta={"features": x[i].tolist()})
               for i in range(60)]
    clf = LogisticRegression(max_iter=2000).fit(x, y)
    recipe = LeMDARecipe()
    recipe.fit(samples)
    out = [g[0] for g in recipe.process(samples, Seeder(0))]
    aug = np.array([o.meta["features"] for o in out])
    kept = float(np.mean(clf.predict(aug) == y))
    assert kept >= 0.8, f"only {kept:.0%} of augmented vectors keep their label"
    assert not np.allclose(aug, x, atol=1e-3)  # they are augmentations, not copies
    assert recipe.fit_summary["steps"] >= 200 and recipe.fit_summary["consistency_active"] is True
    assert out[0].lineage[-1].params["consistency_active"] is True


def test_inactive_consistency_term_warns_and_is_recorded(caplog) -> None:
    x, y = toy(40, seed=5)
    samples = [Sample(f"s{i}", {"text": "t"}, label=int(y[i]), meta={"f": x[i].tolist()}) for i in range(40)]
    recipe = LeMDARecipe(feature_keys=["f"], epochs=1, hidden_dims=[8], task_hidden=[8],
                         confidence_threshold=1.0)
    with caplog.at_level("WARNING", logger="crossaug_multimodal.lemda.recipe"):
        recipe.fit(samples)
    assert "consistency term never acted" in caplog.text
    assert recipe.fit_summary["consistency_active"] is False
    out = recipe.process(samples[:1], Seeder(0))[0][0]
    assert out.lineage[-1].params["consistency_active"] is False


def test_one_encoding_for_all_outputs_gives_each_seeds_features():
    """The recipe encodes an input once and draws each output's noise from its seed: the features
    must be those of running the whole network once per seed (bit for bit)."""
    from crossaug_multimodal.lemda.trainer import augment_features, augment_features_seeded

    torch.manual_seed(0)
    net = AugmentationNetwork(10, hidden_dims=(16,), latent_dim=4)
    net.train()  # a network left in training mode is evaluated, then left as it was
    x = torch.randn(3, 10)
    seeds = [0, 7, 123456789, 7]
    for scale in (1.0, 0.3):
        many = augment_features_seeded(net, x, seeds, noise_scale=scale)
        one = [augment_features(net, x, seed=s, noise_scale=scale) for s in seeds]
        assert all(torch.equal(a, b) for a, b in zip(many, one)) and not torch.equal(many[0], many[1])
    assert net.training
