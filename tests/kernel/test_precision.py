"""Training precision (fp32 masters + autocast, finite losses) and threads per worker."""

from __future__ import annotations

import warnings

import pytest
from crossaug.precision import (
    THREADS_ENV,
    MixedPrecision,
    TrainingDiverged,
    apply_torch_threads,
    autocast_dtype,
    cpu_cores,
    float32_master,
    torch_threads,
    worker_threads,
)

torch = pytest.importorskip("torch", reason="training precision is about torch loops")


def test_cpu_half_requests_train_under_bf16_autocast_with_fp32_masters() -> None:
    mp = MixedPrecision("float16", "cpu", what="toy")
    assert mp.compute is torch.bfloat16 and mp.scaler is None
    lin = torch.nn.Linear(4, 1).half()
    float32_master(lin)
    assert lin.weight.dtype is torch.float32
    opt = torch.optim.Adam(lin.parameters(), lr=1e-2)
    x = torch.randn(8, 4)
    for step in range(3):
        with mp.autocast():
            out = lin(x)
        assert out.dtype is torch.bfloat16  # the forward really ran in half precision
        loss = out.float().pow(2).mean()
        opt.zero_grad()
        mp.backward(loss, step)
        mp.step(opt)
    assert torch.isfinite(lin.weight).all() and lin.weight.dtype is torch.float32


def test_float32_means_no_autocast() -> None:
    mp = MixedPrecision("float32", "cpu")
    assert mp.compute is None and mp.compute_name == "float32"
    assert autocast_dtype("auto", "cpu") is None and autocast_dtype("fp32", "cuda") is None


def test_cuda_fp16_gets_a_grad_scaler_and_bf16_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda index=0: (7, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GradScaler warns that CUDA is not really there
        fp16 = MixedPrecision("auto", "cuda")
        bf16 = MixedPrecision("bfloat16", "cuda")
    assert fp16.compute is torch.float16 and fp16.scaler is not None
    assert bf16.compute is torch.bfloat16 and bf16.scaler is None


@pytest.mark.parametrize("value, word", [(float("nan"), "nan"), (float("inf"), "inf")])
def test_a_non_finite_loss_names_the_loop_and_the_step(value: float, word: str) -> None:
    mp = MixedPrecision("float16", "cpu", what="Diff-II concept learning")
    with pytest.raises(TrainingDiverged, match=rf"Diff-II concept learning: loss is {word} at step 7"):
        mp.backward(torch.tensor([1.0, value], requires_grad=True).sum(), step=7)


def test_adam_on_a_half_parameter_is_what_the_masters_prevent() -> None:
    """The bug: Adam's eps (1e-8) underflows to 0 in float16, so a zero gradient divides 0 by 0."""
    p = torch.nn.Parameter(torch.ones(3, dtype=torch.float16))
    torch.optim.Adam([p], lr=1e-3)
    p.grad = torch.tensor([1e-3, 0.0, 0.0], dtype=torch.float16)
    opt = torch.optim.Adam([p], lr=1e-3)
    opt.step()
    assert not torch.isfinite(p).any()
    master = torch.nn.Parameter(torch.ones(3))
    float32_master(torch.nn.ParameterList([master]))
    opt32 = torch.optim.Adam([master], lr=1e-3)
    master.grad = torch.tensor([1e-3, 0.0, 0.0])
    opt32.step()
    assert torch.isfinite(master).all() and master[1] == 1


def test_threads_are_cores_over_workers_with_an_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(THREADS_ENV, raising=False)
    cores = cpu_cores()
    before = torch.get_num_threads()
    try:
        with worker_threads(1):
            assert torch_threads() == cores
        with worker_threads(cores * 2):
            assert torch_threads() == 1
            torch.set_num_threads(cores)
            assert apply_torch_threads() == 1 and torch.get_num_threads() == 1  # capped
        torch.set_num_threads(1)
        assert apply_torch_threads() == 1  # a lower count set on purpose is kept
        monkeypatch.setenv(THREADS_ENV, "3")
        assert torch_threads() == 3
    finally:
        torch.set_num_threads(before)
