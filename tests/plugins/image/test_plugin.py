"""Packaging of the image plugin: light import, registered names, doctor checks."""

from __future__ import annotations

import subprocess
import sys

import pytest
from crossaug import registry
from crossaug_image import hooks


def test_import_and_step_loading_do_not_import_torch():
    code = ("import sys, crossaug_image\n"
            "from crossaug import registry\n"
            "for kind in ('transform', 'augmentation', 'filter', 'recipe'):\n"
            "    for name in registry.names(kind):\n"
            "        if name.startswith('image.') or name in ('back-captioning', 'back-imagination', 'diff-ii'):\n"
            "            registry.load(kind, name)\n"
            "print(sorted(m for m in ('torch', 'transformers', 'diffusers') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_step_is_registered():
    assert {"back-captioning", "back-imagination", "diff-ii"} <= set(registry.names("recipe"))
    assert {"image.caption.blip", "image.caption.vision-encoder-decoder", "image.text-to-image.diffusers",
            "image.text-to-image.resample-grayscale"} <= set(registry.names("transform"))
    assert {"image.flip", "image.crop", "image.color-jitter", "image.random-erasing",
            "image.rotate"} <= set(registry.names("augmentation"))
    assert {"image.grayscale", "image.clip-score", "image.label-confidence"} <= set(registry.names("filter"))


def test_doctor_reports_backends():
    checks = {c.name: c for c in hooks.crossaug_doctor()}
    assert {"python torch", "python transformers", "python diffusers"} <= set(checks)
    assert all(c.plugin == "crossaug-image" for c in checks.values())


def test_device_and_dtype_selection():
    import torch
    from crossaug import ConfigError
    from crossaug_image._backend import check_device, pick_device, pick_dtype

    assert pick_dtype("auto", "cuda") is torch.float16 and pick_dtype("auto", "cpu") is torch.float32
    assert pick_dtype("bfloat16", "cpu") is torch.bfloat16
    assert pick_device("cpu") == "cpu" and check_device("cuda:1") == "cuda:1"
    if not torch.cuda.is_available():
        assert pick_device("auto") in ("cpu", "mps")
    with pytest.raises(ConfigError):
        check_device("tpu")
