"""Tests of the compact StyleGAN2: layers, losses, training on real digits, checkpoints, CLI."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="StyleGAN2 needs crossaug-multimodal[torch]")

from crossaug import BadSample, ConfigError, MissingResource  # noqa: E402
from crossaug_multimodal.stylegan2.losses import d_logistic_loss, g_nonsaturating_loss, r1_penalty  # noqa: E402
from crossaug_multimodal.stylegan2.networks import (  # noqa: E402
    Discriminator,
    Generator,
    GeneratorConfig,
    discriminator_config_for,
    minibatch_stddev,
    modulated_conv2d,
)
from crossaug_multimodal.stylegan2.train import (  # noqa: E402
    TrainConfig,
    _init_modules,
    generate,
    load_generator,
    load_images,
    main,
    read_checkpoint,
    train_stylegan2,
)

TINY = dict(resolution=16, img_channels=1, z_dim=16, w_dim=16, mapping_layers=2, channel_base=128, channel_max=16)


@pytest.fixture(autouse=True)
def _one_thread():
    """Small convolutions run far faster single-threaded on a shared 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    from sklearn.datasets import load_digits

    d = load_digits().images[:256]  # 8x8, values 0..16
    return (np.kron(d, np.ones((2, 2))) / 16.0).astype(np.float32)  # 16x16 in [0, 1]


# -- layers --------------------------------------------------------------------------
def test_modulated_conv_matches_hand_computation() -> None:
    x = torch.tensor([[[[1.0]], [[2.0]]]])             # [1, 2, 1, 1]
    w = torch.tensor([[[[3.0]], [[4.0]]]])              # [1 out, 2 in, 1, 1]
    s = torch.tensor([[1.0, 0.5]])                      # styles
    # modulated weights [3, 2]; output 3*1 + 2*2 = 7; demodulated by ||[3, 2]|| = sqrt(13)
    assert float(modulated_conv2d(x, w, s, demodulate=False)) == pytest.approx(7.0)
    assert float(modulated_conv2d(x, w, s, demodulate=True)) == pytest.approx(7.0 / np.sqrt(13.0), rel=1e-6)


def test_modulated_conv_is_per_sample() -> None:
    g = torch.Generator().manual_seed(0)
    x, w, s = torch.randn(3, 4, 5, 5, generator=g), torch.randn(6, 4, 3, 3, generator=g), torch.randn(3, 4, generator=g)
    batched = modulated_conv2d(x, w, s)
    single = torch.cat([modulated_conv2d(x[i:i + 1], w, s[i:i + 1]) for i in range(3)])
    assert torch.allclose(batched, single, atol=1e-5)
    # demodulation: each sample's effective filters have unit norm, so a style scale changes nothing
    assert torch.allclose(modulated_conv2d(x, w, 3 * s), batched, atol=1e-4)


def test_style_mixing_takes_layers_after_crossover() -> None:
    g = Generator(GeneratorConfig(**TINY))
    ws, ws2 = torch.zeros(2, g.num_ws, 16), torch.ones(2, g.num_ws, 16)
    mixed = g.mix(ws, ws2, [2, 5])
    assert g.num_ws == 6
    assert mixed[0, :, 0].tolist() == [0, 0, 1, 1, 1, 1]
    assert mixed[1, :, 0].tolist() == [0, 0, 0, 0, 0, 1]


def test_generator_shapes_noise_and_truncation() -> None:
    g = Generator(GeneratorConfig(**TINY)).eval()
    z = torch.randn(2, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        for blk in [g.synthesis.conv1, *g.synthesis.ups, *g.synthesis.convs]:
            blk.noise.strength.fill_(0.5)  # untrained strength is 0: make noise visible
        a = g(z, noise_mode="random", generator=torch.Generator().manual_seed(3))
        b = g(z, noise_mode="random", generator=torch.Generator().manual_seed(3))
        c = g(z, noise_mode="random", generator=torch.Generator().manual_seed(4))
        const1, const2 = g(z, noise_mode="const"), g(z, noise_mode="const")
        g.mapping.w_avg.fill_(0.25)
        ws0 = g.map(z, truncation_psi=0.0)
    assert a.shape == (2, 1, 16, 16)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(const1, const2)
    assert torch.allclose(ws0, torch.full_like(ws0, 0.25))
    with pytest.raises(ConfigError):
        GeneratorConfig(resolution=12)


def test_minibatch_stddev_hand_value() -> None:
    x = torch.stack([torch.zeros(2, 4, 4), torch.full((2, 4, 4), 2.0)])  # two samples, std 1 everywhere
    out = minibatch_stddev(x, group=2)
    assert out.shape == (2, 3, 4, 4)
    assert torch.allclose(out[:, 2], torch.ones(2, 4, 4), atol=1e-4)


def test_losses_hand_values() -> None:
    big = torch.tensor([30.0])
    assert float(d_logistic_loss(big, -big)) == pytest.approx(0.0, abs=1e-6)   # perfect discriminator
    assert float(g_nonsaturating_loss(big)) == pytest.approx(0.0, abs=1e-6)
    x = torch.ones(2, 1, 2, 2, requires_grad=True)
    logits = (3 * x).sum(dim=(1, 2, 3))                 # d logits / dx = 3 everywhere
    assert float(r1_penalty(logits, x)) == pytest.approx(9.0 * 4)


def test_discriminator_scores_each_image() -> None:
    cfg = GeneratorConfig(**TINY)
    d = Discriminator(discriminator_config_for(cfg))
    assert d(torch.zeros(4, 1, 16, 16)).shape == (4,)


# -- data ----------------------------------------------------------------------------
def test_load_images_from_folder_and_arrays(tmp_path, digits) -> None:
    from PIL import Image

    for i in range(3):
        Image.fromarray((digits[i] * 255).astype(np.uint8)).save(tmp_path / f"{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    t = load_images(tmp_path, 8, channels=3)
    assert t.shape == (3, 3, 8, 8) and float(t.min()) >= -1 and float(t.max()) <= 1
    arr = load_images(digits[:2], 16, channels=1)
    assert torch.allclose(arr[0, 0], torch.from_numpy(digits[0]) * 2 - 1, atol=1 / 127.5)  # uint8 rounding
    (tmp_path / "broken.png").write_bytes(b"nope")
    with pytest.raises(BadSample, match="cannot read image"):
        load_images(tmp_path, 8)
    with pytest.raises(MissingResource):
        load_images(tmp_path / "missing", 8)


# -- training --------------------------------------------------------------------------
@pytest.mark.slow
def test_training_on_digits_learns(digits) -> None:
    cfg = GeneratorConfig(**TINY)
    real = load_images(digits, 16, 1)
    res = train_stylegan2(real, cfg, TrainConfig(steps=60, batch_size=8, log_every=0), seed=1)
    d_loss = np.array([h["d_loss"] for h in res.history])
    assert len(d_loss) == 60 and np.isfinite(d_loss).all()
    # the discriminator learns to tell real from fake: its loss falls from the start
    assert d_loss[:15].mean() > d_loss[-30:].mean()
    # the generator moves toward the data: the mean generated image approaches the mean digit
    g0, _ = _init_modules(cfg, discriminator_config_for(cfg), seed=1)
    before = (generate(g0.eval(), 128, seed=5).mean(0) - real.mean(0)).abs().mean()
    after = (generate(res.generator_ema, 128, seed=5).mean(0) - real.mean(0)).abs().mean()
    assert float(after) < 0.6 * float(before)


def test_training_is_deterministic_and_resumes_exactly(tmp_path, digits) -> None:
    cfg = GeneratorConfig(**{**TINY, "channel_max": 8})
    tc = TrainConfig(steps=4, batch_size=4, r1_every=2, log_every=0)
    straight = train_stylegan2(digits[:32], cfg, tc, seed=3)
    again = train_stylegan2(digits[:32], cfg, tc, seed=3)
    other = train_stylegan2(digits[:32], cfg, tc, seed=4)
    w = lambda r: torch.cat([p.flatten() for p in r.generator_ema.parameters()])  # noqa: E731
    assert torch.equal(w(straight), w(again)) and not torch.equal(w(straight), w(other))
    ckpt = tmp_path / "half.pt"
    train_stylegan2(digits[:32], cfg, TrainConfig(steps=2, batch_size=4, r1_every=2, log_every=0), seed=3,
                    checkpoint=ckpt)
    resumed = train_stylegan2(digits[:32], None, TrainConfig(steps=2, batch_size=4, r1_every=2, log_every=0),
                              seed=3, resume=ckpt)
    assert resumed.step == 4 and len(resumed.history) == 4
    assert torch.allclose(w(resumed), w(straight), atol=1e-6)


def test_checkpoint_round_trip_gives_identical_images(tmp_path, digits) -> None:
    cfg = GeneratorConfig(**{**TINY, "channel_max": 8})
    path = tmp_path / "g.pt"
    res = train_stylegan2(digits[:16], cfg, TrainConfig(steps=2, batch_size=4, log_every=0), checkpoint=path)
    loaded = load_generator(path)
    assert torch.equal(generate(res.generator_ema, 3, seed=9), generate(loaded, 3, seed=9))
    assert read_checkpoint(path)["step"] == 2
    (tmp_path / "bad.pt").write_bytes(b"")
    torch.save({"format": "other"}, tmp_path / "other.pt")
    with pytest.raises(ConfigError, match="not a crossaug StyleGAN2 checkpoint"):
        load_generator(tmp_path / "other.pt")
    with pytest.raises(MissingResource):
        load_generator(tmp_path / "absent.pt")


def test_command_line_trains_and_writes_samples(tmp_path, digits) -> None:
    from PIL import Image

    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(8):
        Image.fromarray((digits[i] * 255).astype(np.uint8)).convert("RGB").save(folder / f"{i}.png")
    out, grid = tmp_path / "g.pt", tmp_path / "grid.png"
    assert main([str(folder), "--out", str(out), "--resolution", "8", "--z-dim", "8", "--w-dim", "8",
                 "--mapping-layers", "1", "--channel-base", "32", "--channel-max", "4", "--steps", "2",
                 "--batch-size", "4", "--samples", str(grid)]) == 0
    assert load_generator(out).config.resolution == 8
    assert Image.open(grid).size == (8 * 8, 8 * 2)
