"""Test helpers for crossaug and its plugins.

* :mod:`crossaug_testing.contract` — base classes every registered step's tests
  subclass (determinism, replay, serialisation round trip, bad-input errors).
* :mod:`crossaug_testing.fixtures` — pytest fixtures; enable them with
  ``pytest_plugins = ["crossaug_testing.fixtures"]`` in a ``conftest.py``.
"""

from .contract import AugmentationContract, FilterContract, RecipeContract, TransformContract

__all__ = ["AugmentationContract", "TransformContract", "FilterContract", "RecipeContract"]
