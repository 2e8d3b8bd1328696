"""Fixtures of the image plugin tests: tiny random models built once per session."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

_spec = importlib.util.spec_from_file_location("crossaug_image_tests_tiny_models",
                                               Path(__file__).with_name("tiny_models.py"))
tiny_models = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(tiny_models)  # type: ignore[union-attr]


@pytest.fixture(scope="session")
def tiny() -> Any:
    """The tiny_models helper module (make_image and the model builders)."""
    return tiny_models


@pytest.fixture(scope="session")
def blip_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    pytest.importorskip("transformers", reason="captioning needs crossaug-image[transformers]")
    return str(tiny_models.build_blip(tmp_path_factory.mktemp("blip")))


@pytest.fixture(scope="session")
def ved_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    pytest.importorskip("transformers", reason="captioning needs crossaug-image[transformers]")
    return str(tiny_models.build_vit_gpt2(tmp_path_factory.mktemp("vit-gpt2")))


@pytest.fixture(scope="session")
def git_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    pytest.importorskip("transformers", reason="captioning needs crossaug-image[transformers]")
    return str(tiny_models.build_git(tmp_path_factory.mktemp("git")))


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    pytest.importorskip("transformers", reason="CLIP score needs crossaug-image[transformers]")
    return str(tiny_models.build_clip(tmp_path_factory.mktemp("clip")))


@pytest.fixture(scope="session")
def sd_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    pytest.importorskip("diffusers", reason="text-to-image needs crossaug-image[diffusers]")
    return str(tiny_models.build_stable_diffusion(tmp_path_factory.mktemp("sd")))


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Any:
    """Tiny models run far faster on one thread than on two contended ones; restored after each module."""
    try:
        import torch
    except ImportError:  # pragma: no cover - base install
        yield
        return
    import os

    from crossaug.precision import THREADS_ENV

    before, env = torch.get_num_threads(), os.environ.get(THREADS_ENV)
    os.environ[THREADS_ENV] = "1"  # what the thread policy of model steps and training loops then applies
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
    if env is None:
        os.environ.pop(THREADS_ENV, None)
    else:
        os.environ[THREADS_ENV] = env
