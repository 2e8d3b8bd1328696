"""The one device/dtype policy every model backend uses (crossaug.models.pick_device / pick_dtype)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from crossaug import ConfigError
from crossaug.models import pick_device, pick_dtype, runtime_of

torch = pytest.importorskip("torch", reason="the dtype policy returns torch dtypes")


def fake_cuda(monkeypatch: pytest.MonkeyPatch, major: int) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda index=0: (major, 0))


def test_auto_device_prefers_cuda_then_mps_then_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert pick_device("auto") == "cpu" and pick_device(None) == "cpu"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert pick_device("auto") == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device(None) == "cuda"


def test_explicit_devices_pass_through() -> None:
    assert pick_device("cpu") == "cpu" and pick_device("cuda:1") == "cuda:1" and pick_device("mps") == "mps"


def test_auto_dtype_is_fp32_on_cpu_and_half_on_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    assert pick_dtype("auto", "cpu") is torch.float32 and pick_dtype(None, "cpu") is torch.float32
    assert pick_dtype("auto", "mps") is torch.float16
    fake_cuda(monkeypatch, 8)  # Ampere and later: bfloat16
    assert pick_dtype("auto", "cuda") is torch.bfloat16 and pick_dtype(None, "cuda:0") is torch.bfloat16
    fake_cuda(monkeypatch, 7)  # Volta/Turing: float16
    assert pick_dtype("auto", "cuda") is torch.float16


def test_explicit_dtypes_and_aliases_pass_through(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_cuda(monkeypatch, 9)
    for name, want in [("float32", torch.float32), ("fp32", torch.float32), ("float16", torch.float16),
                       ("fp16", torch.float16), ("half", torch.float16), ("bfloat16", torch.bfloat16),
                       ("bf16", torch.bfloat16), ("torch.float16", torch.float16)]:
        assert pick_dtype(name, "cuda") is want and pick_dtype(name, "cpu") is want
    assert pick_dtype(torch.float64, "cpu") is torch.float64


def test_unknown_dtype_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="'int8'"):
        pick_dtype("int8", "cpu")


def test_runtime_lineage_reports_the_policy_dtype(monkeypatch: pytest.MonkeyPatch) -> None:
    class Step:
        device, dtype = "cuda", "auto"

    fake_cuda(monkeypatch, 8)
    assert runtime_of(Step())["dtype"] == "bfloat16"
    fake_cuda(monkeypatch, 7)
    assert runtime_of(Step())["dtype"] == "float16"


def test_import_crossaug_does_not_import_torch() -> None:
    code = "import sys, crossaug, crossaug.models; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
