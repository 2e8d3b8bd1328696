"""The files of a local ESPnet model directory, shared by the ESPnet ASR and TTS backends.

ESPnet's model zoo unpacks a model into a directory holding its training
``config.yaml`` and its ``*.pth`` weights (somewhere below); anything that is not a
directory is a zoo tag.

Example:
    >>> local_espnet_files("kan-bayashi/ljspeech_fastspeech2") is None  # a zoo tag
    True
"""

from __future__ import annotations

from pathlib import Path

from crossaug import ConfigError


def local_espnet_files(model: str) -> tuple[str, str] | None:
    """``(config.yaml, weights.pth)`` paths of the model directory ``model``; ``None`` when it is no directory.

    The first of each, in sorted order, anywhere below the directory; a directory
    without both is a :class:`~crossaug.ConfigError`.
    """
    local = Path(model)
    if not local.is_dir():
        return None
    config = next(iter(sorted(local.rglob("config.yaml"))), None)
    weights = next(iter(sorted(local.rglob("*.pth"))), None)
    if config is None or weights is None:
        raise ConfigError(f"{local} has no config.yaml and *.pth ESPnet model files")
    return str(config), str(weights)


__all__ = ["local_espnet_files"]
