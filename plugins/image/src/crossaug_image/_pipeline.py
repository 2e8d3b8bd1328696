"""Loading and settings shared by the backends that run a diffusers pipeline.

:class:`DiffusersPipeline` resolves the generation settings (family, steps, guidance,
scheduler, snapshot) from the model id and the configs on disk, and loads the
pipeline class named by ``pipeline_class`` with the kernel's device/dtype policy,
the scheduler asked for, and the safety checker on or off.

Example:
    >>> DiffusersPipeline.loaded
    ('_pipe',)
"""

from __future__ import annotations

from typing import Any, ClassVar

from crossaug import MissingResource

from ._backend import LazyModel, diffusers_dtype_kwarg, no_progress
from ._models import locate, snapshot_hash
from .text_to_image.settings import check_scheduler, make_scheduler, read_configs, resolve_settings


class DiffusersPipeline(LazyModel):
    """Mixin: a lazily loaded diffusers pipeline in ``_pipe`` and its resolved settings."""

    loaded: ClassVar[tuple[str, ...]] = ("_pipe",)
    #: the diffusers pipeline class (a name in the ``diffusers`` namespace)
    pipeline_class: ClassVar[str] = ""

    def _init_pipeline(self, model: str, revision: str | None, num_inference_steps: int | None,
                       guidance_scale: float | None, scheduler: str | None, negative_prompt: str | None,
                       safety_checker: bool, batch_size: int, device: str, dtype: str, allow_download: bool,
                       in_field: str | None, out_field: str | None) -> None:
        """Store the settings every pipeline backend takes (device, dtype and scheduler checked), nothing loaded."""
        self._init_model(model, revision, device, dtype, allow_download)
        self.num_inference_steps = num_inference_steps
        self.guidance_scale = None if guidance_scale is None else float(guidance_scale)
        self.scheduler = check_scheduler(scheduler)
        self.negative_prompt = negative_prompt
        self.safety_checker = bool(safety_checker)
        self.batch_size = batch_size
        self.in_field = in_field
        self.out_field = out_field
        self._pipe: Any = None
        self._resolved: dict[str, Any] | None = None

    def _local_path(self) -> str | None:
        try:
            return locate("diffusers", self.model, self.revision, allow_download=False)
        except MissingResource:
            return None

    def _settings(self, guidance_scale: float | None, **extra: Any) -> dict[str, Any]:
        """Resolved settings plus ``extra`` and the snapshot; cached once the model is on disk."""
        if self._resolved is None:
            path = self._local_path()
            resolved = resolve_settings(self.model, self.num_inference_steps, guidance_scale, self.scheduler,
                                        read_configs(path))
            resolved.update(extra, snapshot=snapshot_hash(path) if path else None)
            if path is None:  # not on disk yet (downloaded at load): resolve again then
                return resolved
            self._resolved = resolved
        return dict(self._resolved)

    def load(self) -> None:
        diffusers, path, device, dtype = self._load_prologue("diffusers")
        kwargs: dict[str, Any] = {**diffusers_dtype_kwarg(dtype), "revision": self.revision}
        if not self.safety_checker:
            kwargs.update(safety_checker=None, requires_safety_checker=False)
        if device == "cpu":
            from crossaug.precision import apply_torch_threads

            apply_torch_threads()
        pipe = getattr(diffusers, self.pipeline_class).from_pretrained(path, **kwargs)
        self._resolved = None
        settings = self.generation_settings()
        if settings["scheduler"] is not None:
            pipe.scheduler = make_scheduler(diffusers, settings["scheduler"], pipe.scheduler.config)
        self.runtime_device, self.runtime_dtype = device, str(dtype).removeprefix("torch.")
        self._pipe = no_progress(pipe.to(device))

    @property
    def pipeline(self) -> Any:
        """The loaded diffusers pipeline (loaded on first access)."""
        if self._pipe is None:
            self.load()
        return self._pipe


__all__ = ["DiffusersPipeline"]
