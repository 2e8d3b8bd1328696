"""pytest fixtures for crossaug and plugin tests.

Enable with ``pytest_plugins = ["crossaug_testing.fixtures"]``.

* ``only_plugins(*dists)`` — restrict discovery to the given distributions
  (plus the kernel) for one test; the plugin manager is rebuilt before and after.
* ``kernel_only`` — discovery limited to the kernel.
* ``text_samples`` — a few short English samples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from crossaug.hooks import reset_plugin_manager
from crossaug.modality import forget_modalities
from crossaug.sample import Sample


def _reset() -> None:
    reset_plugin_manager()
    forget_modalities()


@pytest.fixture
def only_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    def restrict(*dists: str) -> None:
        monkeypatch.setenv("CROSSAUG_PLUGINS", ",".join(dists))
        _reset()

    yield restrict
    monkeypatch.undo()
    _reset()


@pytest.fixture
def kernel_only(only_plugins: Callable[..., None]) -> None:
    only_plugins()


@pytest.fixture
def text_samples() -> list[Sample]:
    texts = ["The birch canoe slid on the smooth planks.",
             "Glue the sheet to the dark blue background.",
             "Rice is often served in round bowls."]
    return [Sample(f"t{i}", {"text": t}, label=i % 2) for i, t in enumerate(texts)]
