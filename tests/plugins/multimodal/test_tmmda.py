"""TMMDA: token mixup pinned by hand, the JSD term, the trainer on a toy problem, the recipe."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="TMMDA needs crossaug-multimodal[torch]")

import crossaug  # noqa: E402
from crossaug import BadSample, ConfigError, Sample, Seeder  # noqa: E402
from crossaug_multimodal.tmmda.losses import token_jsd  # noqa: E402
from crossaug_multimodal.tmmda.mixup import mixup_sources, token_mixup  # noqa: E402
from crossaug_multimodal.tmmda.recipe import TMMDARecipe  # noqa: E402
from crossaug_multimodal.tmmda.trainer import TMMDATrainer, mix_tokens  # noqa: E402
from crossaug_testing import RecipeContract  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_token_mixup_by_hand():
    lang = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    vis = np.array([[10.0, 20.0], [30.0, 40.0], [50.0, 60.0], [70.0, 80.0]])
    ac = np.array([[-1.0, -2.0], [-3.0, -4.0], [-5.0, -6.0], [-7.0, -8.0]])
    # p_second 0.25, p_third 0.5: u < 0.25 vision; 0.25 <= u < 0.75 acoustic; else language
    mixed, source = token_mixup([lang, vis, ac], 0.25, 0.5, u=np.array([0.1, 0.25, 0.74, 0.75]))
    assert source.tolist() == [1, 2, 2, 0]
    assert mixed.tolist() == [[10.0, 20.0], [-3.0, -4.0], [-5.0, -6.0], [7.0, 8.0]]
    assert mixup_sources(np.array([0.0, 0.5, 0.99]), 0.0, 0.0).tolist() == [0, 0, 0]
    with pytest.raises(ConfigError):
        mixup_sources(np.array([0.1]), 0.6, 0.5)
    with pytest.raises(ConfigError):
        token_mixup([lang, vis, ac[:3]], 0.3, 0.3, u=np.zeros(4))


def test_torch_mixup_follows_the_same_rule():
    seqs = [torch.randn(2, 5, 3, generator=torch.Generator().manual_seed(i)) for i in range(3)]
    mixed, source = mix_tokens(seqs, 0.3, 0.4, torch.Generator().manual_seed(7))
    u = torch.rand((2, 5), generator=torch.Generator().manual_seed(7)).numpy()
    for row in range(2):
        ref, ref_source = token_mixup([s[row].numpy() for s in seqs], 0.3, 0.4, u=u[row])
        assert source[row].tolist() == ref_source.tolist()
        np.testing.assert_allclose(mixed[row].numpy(), ref, rtol=0, atol=1e-6)


def test_token_jsd_against_a_plain_loop():
    a = torch.tensor([[[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]]])
    b = torch.tensor([[[1.0, 1.0, -0.5], [3.0, 0.0, -3.0]]])
    total = 0.0
    for ta, tb in zip(a[0].tolist(), b[0].tolist()):
        p = [math.exp(x) / sum(math.exp(y) for y in ta) for x in ta]
        q = [math.exp(x) / sum(math.exp(y) for y in tb) for x in tb]
        m = [(pi + qi) / 2 for pi, qi in zip(p, q)]
        total += 0.5 * sum(pi * math.log(pi / mi) for pi, mi in zip(p, m)) + \
            0.5 * sum(qi * math.log(qi / mi) for qi, mi in zip(q, m))
    assert float(token_jsd(a, b)) == pytest.approx(total / 2, abs=1e-6)
    assert 0 <= float(token_jsd(a, b)) <= math.log(2)


def toy(n=48, t=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    seqs = [torch.randn(n, t, d, generator=g) for d in (5, 4, 3)]
    y = ((seqs[0][:, :, 0].mean(1) + seqs[1][:, :, 1].mean(1)) > 0).long()
    return seqs, y


def test_trainer_lowers_its_losses_on_a_toy_problem():
    seqs, y = toy()
    tr = TMMDATrainer([5, 4, 3], 2, dim=16, hidden=32, lr=3e-3, seed=0)
    hist = [tr.step((*seqs, y)) for _ in range(60)]
    first = {k: np.mean([h[k] for h in hist[:5]]) for k in hist[0]}
    last = {k: np.mean([h[k] for h in hist[-5:]]) for k in hist[0]}
    assert last["task"] < 0.5 * first["task"], (first, last)
    assert last["total"] < 0.6 * first["total"], (first, last)
    assert all(np.isfinite(h["discriminator"]) and h["discriminator"] > 0 for h in hist)
    acc = (tr.predict(seqs).argmax(-1) == y).float().mean()
    assert float(acc) > 0.9
    v1, v2 = tr.virtual(seqs, seed=1), tr.virtual(seqs, seed=1)
    assert torch.equal(v1, v2) and not torch.equal(v1, tr.virtual(seqs, seed=2))
    # one projection for several seeds (a recipe's outputs of one input) gives each seed's own call
    many = tr.virtuals(seqs, [1, 2, 7])
    assert all(torch.equal(v, tr.virtual(seqs, seed=s)) for v, s in zip(many, [1, 2, 7], strict=True))


def test_round6_is_python_round_of_each_value():
    from crossaug_multimodal.tmmda.recipe import round6

    rng = np.random.default_rng(0)
    values = np.concatenate([
        rng.normal(size=200_000), rng.normal(size=50_000) * 1e-5, rng.normal(size=50_000) * 1e4,
        rng.integers(-10**7, 10**7, size=50_000) / 1e6,  # on the 6th decimal, give or take float32
        np.arange(-2001, 2002, 2) / 128,  # exact ties: q / 2^7 times 10^6 ends in .5
        [0.0, -0.0, 5e-7, -5e-7, 1.5e-6, 2.5e-6, 3.4e38, -3.4e38, 1e-45, -1e-45]]).astype(np.float32)
    want = [round(v, 6) for v in values.tolist()]
    for form in (values, torch.from_numpy(values), torch.from_numpy(values).to(torch.bfloat16)):
        got = round6(form)
        plain = want if not isinstance(form, torch.Tensor) or form.dtype == torch.float32 else \
            [round(v, 6) for v in form.float().tolist()]
        assert got == plain and [math.copysign(1, v) for v in got] == [math.copysign(1, v) for v in plain]
    wide = rng.normal(size=(3, 5))  # float64: rounded one by one
    assert round6(wide) == [[round(v, 6) for v in row] for row in wide.tolist()]


def test_recipe_outputs_are_each_seed_s_virtual_modality_rounded():
    recipe = TMMDARecipe(min_steps=5, n=3, dim=8, hidden=16)
    data = samples()
    recipe.fit(data)
    [group] = recipe.process(data[1:2], Seeder(5))
    seqs = [torch.tensor([data[1].meta[k]], dtype=torch.float32) for k in ("language", "vision", "acoustic")]
    for k, out in enumerate(group):
        seed = Seeder(5).integer_seed("tmmda", "c1", k)
        assert out.lineage[-1].seed == seed
        want = recipe._trainer.virtual(seqs, seed=seed)[0]
        assert out.meta["virtual"] == [[round(float(v), 6) for v in row] for row in want.tolist()]


def samples(n=12, t=3):
    seqs, y = toy(n, t, seed=3)
    return [Sample(f"c{i}", {"text": f"clip {i}"}, label="pos" if int(y[i]) else "neg",
                   meta={"language": seqs[0][i].tolist(), "vision": seqs[1][i].tolist(),
                         "acoustic": seqs[2][i].tolist()}) for i in range(n)]


class TestTMMDARecipeContract(RecipeContract):
    name = "tmmda"
    params = {"min_steps": 5, "n": 2, "dim": 8, "hidden": 16}

    def good_samples(self):
        return samples(6)


def test_recipe_writes_virtual_modalities_and_names_bad_samples():
    recipe = TMMDARecipe(min_steps=10, n=2, dim=8, hidden=16)
    data = samples()
    recipe.fit(data)
    assert len(recipe.history) >= 10
    [group] = recipe.process(data[:1], Seeder(0))
    assert [o.id for o in group] == ["c0~0", "c0~1"]
    for o in group:
        assert np.asarray(o.meta["virtual"]).shape == (3, 8) and o.label == "pos"
        assert o.meta["language"] == data[0].meta["language"]
    assert group[0].meta["virtual"] != group[1].meta["virtual"]
    bad = Sample("b", {"text": "x"}, meta={**data[0].meta, "vision": data[0].meta["vision"][:2]})
    with pytest.raises(BadSample, match="not aligned") as info:
        recipe.process([bad], Seeder(0))
    assert "'b'" in str(info.value)
    with pytest.raises(ConfigError):
        TMMDARecipe(p_second=0.8, p_third=0.5)


def test_run_end_to_end(tmp_path):
    data = tmp_path / "clips.jsonl"
    data.write_text("\n".join(json.dumps({"id": s.id, "text": s["text"], "label": s.label, **s.meta})
                              for s in samples()) + "\n")
    result = crossaug.run("tmmda", str(data), tmp_path / "out", seed=0, report=False,
                          params={"min_steps": 10, "dim": 8, "hidden": 16})
    lines = list(crossaug.read_manifest(result.output_dir))
    assert len(lines) == 12 and all(ln["kept"] for ln in lines)
    assert all(np.asarray(ln["meta"]["virtual"] if "meta" in ln else ln["virtual"]).shape == (3, 8) for ln in lines)
    assert lines[0]["lineage"][-1]["name"] == "tmmda"


def test_checkpoint_round_trip_gives_the_same_virtual_modalities(tmp_path):
    from crossaug import MissingResource

    data = samples()
    trained = TMMDARecipe(min_steps=5, dim=8, hidden=16, save_to=str(tmp_path / "tmmda.pt"))
    trained.fit(data)
    loaded = crossaug.create("recipe", "tmmda", checkpoint=str(tmp_path / "tmmda.pt"))
    assert not loaded.requires_fit
    a, b = trained.process(data[:3], Seeder(4)), loaded.process(data[:3], Seeder(4))
    assert [[o.meta["virtual"] for o in g] for g in a] == [[o.meta["virtual"] for o in g] for g in b]
    assert b[0][0].lineage[-1].model == str(tmp_path / "tmmda.pt")
    with pytest.raises(MissingResource):
        TMMDARecipe(checkpoint=str(tmp_path / "none.pt")).process(data[:1], Seeder(0))
