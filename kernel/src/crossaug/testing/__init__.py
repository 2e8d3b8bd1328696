"""Test helpers for crossaug and its plugins.

* :mod:`crossaug.testing.contract` — base classes every registered step's tests
  subclass (determinism, replay, serialisation round trip, bad-input errors).
* :mod:`crossaug.testing.fixtures` — pytest fixtures; enable them with
  ``pytest_plugins = ["crossaug.testing.fixtures"]`` in a ``conftest.py``.
"""

from .contract import AugmentationContract, FilterContract, RecipeContract, TransformContract

__all__ = ["AugmentationContract", "TransformContract", "FilterContract", "RecipeContract"]
