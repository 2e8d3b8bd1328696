"""Recipe ``xmda``: multi-reference generation with K translation models, and cross-modality mixup.

For each input (a gloss sequence in ``in_field``, by default ``text.gloss``):

* each of the K ``models`` (any sequence-to-sequence models the user names, run through
  the registered translator, ``text.translate`` by default, found by entry-point name)
  writes one reference into ``out_field``; every reference is an output sample
  (``{id}~ref{k}``, kept as an extra target, the model in its lineage);
* when the input carries aligned visual features and gloss embeddings in ``meta``
  (``visual_key``, ``gloss_key``, ``[T, d]`` each), ``n_mixup`` outputs (``{id}~mix{j}``)
  carry ``meta["mixed"]`` from :func:`~.mixup.cross_modality_mixup` with seeded draws
  (the token sources in ``meta["from_gloss"]``).

Plugins never import each other: the translator is built through the registry, so
any registered text -> text transform with ``model``, ``in_field`` and ``out_field``
parameters serves.

Example:
    >>> XmDARecipe(models=[], lam=0.5).required_fields()
    ('text.gloss',)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import BadSample, ConfigError, Sample, Seeder, registry
from crossaug.recipe import Recipe

from .mixup import cross_modality_mixup


class XmDARecipe(Recipe):
    """Several references per input from K seq2seq models, plus cross-modality mixup of stored embeddings.

    Args:
        models: hub ids or local directories of the K gloss-to-text models.
        translator: registered text -> text transform running each model (full name or alias).
        translator_params: further parameters of the translator (all K models).
        in_field: the gloss field; out_field: the field each reference is written to.
        visual_key, gloss_key: ``meta`` keys of the aligned visual features and gloss embeddings.
        lam: mixup ratio (share of tokens taken from the gloss embeddings; ours: 0.5).
        n_mixup: mixed sequences per input that has both embeddings.
        batch_size: inputs per translator call.
        device: torch device of the translators.
    """

    name: ClassVar[str] = "xmda"

    def __init__(self, models: Sequence[str] = (), translator: str = "text.translate",
                 translator_params: Mapping[str, Any] | None = None, in_field: str = "text.gloss",
                 out_field: str = "text", visual_key: str = "visual", gloss_key: str = "gloss_embedding",
                 lam: float = 0.5, n_mixup: int = 1, batch_size: int = 8, device: str = "auto") -> None:
        if isinstance(models, str):
            models = [models]
        if not 0.0 <= float(lam) <= 1.0:
            raise ConfigError(f"{self.name}: lam must lie in [0, 1], got {lam}")
        if not isinstance(n_mixup, int) or n_mixup < 0:
            raise ConfigError(f"{self.name}: n_mixup must be a non-negative int, got {n_mixup!r}")
        if in_field == out_field:
            raise ConfigError(f"{self.name}: in_field and out_field are both {in_field!r}")
        self.models = [str(m) for m in models]
        self.translator_params = dict(translator_params or {})
        self.in_field, self.out_field = in_field, out_field
        self.visual_key, self.gloss_key = visual_key, gloss_key
        self.lam, self.n_mixup, self.batch_size, self.device = float(lam), n_mixup, int(batch_size), device
        self.translator = registry.resolve("transform", translator, prefix="text.", source="text", target="text") \
            if self.models else translator
        self._translators: list[Any] | None = None

    def required_fields(self) -> tuple[str, ...]:
        return (self.in_field,)

    def translators(self) -> list[Any]:
        """The K translator steps (built once, through the registry)."""
        if self._translators is None:
            accepted = set(registry.load("transform", self.translator).param_names())
            missing = {"model", "in_field", "out_field"} - accepted
            if missing:
                raise ConfigError(f"{self.name}: transform {self.translator!r} has no parameter(s) "
                                  f"{', '.join(sorted(missing))}")
            defaults = {"in_field": self.in_field, "out_field": self.out_field, "batch_size": self.batch_size,
                        "device": self.device, "source_lang": "gloss", "target_lang": "text"}
            built = []
            for m in self.models:
                params = {k: v for k, v in defaults.items() if k in accepted}
                params.update(self.translator_params)
                built.append(registry.create_named("transform", self.translator, prefix="text.", source="text",
                                                   target="text", model=m, **params))
            self._translators = built
        return self._translators

    def _mixups(self, sample: Sample, seeder: Seeder) -> list[Sample]:
        if self.n_mixup == 0 or self.visual_key not in sample.meta or self.gloss_key not in sample.meta:
            return []
        try:
            visual = np.asarray(sample.meta[self.visual_key], dtype=np.float64)
            gloss = np.asarray(sample.meta[self.gloss_key], dtype=np.float64)
        except (TypeError, ValueError):
            raise BadSample(f"{self.name}: {self.visual_key!r} and {self.gloss_key!r} must be [T, d] arrays of "
                            f"numbers", sample_id=sample.id, field=self.visual_key) from None
        if visual.ndim != 2 or visual.shape != gloss.shape:
            raise BadSample(f"{self.name}: visual features {visual.shape} and gloss embeddings {gloss.shape} are "
                            f"not aligned [T, d] arrays", sample_id=sample.id, field=self.visual_key)
        outs = []
        for j in range(self.n_mixup):
            seed = seeder.integer_seed(self.name, "mixup", sample.id, j)
            mixed, from_gloss = cross_modality_mixup(visual, gloss, self.lam, rng=np.random.default_rng(seed))
            meta = {**sample.meta, "mixed": mixed.tolist(), "from_gloss": from_gloss.tolist()}
            step = self.lineage_step({"lam": self.lam, "visual_key": self.visual_key, "gloss_key": self.gloss_key},
                                     seed=seed)
            outs.append(sample.replace(id=f"{sample.id}~mix{j}", parent_id=sample.id, meta=meta,
                                       lineage=sample.lineage + (step,)))
        return outs

    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        self.check(samples)
        groups: list[list[Sample]] = [[] for _ in samples]
        for k, translator in enumerate(self.translators()):
            seeds = [seeder.integer_seed(self.name, "reference", s.id, k) for s in samples]
            outs = translator(list(samples), seeds)
            for i, (s, o) in enumerate(zip(samples, outs, strict=True)):
                ref = o.replace(id=f"{s.id}~ref{k}", parent_id=s.id,
                                meta={**s.meta, "reference_model": self.models[k], "reference_index": k})
                if o.lineage and o.lineage[-1].params.get("empty_output") \
                        or not str(ref.fields.get(self.out_field, "")).strip():
                    ref = ref.reject(f"model {k} ({self.models[k]}) produced an empty reference")
                groups[i].append(ref)
        for i, s in enumerate(samples):
            groups[i].extend(self._mixups(s, seeder))
            if not groups[i]:
                groups[i].append(s.replace(id=f"{s.id}~none", parent_id=s.id).reject(
                    f"no models given and meta lacks {self.visual_key!r}/{self.gloss_key!r} for the mixup"))
        return groups

    def get_params(self) -> dict[str, Any]:
        params = super().get_params()
        params["translator"] = self.translator
        return params

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_translators"] = None
        return state


__all__ = ["XmDARecipe"]
