"""Recipe ``diff-ii``: "Inversion Circle Interpolation: Diffusion-based Image Augmentation for
Data-scarce Classification" (Diff-II).

``fit`` learns a concept per class (token + UNet LoRA) on the user's labelled
images, summarises the captions of the whole dataset into prompt suffixes shared
by all classes, and DDIM-inverts every image into a per-class pool, all under the
prompt "a photo of a [V] [metaclass]". ``process`` then makes ``expansion`` new
images per input: a random point of the circle through the input's inversion and
another inversion of its class (eq. 5, strength drawn over the whole circle; a
class with a single image starts from random noise, as in the paper), denoised in
two stages (suffixed prompt for the first ``split`` of the steps, plain prompt
after; ``split`` follows the paper's setting for the set's shots per class unless
given). Concepts and inversions are cached on disk, keyed by the model, the
images, the labels and every parameter that affects them.

Example:
    >>> r = DiffII(model="my/sd", expansion={"cat": 3}, default_expansion=1)
    >>> r.expansion_for("cat"), r.expansion_for("dog")
    (3, 1)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from crossaug import BadSample, ConfigError, Filter, Recipe, Sample, Seeder
from crossaug.recipe import apply_filters, check_filters

from .._backend import check_device, check_dtype
from ._build import build, or_auto, or_unset

log = logging.getLogger(__name__)


class DiffII(Recipe):
    """Diff-II generative augmentation of a labelled image dataset.

    Args:
        model: Stable Diffusion id or local directory (the reference code uses SD 1.5).
        revision: hub revision.
        expansion: new images per input image, or a mapping ``{label: n}`` (the
            per-class expansion rate); classes not in the mapping get ``default_expansion``.
        default_expansion: expansion of classes absent from an ``expansion`` mapping.
        strength: ``None`` (paper): the interpolation strength is drawn over the whole
            circle, ``lam ~ U(0, 2 pi / theta)``; a number ``s`` (variant) limits it to
            ``U(-s, 1 + s)`` (0: interpolation only).
        interpolation: ``"paper"`` (eq. 5, sine weights) or ``"norm-preserving"`` (same
            angle, radius moving geometrically from ``|a|`` to ``|b|``).
        split: fraction of denoising steps with the suffixed prompt; ``None``: the
            paper's value for the training set (0.3 5-shot, 0.1 10-shot, 1.0 long-tail;
            see :func:`~crossaug_image.diff_ii.denoise.paper_split`).
        metaclass: the dataset's theme in the prompt ("bird" for a set of bird species;
            paper: "a photo of a [V] [metaclass]"); ``None``: the class name stands in.
        prompt_template: prompt with ``{token}``, ``{metaclass}`` and ``{label}`` (paper's
            by default).
        steps: denoising steps; ``inversion_steps``: DDIM inversion steps (ours: 50 and
            50; the paper gives none, its reference code uses 25 and 200).
        guidance_scale: classifier-free guidance of denoising (7.5, as the reference code).
        resolution: image size used for training, inversion and output (SD 1.5: 512).
        learn_concepts: learn class tokens + LoRA (``False``: plain class prompts).
        concept_steps, concept_batch_size, lr_embedding, lr_lora, lora_rank, lora_alpha:
            concept-learning settings (see :class:`~crossaug_image.diff_ii.concepts.ConceptParams`;
            400 steps is ours, the reference code trains 35 000).
        suffixes: fixed suffix list for every class (skips captioning); ``[]`` for none.
        captioner: captioning transform used to build suffixes (``None``: no suffixes).
        caption_model, caption_params: its model id/path and further parameters.
        suffix_scope: ``"dataset"`` (paper): one summary of all captions, shared by all
            classes; ``"class"`` (variant): each class summarises its own captions.
        summary_llm: ``text.llm-rewrite`` parameters (``model`` or ``client``, generation
            settings) of the language model that summarises the captions (paper: GPT-4);
            ``None``: the offline rule-based summary.
        summariser: importable ``"module:function"`` turning ``(captions, subject)`` into
            suffixes (``subject``: the metaclass dataset-wide, the label per class).
        train_seed: seed of concept learning and of the suffix captions.
        cache_dir: cache directory (``None``: ``~/.cache/crossaug/diff-ii``); ``use_cache=False`` disables it.
        device, dtype: where and how models run: ``auto`` (cuda, then mps, then cpu; half
            precision on a GPU, float32 on CPU) or explicit values. Training (concepts, LoRA)
            keeps float32 master weights under autocast whatever the dtype, and stops with
            ``TrainingDiverged`` on a NaN/inf loss; NaN/inf pixels are an error of that sample.
        allow_download: let ``from_pretrained`` download missing weights.
        filters: filters scoring each new image against its input.
    """

    name: ClassVar[str] = "diff-ii"
    requires_fit: ClassVar[bool] = True
    input_fields: ClassVar[tuple[str, ...]] = ("image",)

    def __init__(self, model: str = "stable-diffusion-v1-5/stable-diffusion-v1-5", revision: str | None = None,
                 expansion: int | Mapping[str, int] = 5, default_expansion: int = 5,
                 strength: float | None = None, interpolation: str = "paper", split: float | None = None,
                 metaclass: str | None = None, prompt_template: str = "a photo of a {token} {metaclass}",
                 steps: int = 50, inversion_steps: int = 50, guidance_scale: float = 7.5,
                 resolution: int = 512, learn_concepts: bool = True, concept_steps: int = 400,
                 concept_batch_size: int = 4, lr_embedding: float = 5e-3, lr_lora: float = 1e-4,
                 lora_rank: int = 4, lora_alpha: float = 4.0, suffixes: Sequence[str] | None = None,
                 captioner: str | None = "image.caption.blip", caption_model: str | None = None,
                 caption_params: Mapping[str, Any] | None = None, suffix_scope: str = "dataset",
                 summary_llm: Mapping[str, Any] | None = None, summariser: str | None = None,
                 train_seed: int = 0, cache_dir: str | None = None, use_cache: bool = True,
                 device: str = "auto", dtype: str = "auto", allow_download: bool = False,
                 filters: Sequence[Filter] | None = None) -> None:
        if isinstance(expansion, Mapping):
            if any(not isinstance(v, int) or v < 0 for v in expansion.values()):
                raise ConfigError(f"diff-ii: expansion rates must be non-negative integers, got {expansion!r}")
            expansion = {str(k): int(v) for k, v in expansion.items()}
        elif not isinstance(expansion, int) or expansion < 1:
            raise ConfigError(f"diff-ii: expansion must be a positive integer or a {{label: n}} mapping, "
                              f"got {expansion!r}")
        for what, v, lo, hi in (("split", split, 0.0, 1.0), ("strength", strength, 0.0, 10.0)):
            if v is not None and (not isinstance(v, (int, float)) or not lo <= v <= hi):
                raise ConfigError(f"diff-ii: {what} must be None or lie in [{lo}, {hi}], got {v!r}")
        from ..diff_ii.interpolation import MODES

        if interpolation not in MODES:
            raise ConfigError(f"diff-ii: interpolation must be one of {sorted(MODES)}, got {interpolation!r}")
        if suffix_scope not in ("dataset", "class"):
            raise ConfigError(f"diff-ii: suffix_scope must be 'dataset' or 'class', got {suffix_scope!r}")
        if not isinstance(prompt_template, str) or "{token}" not in prompt_template:
            raise ConfigError(f"diff-ii: prompt_template must contain '{{token}}' (the class's concept), "
                              f"got {prompt_template!r}")
        if summary_llm is not None and not isinstance(summary_llm, Mapping):
            raise ConfigError(f"diff-ii: summary_llm must be a mapping of text.llm-rewrite parameters, "
                              f"got {type(summary_llm).__name__}")
        for what, v in (("steps", steps), ("inversion_steps", inversion_steps), ("concept_steps", concept_steps),
                        ("concept_batch_size", concept_batch_size), ("lora_rank", lora_rank),
                        ("default_expansion", default_expansion)):
            if not isinstance(v, int) or v < (0 if what in ("concept_steps", "default_expansion") else 1):
                raise ConfigError(f"diff-ii: {what} must be a positive integer, got {v!r}")
        if not isinstance(resolution, int) or resolution < 8 or resolution % 8:
            raise ConfigError(f"diff-ii: resolution must be a multiple of 8, got {resolution!r}")
        self.model = model
        self.revision = revision
        self.expansion = expansion
        self.default_expansion = default_expansion
        self.strength = None if strength is None else float(strength)
        self.interpolation = interpolation
        self.split = None if split is None else float(split)
        self.metaclass = None if metaclass is None else str(metaclass)
        self.prompt_template = prompt_template
        self.steps = steps
        self.inversion_steps = inversion_steps
        self.guidance_scale = float(guidance_scale)
        self.resolution = resolution
        self.learn_concepts = bool(learn_concepts)
        self.concept_steps = concept_steps
        self.concept_batch_size = concept_batch_size
        self.lr_embedding = float(lr_embedding)
        self.lr_lora = float(lr_lora)
        self.lora_rank = lora_rank
        self.lora_alpha = float(lora_alpha)
        self.suffixes = None if suffixes is None else [str(s) for s in suffixes]
        self.captioner = captioner
        self.caption_model = caption_model
        self.caption_params = dict(caption_params or {})
        self.suffix_scope = suffix_scope
        self.summary_llm = None if summary_llm is None else dict(summary_llm)
        self.summariser = summariser
        self.train_seed = int(train_seed)
        self.cache_dir = cache_dir
        self.use_cache = bool(use_cache)
        self.device = check_device(device)
        self.dtype = check_dtype(dtype)
        self.allow_download = bool(allow_download)
        self.filters = check_filters(filters, "diff-ii")
        self._reset()

    # -- state -------------------------------------------------------------
    def _reset(self) -> None:
        self._pipe: Any = None
        self._concepts: dict[str, Any] | None = None
        self._concept_key: str | None = None
        self._train: dict[str, tuple[Any, str]] = {}  # digest -> (image, label)
        self._pool: dict[str, Any] = {}  # digest -> inverted latent (1, C, h, w)
        self._members: dict[str, list[str]] = {}  # label -> digests
        self._suffix_map: dict[str, list[str]] = {}
        self._captions: dict[str, list[str]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_pipe": None}


    def close(self) -> None:
        self._pipe = None

    def expansion_for(self, label: Any) -> int:
        """How many images to make per input of class ``label``."""
        if isinstance(self.expansion, Mapping):
            return int(self.expansion.get(str(label), self.default_expansion))
        return int(self.expansion)

    def resolved_split(self) -> float:
        """``split``, or the paper's value for the class sizes ``fit`` has seen."""
        if self.split is not None:
            return self.split
        from ..diff_ii.denoise import SPLIT_5_SHOT, paper_split

        sizes = {lab: len(ds) for lab, ds in self._members.items()}
        return paper_split(sizes) if sizes else SPLIT_5_SHOT

    def _cache(self) -> Any:
        from ..diff_ii.cache import StageCache

        return StageCache(self.cache_dir if self.use_cache else False)

    def _concept_params(self) -> Any:
        from ..diff_ii.concepts import ConceptParams

        return ConceptParams(steps=self.concept_steps, batch_size=self.concept_batch_size,
                             lr_embedding=self.lr_embedding, lr_lora=self.lr_lora, rank=self.lora_rank,
                             alpha=self.lora_alpha, resolution=self.resolution, seed=self.train_seed,
                             template=self.prompt_template, metaclass=self.metaclass)

    def _fresh_pipeline(self) -> Any:
        from ..diff_ii.components import load_pipeline

        return load_pipeline(self.model, self.revision, self.device, self.dtype, self.allow_download)

    @property
    def pipeline(self) -> Any:
        """The pipeline with the learned concepts applied (rebuilt from them after unpickling)."""
        if self._pipe is None:
            from ..diff_ii.concepts import apply_concepts

            pipe = self._fresh_pipeline()
            if self._concepts is not None:
                apply_concepts(pipe, self._concepts)
            self._pipe = pipe
        return self._pipe

    # -- fit -----------------------------------------------------------------
    def _check(self, sample: Sample) -> Any:
        from crossaug import get_modality

        if not isinstance(sample, Sample):
            raise BadSample(f"diff-ii: expected a Sample, got {type(sample).__name__}")
        if "image" not in sample.fields:
            raise BadSample(f"diff-ii needs field 'image'; sample has {sorted(sample.fields)}",
                            sample_id=sample.id, field="image")
        get_modality("image").validate(sample.fields["image"], sample_id=sample.id, field="image")
        if sample.label is None or str(sample.label).strip() == "":
            raise BadSample("diff-ii needs a class label on every sample (label is empty)", sample_id=sample.id,
                            field="label")
        return sample.fields["image"]

    def fit(self, samples: Sequence[Sample]) -> None:
        """Learn concepts, suffixes and inversions from labelled images.

        Concepts are learned on the first call, and again (over every image seen so
        far) when a later call brings new classes; images of known classes are only
        added to the inversion pool, so refitting on a subset changes nothing.
        """
        from ..diff_ii.cache import image_digest

        new: dict[str, tuple[Any, str]] = {}
        for s in samples:
            img = self._check(s)
            d = image_digest(img)
            if d not in self._train and d not in new:
                new[d] = (img, str(s.label))
        if not new:
            return
        known = {lab for _, lab in self._train.values()}
        self._train.update(new)
        for d in sorted(new):
            self._members.setdefault(new[d][1], []).append(d)
        for lab in self._members:
            self._members[lab].sort()
        if self.learn_concepts and (self._concepts is None or {lab for _, lab in new.values()} - known):
            self._learn()
            self._pool = {}
            todo = sorted(self._train)
        else:
            if self._pipe is None and not self.learn_concepts:
                self._pipe = self._fresh_pipeline()
            todo = sorted(new)
        self._build_suffixes(sorted(new))
        for d in todo:
            self._pool[d] = self._invert(d)

    def _learn(self) -> None:
        from ..diff_ii.cache import stable_key
        from ..diff_ii.concepts import apply_concepts, learn_concepts

        params = self._concept_params()
        items = sorted(self._train.items())
        key = stable_key({"model": self.model, "revision": self.revision, "params": params.to_dict(),
                          "images": [(d, lab) for d, (_, lab) in items]})
        cache = self._cache()
        pipe = self._fresh_pipeline()
        concepts = cache.load("concepts", key)
        if concepts is None:
            log.info("diff-ii: learning concepts for %d classes on %d images",
                     len(self._members), len(items))
            concepts = learn_concepts(pipe, [img for _, (img, _) in items], [lab for _, (_, lab) in items], params,
                                      dtype=self.dtype)
            cache.save("concepts", key, concepts)
        else:
            log.info("diff-ii: concepts loaded from cache %s", cache.path("concepts", key))
            apply_concepts(pipe, concepts)
        self._pipe, self._concepts, self._concept_key = pipe, concepts, key

    def _prompt(self, label: str, suffix: str | None = None) -> str:
        from ..diff_ii.components import class_prompt, concept_token

        return class_prompt(label, concept_token(label) if self.learn_concepts else None, suffix,
                            template=self.prompt_template, metaclass=self.metaclass)

    def _invert(self, digest: str) -> Any:
        from ..diff_ii.inversion import InversionParams, ddim_invert

        img, label = self._train[digest]
        params = InversionParams(steps=self.inversion_steps, resolution=self.resolution)
        prompt = self._prompt(label)
        key = {"model": self.model, "revision": self.revision, "concepts": self._concept_key, "image": digest,
               "prompt": prompt, "params": params.to_dict()}
        return self._cache().get_or_compute("inversions", key,
                                            lambda: ddim_invert(self.pipeline, [img], [prompt], params))

    def _build_suffixes(self, digests: Sequence[str]) -> None:
        from ..diff_ii.suffixes import suffixes_for_class, summarise_dataset

        if self.suffixes is not None:
            for lab in self._members:
                self._suffix_map[lab] = list(self.suffixes)
            return
        if not self.captioner:
            return
        cap = build("transform", self.captioner, self.caption_params, model=or_unset(self.caption_model),
                    prompt="a photo of a {label}", device=self.device, dtype=or_auto(self.dtype))
        seeder = Seeder(self.train_seed)
        samples = [Sample(f"train-{d}", {"image": self._train[d][0]}, label=self._train[d][1]) for d in digests]
        outs = cap(samples, [seeder.integer_seed("diff-ii-caption", d) for d in digests]) if samples else []
        for o in outs:
            self._captions.setdefault(str(o.label), []).append(o.fields[cap.output_field])
        if self.suffix_scope == "dataset":  # paper: one summary of every caption, shared by all classes
            shared = summarise_dataset(self._captions, self.metaclass, self.summariser, self.summary_llm,
                                       seed=self.train_seed)
            for lab in self._members:
                self._suffix_map[lab] = list(shared)
            return
        for lab in {str(o.label) for o in outs}:
            found = suffixes_for_class(self._captions[lab], lab, self.summariser)
            self._suffix_map[lab] = list(dict.fromkeys(self._suffix_map.get(lab, []) + found))

    # -- process ---------------------------------------------------------------
    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        if not self._train:
            raise ConfigError("diff-ii: call fit(samples) first (the runner does it for you)")
        return [self._expand(s, seeder) for s in samples]

    def _expand(self, sample: Sample, seeder: Seeder) -> list[Sample]:
        import numpy as np
        import torch
        from crossaug import torch_generator
        from crossaug.rng import draw_seed

        from ..diff_ii.cache import image_digest
        from ..diff_ii.denoise import DenoiseParams, two_stage_denoise
        from ..diff_ii.interpolation import random_circle_interpolation

        img = self._check(sample)
        label = str(sample.label)
        if label not in self._members:
            raise BadSample(f"diff-ii: class {label!r} was not seen by fit (known: {sorted(self._members)})",
                            sample_id=sample.id, field="label")
        digest = image_digest(img)
        if digest in self._pool:
            own = self._pool[digest]
        else:  # an image fit did not see: invert it on the fly (cached), without adding it to the pool
            self._train.setdefault(digest, (img, label))
            own = self._invert(digest)
        members = self._members[label]
        partners = [d for d in members if d != digest]
        suffixes = self._suffix_map.get(label, [])
        n = self.expansion_for(label)
        if n == 0:
            return []
        split = self.resolved_split()
        latents, records = [], []
        for e in range(n):
            rng = seeder.rng("diff-ii", sample.id, e)
            rec: dict[str, Any] = {"split": split}
            if partners:
                partner = partners[int(rng.integers(len(partners)))]
                z, lam = random_circle_interpolation(own.numpy(), self._pool[partner].numpy(), rng, self.strength,
                                                     self.interpolation)
                latents.append(torch.from_numpy(np.ascontiguousarray(z)))
                rec.update(init="inversion", partner=partner, lam=round(float(lam), 6))
            else:  # a class with a single image: random noise (paper)
                noise_seed = draw_seed(rng)
                latents.append(torch.randn(tuple(own.shape), generator=torch_generator(noise_seed)))
                rec.update(init="noise", noise_seed=noise_seed)
            suffix = suffixes[int(rng.integers(len(suffixes)))] if suffixes else None
            rec["suffix"] = suffix
            records.append(rec)
        plain = [self._prompt(label)] * n
        suffixed = [self._prompt(label, r["suffix"]) for r in records]
        params = DenoiseParams(steps=self.steps, guidance_scale=self.guidance_scale, split=split)
        if not bool(torch.isfinite(own).all()):
            raise BadSample("diff-ii: the inverted latent of this image is NaN or infinite; try dtype='float32'",
                            sample_id=sample.id, field="image")
        try:
            images, _ = two_stage_denoise(self.pipeline, torch.cat(latents), suffixed, plain, params)
        except BadSample as exc:  # non-finite pixels: an error of this sample, never an image kept
            raise BadSample(f"diff-ii: {exc.reason}", sample_id=sample.id, field="image") from exc
        out = []
        for e, (im, rec) in enumerate(zip(images, records)):
            step = self.lineage_step(rec)
            out.append(sample.derive(step, id=f"{sample.id}~{e}", image=im))
        return apply_filters(self.filters, out, [sample] * len(out))


__all__ = ["DiffII"]
