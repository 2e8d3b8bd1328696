"""Recipe ``mixgen``: MixGen image-text pairs with partners drawn from the fitted dataset.

``fit`` stores the dataset's image-text pairs; each input's partner is drawn
from ``seeder.rng("mixgen", sample.id, k)`` over the fitted ids (sorted), so the
partner depends only on the sample id and the seed, never on batch size or
order. Mixing uses the ORIGINAL fitted pairs (no chained mixing).

Example:
    >>> from crossaug import Sample
    >>> from PIL import Image
    >>> data = [Sample(f"s{i}", {"image": Image.new("RGB", (8, 8), (40 * i, 0, 0)), "text": f"caption {i}"})
    ...         for i in range(3)]
    >>> out = MixGenRecipe()(data, seed=0)
    >>> out[0].id, out[0].fields["text"].startswith("caption 0 caption ")
    ('s0~0', True)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import BadSample, ConfigError, Recipe, Sample, Seeder

from .._images import resize_like, to_array, to_pil
from .functional import (
    LAMBDA_DISTRIBUTIONS,
    PAPER_LAMBDA,
    concat_texts,
    mix_uint8,
    mixed_label,
    require_same_shape,
    sample_lambda,
)

LABEL_MODES = ("soft", "input")

log = logging.getLogger(__name__)


class MixGenRecipe(Recipe):
    """MixGen (Hao et al., 2023) over a dataset of image-text pairs.

    Each output interpolates the input's image with a partner's image
    (``lam * I_a + (1 - lam) * I_b``; the partner is resized to the input's size)
    and concatenates the captions. ``lam`` is the paper's fixed 0.5 by default or
    drawn per output (``lam_distribution``). The output's label is the mixed label
    (``label_mode="soft"``): the input's label when both agree, otherwise
    ``[[input_label, lam], [partner_label, 1 - lam]]``; ``label_mode="input"`` keeps
    the input's label (for single-label classifiers). The partner's id, its label
    and ``lam`` are recorded in lineage and in ``meta["mixgen"]``.

    Args:
        lam: weight of the input image with ``lam_distribution="fixed"`` (paper: 0.5).
        lam_distribution: ``fixed`` (paper default), ``beta`` (``Beta(alpha, alpha)``) or
            ``uniform`` (``U(0, 1)``), drawn per output from the seeded generator.
        alpha: Beta parameter (ours: 0.2, mixup's usual ImageNet setting; the paper names none).
        label_mode: ``soft`` (mixed label) or ``input``.
        n: outputs per input (distinct partners while the pool allows).
        image_field: the image field.
        text_field: the text field.
        sep: separator between the two captions.
    """

    name: ClassVar[str] = "mixgen"
    requires_fit: ClassVar[bool] = True

    def __init__(self, lam: float = PAPER_LAMBDA, n: int = 1, image_field: str = "image",
                 text_field: str = "text", sep: str = " ", lam_distribution: str = "fixed", alpha: float = 0.2,
                 label_mode: str = "soft") -> None:
        if not isinstance(lam, (int, float)) or not 0.0 <= float(lam) <= 1.0:
            raise ConfigError(f"mixgen lam must lie in [0, 1], got {lam!r}")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ConfigError(f"mixgen n must be a positive integer, got {n!r}")
        if image_field.split(".", 1)[0] != "image" or text_field.split(".", 1)[0] != "text":
            raise ConfigError(f"mixgen needs an image field and a text field, got {image_field!r}, {text_field!r}")
        if lam_distribution not in LAMBDA_DISTRIBUTIONS:
            raise ConfigError(f"mixgen lam_distribution must be one of {LAMBDA_DISTRIBUTIONS}, "
                              f"got {lam_distribution!r}")
        if not isinstance(alpha, (int, float)) or not alpha > 0:
            raise ConfigError(f"mixgen alpha must be > 0, got {alpha!r}")
        if label_mode not in LABEL_MODES:
            raise ConfigError(f"mixgen label_mode must be one of {LABEL_MODES}, got {label_mode!r}")
        self.lam = float(lam)
        self.lam_distribution, self.alpha, self.label_mode = lam_distribution, float(alpha), label_mode
        self.n = n
        self.image_field = image_field
        self.text_field = text_field
        self.sep = sep
        self._pool: dict[str, tuple[Any, str, Any]] = {}
        self._ids: list[str] = []

    def required_fields(self) -> tuple[str, ...]:
        return (self.image_field, self.text_field)

    def fit(self, samples: Iterable[Sample]) -> None:
        """Store the dataset's (image, text, label) by id as the partner pool (replaces any previous pool)."""
        pool: dict[str, tuple[Any, str, Any]] = {}
        skipped = 0
        for s in samples:
            img, txt = s.fields.get(self.image_field), s.fields.get(self.text_field)
            if img is None or not isinstance(txt, str) or not txt.strip() or not hasattr(img, "size"):
                skipped += 1
                continue
            pool[s.id] = (img, txt, s.label)
        if skipped:
            log.warning("mixgen: %d samples without %s and %s left out of the partner pool",
                        skipped, self.image_field, self.text_field)
        self._pool = pool
        self._ids = sorted(pool)

    def _check(self, sample: Any) -> None:
        if not isinstance(sample, Sample):
            raise BadSample(f"mixgen: expected a Sample, got {type(sample).__name__}")
        from crossaug.modality import get_modality

        for f in (self.image_field, self.text_field):
            if f not in sample.fields:
                raise BadSample(f"mixgen needs field {f!r}; sample has {sorted(sample.fields)}",
                                sample_id=sample.id, field=f)
            get_modality(f.split(".", 1)[0]).validate(sample.fields[f], sample_id=sample.id, field=f)
        if not sample.fields[self.text_field].strip():
            raise BadSample("empty text; MixGen concatenates captions", sample_id=sample.id,
                            field=self.text_field)

    def partners(self, sample_id: str, seeder: Seeder) -> list[str]:
        """The ``n`` partner ids of ``sample_id`` (deterministic in the id and seed)."""
        ids = [i for i in self._ids if i != sample_id]
        if not ids:
            raise BadSample("mixgen has no partner for this sample: fit() the recipe on a dataset "
                            "with at least two image-text pairs", sample_id=sample_id)
        rng = seeder.rng("mixgen", sample_id)
        order = rng.permutation(len(ids))
        return [ids[int(order[k % len(ids)])] for k in range(self.n)]

    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        out: list[list[Sample]] = []
        for sample in samples:
            self._check(sample)
            image, text = sample.fields[self.image_field], sample.fields[self.text_field]
            base = to_array(image)
            base64 = base.astype(np.float64)  # once per input, not per partner
            group = []
            for k, pid in enumerate(self.partners(sample.id, seeder)):
                p_img, p_txt, p_label = self._pool[pid]
                partner = to_array(resize_like(p_img.convert(image.mode), image.size))
                lam = sample_lambda(seeder.rng("mixgen-lambda", sample.id, k), self.lam_distribution, self.lam,
                                    self.alpha)
                require_same_shape(base, partner)  # as mixgen_pair, with the input converted once
                mixed, caption = mix_uint8(base64, partner, lam), concat_texts(text, p_txt, self.sep)
                params = {"partner": pid, "lam": lam}
                step = self.lineage_step(params, parent_ids=(sample.id, pid))
                new = sample.derive(step, id=f"{sample.id}~{k}", **{self.image_field: to_pil(mixed),
                                                                   self.text_field: caption})
                out_meta = {**dict(sample.meta), "mixgen": {"partner": pid, "lam": lam, "partner_label": p_label}}
                label = mixed_label(sample.label, p_label, lam) if self.label_mode == "soft" else sample.label
                group.append(new.replace(meta=out_meta, parent_id=sample.id, label=label))
            out.append(group)
        return out


__all__ = ["MixGenRecipe"]
