"""Recipe ``cmda``: cross-modal data augmentation over a paired dataset (offline mode).

``fit`` encodes every pair (teacher and student fields), learns the common
latent space with the contrastive losses (eq. 7/8), and clusters the student
latents (BIC-selected Gaussian mixture). ``process`` then makes ``n`` new
student samples per input (the teacher anchor) with the eq. 10 x eq. 11 weights:
images are combined in raw (pixel) space, text in the latent space (see
:class:`CMDARecipe`).

Example:
    >>> from crossaug import Sample
    >>> from PIL import Image
    >>> data = [Sample(f"s{i}", {"text": ("a red square", "a blue square")[i % 2] + f" {i}",
    ...                          "image": Image.new("RGB", (8, 8), ((200, 0, 0), (0, 0, 200))[i % 2])})
    ...         for i in range(8)]
    >>> recipe = CMDARecipe(text_encoder="hashing", epochs=20, latent_dim=8, hidden=16, max_components=2)
    >>> out = recipe(data, seed=0)
    >>> len(out), out[0].id, out[0].lineage[-1].name, len(out[0].lineage[-1].params["contributors"])
    (8, 's0~0', 'cmda', 7)
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import BadSample, ConfigError, Recipe, Sample, Seeder

from .._images import resize_like, to_array, to_pil
from .augmenter import CMDA, LATENT_MODES, WEIGHTINGS
from .clustering import CRITERIA, PAPER_REG_COVAR
from .encoders import DEFAULT_TEXT_ENCODER, encoder_name, get_encoder
from .losses import FORMS
from .weights import SIGNS

log = logging.getLogger(__name__)

MODALITIES = ("text", "image")


def _digest(payload: Any) -> str:
    h = hashlib.blake2b(digest_size=12)
    if isinstance(payload, str):
        h.update(payload.encode("utf-8"))
    else:
        h.update(f"{payload.mode}{payload.size}".encode())
        h.update(payload.tobytes())
    return h.hexdigest()


class CMDARecipe(Recipe):
    """CMDA: new student-modality samples guided by a teacher modality.

    The student modality's latents are clustered (GMM) in the learned common
    space; each new student sample is ``sum_j w_inter_j w_intra_ij x_j`` over all
    other fitted pairs (eq. 10 x eq. 11, divided by the weights' sum), with
    ``w_inter`` the anchor's (absolute) dot products with the student latents over their sum
    and ``w_intra`` from the GMM responsibilities of the anchor's own student
    sample. Student images are combined in raw space (pixels, resized to the
    input's student size). Student texts are combined in the latent space, as in
    the paper ("text data is projected into latent space before augmentation"):
    the new latent is the output (lineage params ``latent`` and ``meta["cmda"]``),
    and since a latent cannot be printed, the text field holds the fitted
    caption nearest to it (cosine; params ``text_from``), which is an existing
    caption, not new text. Outputs keep the input's teacher field and label.

    Args:
        teacher: teacher field (``text`` or ``image``; ``text.en`` etc. allowed).
        student: student field.
        n: new student samples per teacher (input); more than one needs ``n_mix``.
        n_mix: candidates per new sample; ``None`` = every other fitted pair (paper's ``m'``),
            a number draws that many at random per output.
        weighting: ``paper`` (eq. 10 x eq. 11) or ``softmax`` (double cross-attention of
            two temperature softmaxes over ``n_mix`` cluster mates; the earlier variant).
        attention_tau: temperature of the ``softmax`` weighting (the paper has none).
        normalise: divide the paper weights by their sum (as printed they sum to up to 2).
        inter_sign: eq. 10's dot products: ``abs`` (absolute, as the reference code does; default),
            ``paper`` (as printed: negative weights, undefined where they sum to <= 0) or ``clip``.
        tau: temperature of the contrastive losses (eq. 7/8; the paper gives no value, ours).
        supervised: learn the space with eq. 8 (labels), else eq. 7.
        loss_form: ``paper`` (eq. 7/8 as printed, summed over the batch) or ``ntxent``.
        include_self: keep eq. 8's printed ``j = i`` term.
        covariance_type, reg_covar: GMM covariance (paper: ``full``, 1e-6).
        latent: ``learned`` (projection heads, needs torch) or ``identity``
            (encoders already share one space and size).
        latent_dim, hidden, epochs, lr, batch_size: projection-head training.
        criterion: ``bic`` (paper) or ``aic``; max_components: largest mixture tried.
        text_encoder: a registered ``crossaug.encoders`` name or alias reading text (``hashing``,
            ``text.sentence-transformers``, a third party's), a sentence-transformers id/path, or
            ``module:function``.
        image_encoder: a registered encoder reading images (``pixels``, a third party's) or
            ``module:function``.
        text_encoder_params, image_encoder_params: keyword arguments of the named encoder.
        fit_seed: seed of training and clustering in ``fit``.
        device: torch device of the projection heads (``cpu``, ``cuda``).
    """

    name: ClassVar[str] = "cmda"
    requires_fit: ClassVar[bool] = True

    def __init__(self, teacher: str = "text", student: str = "image", n: int = 1, n_mix: int | None = None,
                 attention_tau: float = 0.1, tau: float = 0.1, supervised: bool = False,
                 latent: str = "learned", latent_dim: int = 64, hidden: int = 256, epochs: int = 100,
                 lr: float = 1e-3, batch_size: int = 64, criterion: str = "bic", max_components: int = 16,
                 text_encoder: str = DEFAULT_TEXT_ENCODER, image_encoder: str = "pixels",
                 text_encoder_params: Mapping[str, Any] | None = None,
                 image_encoder_params: Mapping[str, Any] | None = None,
                 fit_seed: int = 0, device: str = "cpu", weighting: str = "paper", normalise: bool = True,
                 loss_form: str = "paper", include_self: bool = True, covariance_type: str = "full",
                 reg_covar: float = PAPER_REG_COVAR, inter_sign: str = "abs") -> None:
        for what, f in (("teacher", teacher), ("student", student)):
            if not isinstance(f, str) or f.split(".", 1)[0] not in MODALITIES:
                raise ConfigError(f"cmda {what} must be a text or image field, got {f!r}")
        if teacher == student:
            raise ConfigError(f"cmda teacher and student must differ, got {teacher!r} twice")
        if n_mix is None and n > 1 and weighting == "paper":
            raise ConfigError(f"cmda n={n} with n_mix=None (every candidate, the paper) would give {n} identical "
                              "outputs; set n_mix to draw a random subset of candidates per output")
        if weighting not in WEIGHTINGS:
            raise ConfigError(f"cmda weighting must be one of {WEIGHTINGS}, got {weighting!r}")
        if inter_sign not in SIGNS:
            raise ConfigError(f"cmda inter_sign must be one of {SIGNS}, got {inter_sign!r}")
        if loss_form not in FORMS:
            raise ConfigError(f"cmda loss_form must be one of {FORMS}, got {loss_form!r}")
        if covariance_type not in ("full", "tied", "diag", "spherical"):
            raise ConfigError(f"cmda covariance_type must be full, tied, diag or spherical, got {covariance_type!r}")
        if not isinstance(reg_covar, (int, float)) or reg_covar < 0:
            raise ConfigError(f"cmda reg_covar must be >= 0, got {reg_covar!r}")
        for what, v in (("n", n), ("n_mix", 1 if n_mix is None else n_mix), ("latent_dim", latent_dim),
                        ("hidden", hidden),
                        ("batch_size", batch_size), ("max_components", max_components)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ConfigError(f"cmda {what} must be a positive integer, got {v!r}")
        if not isinstance(epochs, int) or epochs < 0:
            raise ConfigError(f"cmda epochs must be a non-negative integer, got {epochs!r}")
        for what, v in (("attention_tau", attention_tau), ("tau", tau), ("lr", lr)):
            if not isinstance(v, (int, float)) or not v > 0:
                raise ConfigError(f"cmda {what} must be > 0, got {v!r}")
        if latent not in LATENT_MODES:
            raise ConfigError(f"cmda latent must be one of {LATENT_MODES}, got {latent!r}")
        if criterion not in CRITERIA:
            raise ConfigError(f"cmda criterion must be one of {CRITERIA}, got {criterion!r}")
        self.teacher, self.student = teacher, student
        self.n, self.n_mix = n, n_mix
        self.attention_tau, self.tau, self.supervised = float(attention_tau), float(tau), bool(supervised)
        self.latent, self.latent_dim, self.hidden = latent, latent_dim, hidden
        self.epochs, self.lr, self.batch_size = epochs, float(lr), batch_size
        self.criterion, self.max_components = criterion, max_components
        self.text_encoder, self.image_encoder = text_encoder, image_encoder
        self.text_encoder_params = dict(text_encoder_params) if text_encoder_params else None
        self.image_encoder_params = dict(image_encoder_params) if image_encoder_params else None
        for modality in sorted({f.split(".", 1)[0] for f in (teacher, student)}):  # checked now, built when used
            spec = text_encoder if modality == "text" else image_encoder
            if isinstance(spec, str) or not (callable(spec) or hasattr(spec, "encode")):
                encoder_name(modality, spec)  # unknown names fail here, with did-you-mean
        self.fit_seed = int(fit_seed)
        self.weighting, self.normalise = weighting, bool(normalise)
        self.loss_form, self.include_self = loss_form, bool(include_self)
        self.covariance_type, self.reg_covar = covariance_type, float(reg_covar)
        self.inter_sign = inter_sign
        if not isinstance(device, str) or not device:
            raise ConfigError(f"cmda device must be a torch device name such as 'cpu' or 'cuda', got {device!r}")
        self.device = device
        self._encoders: dict[str, Any] = {}
        self._fitted: dict[str, Any] | None = None

    def required_fields(self) -> tuple[str, ...]:
        return (self.teacher,)

    def __getstate__(self) -> dict[str, Any]:
        fitted = self._fitted if self._fitted is None else {**self._fitted, "arrays": {}}
        return {**self.__dict__, "_encoders": {}, "_fitted": fitted}

    # -- encoders -------------------------------------------------------
    def _encoder(self, field: str) -> Any:
        modality = field.split(".", 1)[0]
        if modality not in self._encoders:
            spec, params = ((self.text_encoder, self.text_encoder_params) if modality == "text"
                            else (self.image_encoder, self.image_encoder_params))
            self._encoders[modality] = get_encoder(modality, spec, params)
        return self._encoders[modality]

    def _valid(self, sample: Any, field: str) -> bool:
        from crossaug.modality import get_modality

        if not isinstance(sample, Sample) or field not in sample.fields:
            return False
        try:
            get_modality(field.split(".", 1)[0]).validate(sample.fields[field], sample_id=sample.id, field=field)
        except BadSample:
            return False
        value = sample.fields[field]
        return bool(value.strip()) if isinstance(value, str) else True

    # -- fit ------------------------------------------------------------
    def fit(self, samples: Iterable[Sample]) -> None:
        """Encode the pairs, learn the latent space and the teacher clusters (replaces earlier fits)."""
        pairs = [s for s in samples if self._valid(s, self.teacher) and self._valid(s, self.student)]
        if len(pairs) < 2:
            raise ConfigError(f"cmda needs at least two samples with valid {self.teacher!r} and "
                              f"{self.student!r} fields to fit, got {len(pairs)}")
        ft = self._encoder(self.teacher).encode([s.fields[self.teacher] for s in pairs])
        fs = self._encoder(self.student).encode([s.fields[self.student] for s in pairs])
        labels = [s.label for s in pairs]
        if self.supervised and any(v is None for v in labels):
            raise ConfigError("cmda supervised=True needs a label on every sample (eq. 8)")
        model = CMDA(n_mix=self.n_mix, attention_tau=self.attention_tau, criterion=self.criterion,
                     max_components=self.max_components, latent=self.latent, latent_dim=self.latent_dim,
                     hidden=self.hidden, tau=self.tau, supervised=self.supervised, epochs=self.epochs,
                     lr=self.lr, batch_size=self.batch_size, seed=self.fit_seed, device=self.device,
                     weighting=self.weighting, normalise=self.normalise, covariance_type=self.covariance_type,
                     reg_covar=self.reg_covar, loss_form=self.loss_form, include_self=self.include_self,
                     inter_sign=self.inter_sign)
        try:
            model.fit(ft, fs, labels)
        except ValueError as exc:
            raise ConfigError(f"cmda: {exc}") from None
        log.info("cmda: %d pairs, %d student clusters (%s)", len(pairs), model.clusters_.n_components,
                 self.criterion)
        self._fitted = {
            "model": model,
            "ids": [s.id for s in pairs],
            "index": {s.id: i for i, s in enumerate(pairs)},
            "digest": [_digest(s.fields[self.teacher]) for s in pairs],
            "students": [s.fields[self.student] for s in pairs],
            "arrays": {},  # (student, mode, size) -> its uint8 array, for image students (see _array)
        }

    # -- process --------------------------------------------------------
    def _check(self, sample: Any) -> None:
        if not isinstance(sample, Sample):
            raise BadSample(f"cmda: expected a Sample, got {type(sample).__name__}")
        from crossaug.modality import get_modality

        if self.teacher not in sample.fields:
            raise BadSample(f"cmda needs teacher field {self.teacher!r}; sample has {sorted(sample.fields)}",
                            sample_id=sample.id, field=self.teacher)
        value = sample.fields[self.teacher]
        get_modality(self.teacher.split(".", 1)[0]).validate(value, sample_id=sample.id, field=self.teacher)
        if isinstance(value, str) and not value.strip():
            raise BadSample("empty text cannot guide CMDA", sample_id=sample.id, field=self.teacher)

    def _anchor(self, sample: Sample) -> tuple[np.ndarray, np.ndarray, int]:
        """Teacher latent of ``sample``, the latent of its own student (eq. 11's ``x_i``), its fitted index.

        Fitted samples reuse their cached latents. A new sample's own student field is
        encoded when present; without one, the teacher latent stands in (same space).
        """
        fitted = self._fitted
        assert fitted is not None
        model: CMDA = fitted["model"]
        i = fitted["index"].get(sample.id, -1)
        if i >= 0 and fitted["digest"][i] == _digest(sample.fields[self.teacher]):
            return model.teacher_latents_[i], model.student_latents_[i], i
        features = self._encoder(self.teacher).encode([sample.fields[self.teacher]])
        teacher = model.encode_teacher(features)[0]
        if self._valid(sample, self.student):
            own = model.encode_student(self._encoder(self.student).encode([sample.fields[self.student]]))[0]
            return teacher, own, i
        return teacher, teacher, i

    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        if self._fitted is None:
            raise ConfigError("cmda must be fitted on the dataset first (recipe.fit(samples)); "
                              "crossaug.run does this for you")
        model: CMDA = self._fitted["model"]
        out: list[list[Sample]] = []
        for sample in samples:
            self._check(sample)
            latent, own_student, own = self._anchor(sample)
            try:
                plan = model.plan(seeder.rng("cmda", sample.id), latent[None, :], self.n, exclude=np.array([own]),
                                  anchor_students=own_student[None, :])
            except ValueError as exc:
                raise BadSample(f"cmda: {exc}", sample_id=sample.id, field=self.teacher) from None
            cluster = int(model.predict_clusters(own_student[None, :])[0])
            group = []
            for k in range(self.n):
                idx = plan.contributors[k]
                w = plan.weights[k]
                keep = idx >= 0
                contributors = [self._fitted["ids"][int(j)] for j in idx[keep]]
                weights = [float(v) for v in w[keep]]
                if not contributors:
                    raise BadSample("cmda found no other fitted pair to combine", sample_id=sample.id)
                payload, extra = self._combine(sample, idx[keep], np.asarray(weights))
                params = {"cluster": cluster, "contributors": contributors,
                          "weights": [round(v, 6) for v in weights], **extra}
                step = self.lineage_step(params, parent_ids=(sample.id, *contributors))
                fields = {self.teacher: sample.fields[self.teacher], self.student: payload}
                new = sample.derive(step, id=f"{sample.id}~{k}", **fields)
                meta = {**dict(sample.meta), "cmda": params}
                group.append(new.replace(meta=meta, parent_id=sample.id))
            out.append(group)
        return out

    def _array(self, j: int, mode: str, size: tuple[int, int]) -> np.ndarray:
        """Fitted image student ``j`` in ``mode`` resized to ``size``, as uint8 (made once while at most
        :data:`MAX_CACHED_ARRAYS` are kept)."""
        fitted = self._fitted
        assert fitted is not None
        cache = fitted.setdefault("arrays", {})
        key = (j, mode, tuple(size))
        found = cache.get(key)
        if found is None:
            found = to_array(resize_like(fitted["students"][j].convert(mode), size))
            if len(cache) < MAX_CACHED_ARRAYS:
                cache[key] = found
        return found

    def _combine(self, sample: Sample, idx: np.ndarray, weights: np.ndarray) -> tuple[Any, dict[str, Any]]:
        fitted = self._fitted
        assert fitted is not None
        students = [fitted["students"][int(j)] for j in idx]
        if self.student.split(".", 1)[0] == "image":
            own = sample.fields.get(self.student)
            ref = own if own is not None and hasattr(own, "size") else students[0]
            mode = "RGB" if any(s.mode == "RGB" for s in students) else "L"
            arrays = np.stack([self._array(int(j), mode, ref.size) for j in idx])
            mixed = np.tensordot(weights, arrays.astype(np.float64), axes=([0], [0]))
            return to_pil(np.clip(np.rint(mixed), 0, 255).astype(np.uint8)), {}
        model: CMDA = fitted["model"]
        latent = weights @ model.student_latents_[idx]
        cos = model.student_latents_ @ latent / max(float(np.linalg.norm(latent)), 1e-12)
        nearest = int(np.argmax(cos))
        return fitted["students"][nearest], {"latent": [round(float(v), 6) for v in latent],
                                             "text_from": fitted["ids"][nearest]}


#: fitted image students kept as arrays (each output combines many: converting and resizing them
#: again for every output was a third of the time); past this many, the others are made each time
MAX_CACHED_ARRAYS = 2048


__all__ = ["CMDARecipe", "MAX_CACHED_ARRAYS"]
