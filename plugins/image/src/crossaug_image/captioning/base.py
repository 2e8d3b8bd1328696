"""The ``Captioner`` interface: image -> text transforms with label-injected prompts.

A captioner turns each image into a caption. Three decoding modes:

* ``sample`` (default): nucleus sampling with a generator seeded from the
  transform's seed, so the ``l`` captions a recipe asks for (one seed each) differ
  (multi-captioning) and each depends only on its image, prompt and seed;
* ``beam``: beam search returning the ``num_captions`` best beams; the seed picks
  which one is the output;
* ``greedy``: the single most likely caption.

A ``prompt`` such as ``"a photo of a {label}"`` is filled with the sample's label
and given to the decoder as the start of the caption (conditional captioning):
the Back-Modality paper's fix for coarse, label-free captions. Backends (one file
each) implement :meth:`Captioner.load` and :meth:`Captioner.generate`.

Example:
    >>> fill_prompt("a photo of a {label}", "Persian cat")
    'a photo of a Persian cat'
    >>> fill_prompt("a photo of a {label}", None) is None
    True
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar

from crossaug import BadSample, ConfigError, Produced, Sample, Transform

from .._backend import LazyModel
from .sampling import NonFiniteScores, make_finite_check, make_row_sampler

log = logging.getLogger(__name__)

MODES = ("sample", "beam", "greedy")


class NonFiniteImage(RuntimeError):
    """The scores of the caption of image ``index`` (of a :meth:`Captioner.caption` call) went NaN/inf."""

    def __init__(self, index: int) -> None:
        self.index = index
        super().__init__(f"NaN or infinite scores captioning image {index}")


def fill_prompt(template: str | None, label: Any) -> str | None:
    """The conditional prompt for a label, or ``None`` (unconditional) without template or label."""
    if not template:
        return None
    if "{label}" not in template:
        return template
    if label is None or str(label).strip() == "":
        return None
    return template.replace("{label}", str(label).replace("_", " ").strip())


def clean_caption(text: str) -> str:
    """Collapse whitespace; drop spaces before punctuation left by word-piece decoding."""
    text = " ".join(text.split())
    for p in (" .", " ,", " !", " ?", " '"):
        text = text.replace(p, p.strip())
    return text


class Captioner(LazyModel, Transform):
    """Base class of captioning transforms (``source="image"``, ``target="text"``).

    Subclasses set ``name``, call :meth:`_init_common` from ``__init__`` and implement
    :meth:`load` (set ``self._model``/``self._processor``) and :meth:`generate`.
    """

    source: ClassVar[str] = "image"
    target: ClassVar[str] = "text"
    default_model: ClassVar[str] = ""

    def _init_common(self, model: str, revision: str | None, prompt: str | None, mode: str,
                     num_captions: int, max_new_tokens: int, min_new_tokens: int, temperature: float, top_k: int,
                     top_p: float, num_beams: int, batch_size: int, device: str, dtype: str,
                     allow_download: bool, in_field: str | None, out_field: str | None) -> None:
        if not isinstance(model, str) or not model:
            raise ConfigError(f"{self.name}: model must be a Hugging Face id or a local path, got {model!r}")
        if mode not in MODES:
            raise ConfigError(f"{self.name}: mode must be one of {', '.join(MODES)}, got {mode!r}")
        if not isinstance(num_captions, int) or num_captions < 1:
            raise ConfigError(f"{self.name}: num_captions must be a positive integer, got {num_captions!r}")
        if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
            raise ConfigError(f"{self.name}: max_new_tokens must be a positive integer, got {max_new_tokens!r}")
        if not isinstance(min_new_tokens, int) or not 0 <= min_new_tokens <= max_new_tokens:
            raise ConfigError(f"{self.name}: min_new_tokens must lie in [0, max_new_tokens], got {min_new_tokens!r}")
        if temperature <= 0 or not 0 < top_p <= 1 or top_k < 0:
            raise ConfigError(f"{self.name}: need temperature > 0, 0 < top_p <= 1, top_k >= 0")
        if mode == "greedy" and num_captions != 1:
            raise ConfigError(f"{self.name}: greedy decoding gives one caption; use mode='beam' or 'sample' "
                              f"for num_captions={num_captions}")
        if mode == "beam" and num_beams < num_captions:
            raise ConfigError(f"{self.name}: num_beams ({num_beams}) must be >= num_captions ({num_captions})")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"{self.name}: batch_size must be a positive integer, got {batch_size!r}")
        if prompt is not None and not isinstance(prompt, str):
            raise ConfigError(f"{self.name}: prompt must be a string or None, got {prompt!r}")
        self._init_model(model, revision, device, dtype, allow_download)
        self.prompt = prompt
        self.mode = mode
        self.num_captions = num_captions
        self.max_new_tokens = max_new_tokens
        self.min_new_tokens = min_new_tokens
        self.temperature = float(temperature)
        self.top_k = int(top_k)
        self.top_p = float(top_p)
        self.num_beams = int(num_beams)
        self.batch_size = batch_size
        self.in_field = in_field
        self.out_field = out_field
        self._model: Any = None
        self._processor: Any = None

    # -- backend ---------------------------------------------------------
    def _transformers_source(self) -> tuple[Any, str, str, Any]:
        """``transformers``, the model's local path, device and dtype (the kernel's policy): where ``load`` starts.

        The device and dtype are recorded for lineage before the weights load.
        """
        tf, path, device, dtype = self._load_prologue("transformers")
        self.runtime_device, self.runtime_dtype = device, str(dtype).removeprefix("torch.")
        return tf, path, device, dtype

    def _generate_kwargs(self, generators: Sequence[Any] | None, num_return: int) -> dict[str, Any]:
        """``generate`` arguments of the decoding mode: length limits, the NaN/inf check, seeded rows or beams."""
        gen: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "min_new_tokens": self.min_new_tokens,
                               "do_sample": False}
        beams = self.num_beams if generators is None and self.mode == "beam" else 1
        gen["logits_processor"] = [make_finite_check(beams)]  # NaN/inf scores: an error, not a caption
        if generators is not None:
            gen["logits_processor"].append(make_row_sampler(generators, self.temperature, self.top_k, self.top_p))
        elif self.mode == "beam":
            gen.update(num_beams=self.num_beams, num_return_sequences=num_return)
        return gen

    @staticmethod
    def _per_image(texts: Sequence[str], num_images: int, num_return: int) -> list[list[str]]:
        """Decoded rows grouped ``num_return`` per image, in image order."""
        return [list(texts[i * num_return:(i + 1) * num_return]) for i in range(num_images)]

    def load(self) -> None:
        """Load model and processor into ``self._model`` / ``self._processor``."""
        raise NotImplementedError

    def generate(self, images: Sequence[Any], prompts: Sequence[str | None], generators: Sequence[Any] | None,
                 num_return: int) -> list[list[str]]:
        """Caption ``images``, row ``i`` conditioned on ``prompts[i]`` (``None``: unconditional).

        The prompts of one call tokenize to the same length (see :meth:`prompt_length`), so
        rows need no padding and a caption never depends on its batch mates.
        ``generators`` has one ``torch.Generator`` per image (sample mode) or is ``None``
        (beam/greedy). Returns ``num_return`` captions per image.
        """
        raise NotImplementedError

    def prompt_length(self, prompt: str | None) -> int:
        """Tokens the decoder is started with for ``prompt``: rows of equal length share a batch."""
        return -1 if prompt is None else len(prompt)

    # -- shared logic ----------------------------------------------------
    def _generators(self, seed: int) -> list[Any]:
        """One generator per caption of a sample, derived from its seed only."""
        import numpy as np
        from crossaug import torch_generator

        if self.num_captions == 1:
            return [torch_generator(seed)]
        seq = np.random.SeedSequence(seed)
        return [torch_generator(int(s.generate_state(2, np.uint32).view(np.uint64)[0] >> 1))
                for s in seq.spawn(self.num_captions)]

    def caption(self, images: Sequence[Any], prompts: Sequence[str | None],
                seeds: Sequence[int]) -> list[list[str]]:
        """All ``num_captions`` captions of each image.

        Batched across prompts: images whose prompts start the decoder with the same number
        of tokens (label-injected prompts of different classes, mostly) share one call.
        """
        if self._model is None:
            self.load()
        if self.device == "cpu" or str(getattr(self._model, "device", "")) == "cpu":
            from crossaug.precision import apply_torch_threads

            apply_torch_threads()
        out: list[list[str] | None] = [None] * len(images)
        groups: dict[int, list[int]] = {}
        lengths: dict[str | None, int] = {}
        for i, p in enumerate(prompts):
            if p not in lengths:
                lengths[p] = self.prompt_length(p)
            groups.setdefault(lengths[p], []).append(i)
        for idx in groups.values():
            imgs = [images[i].convert("RGB") for i in idx]
            rows_prompts = [prompts[i] for i in idx]
            try:
                if self.mode == "sample":
                    rows = [img for img in imgs for _ in range(self.num_captions)]
                    row_prompts = [p for p in rows_prompts for _ in range(self.num_captions)]
                    gens = [g for i in idx for g in self._generators(seeds[i])]
                    flat = self.generate(rows, row_prompts, gens, 1)
                    per = [[flat[k * self.num_captions + j][0] for j in range(self.num_captions)]
                           for k in range(len(idx))]
                else:
                    per = self.generate(imgs, rows_prompts, None, self.num_captions if self.mode == "beam" else 1)
            except NonFiniteScores as exc:  # name the first image whose scores went NaN/inf
                per_row = self.num_captions if self.mode == "sample" else 1
                raise NonFiniteImage(idx[exc.inputs[0] // per_row]) from exc
            for i, caps in zip(idx, per):
                out[i] = [clean_caption(c) for c in caps]
        return out  # type: ignore[return-value]

    def transform_batch(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Any]:
        prompts = [fill_prompt(self.prompt, s.label) for s in samples]
        images = [s[self.input_field] for s in samples]
        try:
            captions = self.caption(images, prompts, seeds)
        except NonFiniteImage as exc:  # an error of that sample, never a caption kept
            raise BadSample(f"{self.name}: the model produced NaN or infinite token scores (dtype "
                            f"{getattr(self, 'runtime_dtype', None) or self.dtype}); try dtype='float32'",
                            sample_id=samples[exc.index].id, field=self.input_field) from exc
        results: list[Any] = []
        for sample, seed, prompt, caps in zip(samples, seeds, prompts, captions):
            if not caps or not any(c.strip() for c in caps):
                raise BadSample(f"{self.name}: the model produced an empty caption", sample_id=sample.id,
                                field=self.input_field)
            pick = seed % len(caps) if self.mode == "beam" else 0
            info: dict[str, Any] = {"prompt": prompt, "mode": self.mode}
            if len(caps) > 1:
                info["captions"] = caps
                info["index"] = pick
            results.append(Produced(caps[pick], info))
        return results


__all__ = ["Captioner", "fill_prompt", "clean_caption", "MODES"]
