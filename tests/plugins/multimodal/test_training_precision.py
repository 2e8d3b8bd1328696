"""Training loops keep float32 master weights under autocast, stop on a NaN loss, and cap torch threads."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the training loops need crossaug-multimodal[torch]")

from crossaug.precision import THREADS_ENV, TrainingDiverged  # noqa: E402
from crossaug_multimodal.cmda.heads import LatentSpace  # noqa: E402
from crossaug_multimodal.lemda.trainer import LeMDATrainer  # noqa: E402
from crossaug_multimodal.paired.text_encoder import EncoderConfig, train_text_encoder  # noqa: E402
from crossaug_multimodal.stylegan2.networks import GeneratorConfig  # noqa: E402
from crossaug_multimodal.stylegan2.train import TrainConfig, train_stylegan2  # noqa: E402

TINY = dict(resolution=16, img_channels=1, z_dim=16, w_dim=16, mapping_layers=2, channel_base=128, channel_max=8)


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(THREADS_ENV, "1")  # the thread policy the loops apply; tiny nets are fastest on one
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _images(n: int = 8) -> torch.Tensor:
    return torch.rand(n, 1, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_stylegan2_trains_finite_with_float32_masters_and_one_thread(dtype: str) -> None:
    torch.set_num_threads(2)
    res = train_stylegan2(_images(), GeneratorConfig(**TINY),
                          TrainConfig(steps=3, batch_size=4, r1_every=2, log_every=0, dtype=dtype), seed=0)
    assert torch.get_num_threads() == 1  # the loop applied the per-worker thread count
    assert all(np.isfinite([h["d_loss"], h["g_loss"]]).all() for h in res.history)
    assert all(p.dtype == torch.float32 for p in res.generator.parameters())
    assert all(torch.isfinite(p).all() for p in res.generator.parameters())


def test_stylegan2_nan_loss_names_the_step() -> None:
    data = _images()
    data[0, 0, 0, 0] = float("nan")
    with pytest.raises(TrainingDiverged, match="StyleGAN2 discriminator: loss is nan at step 0"):
        train_stylegan2(data.repeat(1, 1, 1, 1)[:1].repeat(4, 1, 1, 1), GeneratorConfig(**TINY),
                        TrainConfig(steps=2, batch_size=4, log_every=0), seed=0)


def _lemda(dtype: str) -> LeMDATrainer:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    return LeMDATrainer(model, [4, 4], hidden_dims=(16,), latent_dim=4, seed=0, dtype=dtype)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_lemda_steps_stay_finite_under_autocast(dtype: str) -> None:
    t = _lemda(dtype)
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(32, 8, generator=g), torch.randint(0, 2, (32,), generator=g)
    losses = [t.step((x, y)) for _ in range(3)]
    assert all(np.isfinite(list(v.values())).all() for v in losses)
    assert all(p.dtype == torch.float32 for p in t.augmenter.parameters())
    assert (t.precision.compute is None) == (dtype == "float32")


def test_lemda_nan_loss_names_the_step() -> None:
    t = _lemda("float32")
    x = torch.full((4, 8), float("nan"))
    with pytest.raises(TrainingDiverged, match="LeMDA: loss is nan at step 0"):
        t.step((x, torch.zeros(4, dtype=torch.long)))


def test_cmda_heads_train_under_autocast_and_stop_on_nan() -> None:
    rng = np.random.default_rng(0)
    ft, fs = rng.normal(size=(16, 6)), rng.normal(size=(16, 5))
    half = LatentSpace(6, 5, latent_dim=4, hidden=8, dtype="float16")
    history = half.fit(ft, fs, epochs=3, batch_size=8)
    assert np.isfinite(history).all() and all(p.dtype == torch.float32 for p in half.parameters())
    ft[3, 2] = np.inf
    with pytest.raises(TrainingDiverged, match="CMDA heads: loss is nan at step 0"):
        LatentSpace(6, 5, latent_dim=4, hidden=8).fit(ft, fs, epochs=1, batch_size=16)


def test_paired_text_encoder_stops_on_a_nan_loss() -> None:
    captions = ["a red square", "a blue circle", "a green dot", "a red circle"]
    latents = torch.randn(4, 6)
    ok = train_text_encoder(captions, latents, EncoderConfig(embed_dim=8, hidden_dim=8, epochs=2, batch_size=4))
    assert np.isfinite(ok.history).all()
    latents[1, 0] = float("nan")
    with pytest.raises(TrainingDiverged, match="paired text encoder: loss is nan at step 0"):
        train_text_encoder(captions, latents, EncoderConfig(embed_dim=8, hidden_dim=8, epochs=2, batch_size=4))
