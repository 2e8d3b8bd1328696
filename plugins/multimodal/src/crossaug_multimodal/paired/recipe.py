"""Recipe ``paired-stylegan2`` and transform ``multimodal.text-to-latent-image``.

Online paired generation of Wang et al. (2022): for each input caption, replace a
fraction ``rate`` of its tokens (the text plugin's ``text.token-replacement``,
random or same-POS vocabulary), encode the new caption with the aligned LSTM
encoder into a StyleGAN2 latent, and synthesise the image of that latent. Each
output is a new image-caption pair whose lineage records the token replacement
and the generation (checkpoint, seed).

The models come either from a checkpoint (``checkpoint=``, written by
:meth:`PairedModel.save` or by this recipe's ``save_to=``) or from :meth:`fit` on
image-caption pairs (``image`` and ``text`` fields), which trains the generator,
projects the images and trains the encoder. Without a checkpoint the recipe
``requires_fit``, so ``crossaug run paired-stylegan2 -i pairs.jsonl -o out`` fits
first.

Example:
    >>> recipe = PairedStyleGAN2(n=2, rate=0.2)
    >>> recipe.requires_fit
    True
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from crossaug import BadSample, ConfigError, MissingDependency, Produced, Sample, Seeder
from crossaug.augmentation import Augmentation
from crossaug.recipe import Recipe
from crossaug.transform import Transform

log = logging.getLogger(__name__)

NOISE_MODES = ("random", "const", "none")


def _file_digest(path: str) -> str | None:
    try:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()[:12]
    except OSError:
        return None


def _check_text(sample: Sample, field: str, who: str) -> str:
    if not isinstance(sample, Sample):
        raise BadSample(f"{who}: expected a Sample, got {type(sample).__name__}")
    if field not in sample.fields:
        raise BadSample(f"{who} needs field {field!r}; sample has {sorted(sample.fields)}",
                        sample_id=sample.id, field=field)
    text = sample.fields[field]
    if not isinstance(text, str) or not text.strip():
        raise BadSample(f"{who}: caption is empty or not text", sample_id=sample.id, field=field)
    return text


class TextToLatentImage(Transform):
    """Caption -> aligned StyleGAN2 latent -> image, from a paired checkpoint.

    Args:
        checkpoint: a paired checkpoint file (:meth:`PairedModel.save`).
        truncation_psi: pull latents toward the generator's mean ``w`` (1.0: none).
        noise_mode: ``random`` (noise inputs drawn from the seed), ``const`` or ``none``.
        in_field: caption field.
        out_field: image field written.
        device: torch device.
        batch_size: captions per call (each image is still generated on its own, so
            outputs do not depend on the batch).
    """

    name: ClassVar[str] = "multimodal.text-to-latent-image"
    source: ClassVar[str] = "text"
    target: ClassVar[str] = "image"

    def __init__(self, checkpoint: str | None = None, truncation_psi: float = 1.0, noise_mode: str = "random",
                 in_field: str = "text", out_field: str = "image", device: str = "cpu",
                 batch_size: int = 8) -> None:
        if noise_mode not in NOISE_MODES:
            raise ConfigError(f"{self.name}: noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        if not 0.0 <= float(truncation_psi) <= 2.0:
            raise ConfigError(f"{self.name}: truncation_psi must lie in [0, 2], got {truncation_psi}")
        self.checkpoint = str(checkpoint) if checkpoint is not None else None
        self.truncation_psi = float(truncation_psi)
        self.noise_mode = noise_mode
        self.in_field = in_field
        self.out_field = out_field
        self.device = device
        self.batch_size = int(batch_size)
        self._model: Any = None
        self._digest: str | None = None

    def set_model(self, model: Any) -> None:
        """Use an in-memory :class:`PairedModel` (e.g. just fitted) instead of a checkpoint."""
        self._model = model

    @property
    def model(self) -> Any:
        if self._model is None:
            if self.checkpoint is None:
                raise ConfigError(f"{self.name} needs checkpoint=... (a paired StyleGAN2 checkpoint) "
                                  f"or a fitted model")
            from .model import PairedModel

            self._model = PairedModel.load(self.checkpoint, device=self.device)
        return self._model

    @property
    def model_id(self) -> str | None:
        return self.checkpoint or ("in-memory fitted model" if self._model is not None else None)

    @property
    def model_revision(self) -> str | None:
        if self.checkpoint is None:
            return None
        if self._digest is None:
            self._digest = _file_digest(self.checkpoint)
        return self._digest

    def check(self, sample: Sample) -> None:
        _check_text(sample, self.input_field, self.name)

    def transform_batch(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Any]:
        model = self.model
        out = []
        for sample, seed in zip(samples, seeds):
            text = sample.fields[self.input_field]
            (img,) = model.generate([text], [int(seed)], self.truncation_psi, self.noise_mode)
            out.append(Produced(img, {"space": model.space, "truncation_psi": self.truncation_psi,
                                      "noise_mode": self.noise_mode}))
        return out

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if self.checkpoint is not None:
            state["_model"] = None  # reloaded from the checkpoint on first use
        return state


class PairedStyleGAN2(Recipe):
    """Paired image-caption augmentation by StyleGAN2 latent alignment (Wang et al., 2022).

    Args:
        checkpoint: paired checkpoint; ``None`` means :meth:`fit` trains one.
        n: new pairs per input caption.
        rate: fraction of tokens replaced (``text.token-replacement``; paper's r).
        mode: ``random`` (any vocabulary token) or ``pos`` (same part of speech).
        vocabulary: replacement tokens (list, or ``{POS: [tokens]}`` for ``pos``); ``None``
            uses the encoder's vocabulary in random mode (so replaced words are known to
            it) and the dataset's vocabulary in pos mode.
        text_augmentation: any text augmentation to use instead of token replacement.
        truncation_psi: latent truncation (1.0: none).
        noise_mode: noise inputs of the generator (``random``, ``const``, ``none``).
        text_field: caption field.
        image_field: image field (read by :meth:`fit`, written to outputs).
        save_to: where :meth:`fit` writes the checkpoint (optional).
        generator: :class:`~crossaug_multimodal.stylegan2.networks.GeneratorConfig` fields for fit.
        training: :class:`~crossaug_multimodal.stylegan2.train.TrainConfig` fields for fit.
        projection: keyword arguments of :func:`~crossaug_multimodal.paired.projection.project`.
        encoder: :class:`~crossaug_multimodal.paired.text_encoder.EncoderConfig` fields.
        space: project to ``w`` or ``w+``.
        generator_checkpoint: a trained StyleGAN2 checkpoint to start from (fit skips GAN training).
        seed: seed of all fitting.
        device: torch device.
    """

    name: ClassVar[str] = "paired-stylegan2"
    input_fields: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(self, checkpoint: str | None = None, n: int = 1, rate: float = 0.15, mode: str = "random",
                 vocabulary: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
                 text_augmentation: Augmentation | None = None, truncation_psi: float = 1.0,
                 noise_mode: str = "random", text_field: str = "text", image_field: str = "image",
                 save_to: str | None = None, generator: Mapping[str, Any] | None = None,
                 training: Mapping[str, Any] | None = None, projection: Mapping[str, Any] | None = None,
                 encoder: Mapping[str, Any] | None = None, space: str = "w",
                 generator_checkpoint: str | None = None, seed: int = 0, device: str = "cpu") -> None:
        if not isinstance(n, int) or n < 1:
            raise ConfigError(f"{self.name}: n must be a positive integer, got {n!r}")
        if not 0.0 <= float(rate) <= 1.0:
            raise ConfigError(f"{self.name}: rate must lie in [0, 1], got {rate}")
        if mode not in ("random", "pos"):
            raise ConfigError(f"{self.name}: mode must be 'random' or 'pos', got {mode!r}")
        if space not in ("w", "w+"):
            raise ConfigError(f"{self.name}: space must be 'w' or 'w+', got {space!r}")
        if text_augmentation is not None and not isinstance(text_augmentation, Augmentation):
            raise ConfigError(f"{self.name}: text_augmentation must be an Augmentation, "
                              f"got {type(text_augmentation).__name__}")
        for key, value in (("generator", generator), ("training", training), ("projection", projection),
                           ("encoder", encoder)):
            if value is not None and not isinstance(value, Mapping):
                raise ConfigError(f"{self.name}: {key} must be a mapping of settings, got {type(value).__name__}")
        self.checkpoint = str(checkpoint) if checkpoint is not None else None
        self.n = n
        self.rate = float(rate)
        self.mode = mode
        self.vocabulary = (dict(vocabulary) if isinstance(vocabulary, Mapping)
                           else list(vocabulary) if vocabulary is not None else None)
        self.text_augmentation = text_augmentation
        self.truncation_psi = float(truncation_psi)
        self.noise_mode = noise_mode
        self.text_field = text_field
        self.image_field = image_field
        self.save_to = str(save_to) if save_to is not None else None
        self.generator = dict(generator or {})
        self.training = dict(training or {})
        self.projection = dict(projection or {})
        self.encoder = dict(encoder or {})
        self.space = space
        self.generator_checkpoint = str(generator_checkpoint) if generator_checkpoint is not None else None
        self.seed = int(seed)
        self.device = device
        self._transform = TextToLatentImage(self.checkpoint, truncation_psi, noise_mode, text_field,
                                            image_field, device)
        self._augmentation: Augmentation | None = None
        self._fitted = False
        self._dataset_texts: list[str] = []

    @property  # type: ignore[override]
    def requires_fit(self) -> bool:
        """True until a model exists: no checkpoint given and :meth:`fit` not yet run."""
        return self.checkpoint is None and not self._fitted

    @property
    def model(self) -> Any:
        """The :class:`PairedModel` in use (loads the checkpoint on first access)."""
        return self._transform.model

    # -- fitting ---------------------------------------------------------------------
    def fit(self, samples: Iterable[Sample]) -> None:
        """Train generator, projection and text encoder on samples with image and caption."""
        from ..stylegan2.networks import GeneratorConfig
        from ..stylegan2.train import TrainConfig
        from .model import fit_paired
        from .text_encoder import EncoderConfig

        images, captions = [], []
        for s in samples:
            if isinstance(s, Sample) and s.fields.get(self.image_field) is not None \
                    and isinstance(s.fields.get(self.text_field), str) and s.fields[self.text_field].strip():
                images.append(s.fields[self.image_field])
                captions.append(s.fields[self.text_field])
        if len(images) < 2:
            raise ConfigError(f"{self.name}: fit needs at least two samples with {self.image_field!r} and "
                              f"{self.text_field!r} fields (got {len(images)}); or pass checkpoint=...")
        try:
            training = TrainConfig(**{"device": self.device, **self.training})
            gcfg = GeneratorConfig(**self.generator)
            ecfg = EncoderConfig(**self.encoder)
        except TypeError as exc:
            raise ConfigError(f"{self.name}: {exc}") from None
        model = fit_paired(images, captions, generator=self.generator_checkpoint, generator_config=gcfg,
                           train_config=training, projection=dict(self.projection),
                           encoder_config=ecfg, space=self.space, seed=self.seed)
        if self.save_to:
            model.save(self.save_to)
        self._transform.set_model(model)
        self._dataset_texts = captions
        self._augmentation = None
        self._fitted = True

    # -- generation ------------------------------------------------------------------
    def augmentation(self) -> Augmentation:
        """The caption augmentation (token replacement unless ``text_augmentation`` is given)."""
        if self.text_augmentation is not None:
            return self.text_augmentation
        if self._augmentation is None:
            from crossaug import create
            from crossaug.errors import PluginLoadError

            vocab: Any = self.vocabulary
            if vocab is None and self.mode == "random":
                vocab = self.model.vocab.words
            try:
                aug = create("augmentation", "text.token-replacement", rate=self.rate, mode=self.mode,
                             vocabulary=vocab, field=self.text_field)
            except (ConfigError, PluginLoadError) as exc:
                if "unknown augmentation" in str(exc) or isinstance(exc, PluginLoadError):
                    raise MissingDependency("pip install 'crossaug-multimodal[text]'",
                                            what="text.token-replacement (crossaug-text)") from exc
                raise
            if vocab is None:  # pos mode: the dataset's (or the encoder's) captions
                texts = self._dataset_texts or [" ".join(self.model.vocab.words)]
                aug.fit([Sample(f"v{i}", {self.text_field: t}) for i, t in enumerate(texts)])
            self._augmentation = aug
        return self._augmentation

    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        aug = self.augmentation()
        staged: list[Sample] = []
        seeds: list[int] = []
        for sample in samples:
            _check_text(sample, self.text_field, self.name)
            for k in range(self.n):
                staged.append(aug.augment(sample, seeder.rng(self.name, "text", sample.id, k)))
                seeds.append(seeder.integer_seed(self.name, "image", sample.id, k))
        made = self._transform(staged, seeds) if staged else []
        out: list[list[Sample]] = []
        for i, sample in enumerate(samples):
            group = made[i * self.n:(i + 1) * self.n]
            out.append([c.replace(id=f"{sample.id}~{k}", parent_id=sample.id) for k, c in enumerate(group)])
        return out

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_augmentation"] = None
        return state


__all__ = ["PairedStyleGAN2", "TextToLatentImage"]
