"""A transform that wraps another one: fields, model identity and ``close`` come from the inner step.

Used by the steps that run a named transform and add to its result (the grayscale redraws of
``image.text-to-image.resample-grayscale``, PromptMix's labelling of generated images, GMDA's reuse
of the original boxes): they read and write the inner step's fields and carry its model in
lineage and caching keys.

Example:
    >>> from crossaug import Transform
    >>> class Upper(Transform):
    ...     name, input_field, output_field = "upper", "text", "text"
    ...     def transform_batch(self, samples, seeds):
    ...         return [s.get("text").upper() for s in samples]
    >>> class Around(WrapsTransform, Transform):
    ...     name = "around"
    ...     def __init__(self, inner):
    ...         super().__init__()
    ...         self.transform = inner
    >>> Around(Upper()).output_field
    'text'
"""

from __future__ import annotations

from typing import Any


class WrapsTransform:
    """Mixin: fields, ``model_id``, ``model_revision`` and ``close`` delegated to ``self.transform``."""

    transform: Any

    @property
    def input_field(self) -> str:  # type: ignore[override]
        return self.transform.input_field

    @property
    def output_field(self) -> str:  # type: ignore[override]
        return self.transform.output_field

    @property
    def model_id(self) -> str | None:
        return self.transform.model_id

    @property
    def model_revision(self) -> str | None:
        return self.transform.model_revision

    def close(self) -> None:
        self.transform.close()
