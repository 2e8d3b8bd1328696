"""The augmenters a user would otherwise pick, as comparison methods: nlpaug (text), audiomentations (audio).

Each peer is wrapped as a crossaug :class:`~crossaug.Augmentation`: its
``sample_params`` draws one integer seed, ``apply`` seeds the peer's global
random state with it (restoring the previous state afterwards, so nothing
leaks) and runs the peer. Peers appear only when their package is installed;
:func:`available_peers` lists them.

Example:
    >>> sorted(PEERS)[:2]
    ['audiomentations.default', 'nlpaug.keyboard']
"""

from __future__ import annotations

import contextlib
import importlib.util
import random
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import numpy as np
from crossaug.augmentation import Augmentation
from crossaug.errors import BadSample, MissingDependency, MissingResource
from crossaug.rng import draw_seed
from crossaug.sample import Sample


@contextlib.contextmanager
def seeded_globals(seed: int) -> Iterator[None]:
    """Seed Python's and numpy's global generators for a peer, then restore them."""
    py_state, np_state = random.getstate(), np.random.get_state()
    random.seed(seed)
    np.random.seed(seed % (2**32))
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


def _nlpaug(kind: str) -> Any:
    if importlib.util.find_spec("nlpaug") is None:
        raise MissingDependency("pip install nlpaug", what="nlpaug")
    if kind == "random-swap":
        from nlpaug.augmenter.word import RandomWordAug

        return RandomWordAug(action="swap", aug_p=0.1)
    if kind == "random-delete":
        from nlpaug.augmenter.word import RandomWordAug

        return RandomWordAug(action="delete", aug_p=0.1)
    if kind == "keyboard":
        from nlpaug.augmenter.char import KeyboardAug

        return KeyboardAug(aug_word_p=0.1, aug_char_max=1)
    if kind == "synonym":
        from nlpaug.augmenter.word import SynonymAug

        return SynonymAug(aug_src="wordnet", aug_p=0.1)
    raise KeyError(kind)


def _audiomentations() -> Any:
    if importlib.util.find_spec("audiomentations") is None:
        raise MissingDependency("pip install audiomentations", what="audiomentations")
    from audiomentations import AddGaussianNoise, Compose, PitchShift, Shift, TimeStretch

    return Compose([AddGaussianNoise(min_amplitude=0.001, max_amplitude=0.015, p=0.5),
                    TimeStretch(min_rate=0.8, max_rate=1.25, p=0.5),
                    PitchShift(min_semitones=-4, max_semitones=4, p=0.5),
                    Shift(p=0.5)])


class PeerAugmentation(Augmentation):
    """A third-party augmenter run under a recorded seed.

    Args:
        peer: a key of :data:`PEERS`.
        field: the field augmented.
    """

    name: ClassVar[str] = "peer"
    modalities: ClassVar[tuple[str, ...]] = ("text", "audio")

    def __init__(self, peer: str, field: str | None = None) -> None:
        if peer not in PEERS:
            from crossaug.errors import ConfigError

            raise ConfigError(f"unknown peer {peer!r}; known: {', '.join(sorted(PEERS))}")
        self.peer = peer
        self.field = field or PEERS[peer][0]
        self._impl: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_impl"] = None
        return state

    def _load(self) -> Any:
        if self._impl is None:
            self._impl = PEERS[self.peer][1]()
        return self._impl

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        return {"peer": self.peer, "seed": draw_seed(rng)}

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        impl = self._load()
        value = sample[self.field]
        with seeded_globals(int(params["seed"])):
            if PEERS[self.peer][0] == "text":
                try:
                    out = impl.augment(value)
                except LookupError as exc:  # NLTK data missing
                    raise MissingResource(f"NLTK data for {self.peer}", str(exc).strip().splitlines()[0]) from None
                out = out[0] if isinstance(out, list) else out
                if not isinstance(out, str) or not out.strip():
                    raise BadSample(f"{self.peer} returned no text", sample_id=sample.id, field=self.field)
                return sample.derive(None, **{self.field: out})
            from crossaug.modalities.audio import Audio

            x = impl(samples=value.mono().samples, sample_rate=value.sample_rate)
            return sample.derive(None, **{self.field: Audio(np.asarray(x, dtype=np.float32), value.sample_rate)})

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.field,)


#: peer name -> (modality, factory)
PEERS: dict[str, tuple[str, Callable[[], Any]]] = {
    "nlpaug.random-swap": ("text", lambda: _nlpaug("random-swap")),
    "nlpaug.random-delete": ("text", lambda: _nlpaug("random-delete")),
    "nlpaug.keyboard": ("text", lambda: _nlpaug("keyboard")),
    "nlpaug.synonym": ("text", lambda: _nlpaug("synonym")),
    "audiomentations.default": ("audio", _audiomentations),
}


def available_peers(modality: str | None = None) -> list[str]:
    """Peers whose package is installed (optionally for one modality)."""
    pkg = {"nlpaug": "nlpaug", "audiomentations": "audiomentations"}
    return [name for name, (mod, _) in sorted(PEERS.items())
            if (modality is None or mod == modality) and importlib.util.find_spec(pkg[name.split(".")[0]])]


__all__ = ["PEERS", "PeerAugmentation", "available_peers", "seeded_globals"]
