"""Offline-first model resolution.

:func:`resolve_model` asks the ``crossaug_resolve_model`` hook where the weights
of a model live. The built-in implementation accepts an existing local path,
then looks in the Hugging Face cache (without network access), and otherwise
raises :class:`~crossaug.MissingResource` saying how to get the weights.

Example:
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> resolve_model("transformers", d) == d
    True
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import MissingResource
from .hooks import get_plugin_manager


def resolve_model(kind: str, name: str, revision: str | None = None) -> str:
    """Return a local path or loadable id for model ``name`` of family ``kind``."""
    result = get_plugin_manager().hook.crossaug_resolve_model(kind=kind, name=str(name), revision=revision)
    if result is None:
        raise MissingResource(f"{kind} model {name!r}", download_hint(kind, name))
    return str(result)


def pick_device(device: str = "auto") -> str:
    """A torch device string: ``auto`` picks ``cuda`` when available, then ``mps``, else ``cpu``.

    Any other value (``cpu``, ``cuda:1``) is returned as given.
    """
    if device != "auto":
        return device
    try:
        import torch
    except ImportError as exc:
        from .errors import MissingDependency

        raise MissingDependency("pip install torch (CPU build: pip install torch==2.13.0)", what="torch") from exc
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def hf_cache_dirs() -> list[Path]:
    """Directories where Hugging Face hub snapshots may be cached."""
    dirs = []
    if os.environ.get("HF_HUB_CACHE"):
        dirs.append(Path(os.environ["HF_HUB_CACHE"]))
    hf_home = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface"))
    dirs.append(hf_home / "hub")
    return dirs


def find_in_hf_cache(name: str, revision: str | None = None) -> Path | None:
    """The snapshot directory of hub repo ``name`` in the local cache, if any."""
    folder = "models--" + name.replace("/", "--")
    for cache in hf_cache_dirs():
        repo = cache / folder
        if not repo.is_dir():
            continue
        ref = repo / "refs" / (revision or "main")
        if ref.is_file():
            snap = repo / "snapshots" / ref.read_text().strip()
            if snap.is_dir():
                return snap
        snaps = repo / "snapshots"
        if revision and (snaps / revision).is_dir():
            return snaps / revision
        if snaps.is_dir():
            found = sorted(p for p in snaps.iterdir() if p.is_dir())
            if found and revision is None:
                return found[-1]
    return None


def download_hint(kind: str, name: str) -> str:
    """The command that makes ``name`` available offline."""
    if kind in ("transformers", "diffusers", "sentence-transformers", "hf"):
        return (f"download it once where a network is available with "
                f"`huggingface-cli download {name}` (then copy ~/.cache/huggingface), "
                f"or pass a local directory holding the saved model")
    if kind == "spacy":
        return f"install the pipeline: `python -m spacy download {name}` or pip install its wheel"
    return f"pass a local path to the {kind} model"


__all__ = ["resolve_model", "pick_device", "find_in_hf_cache", "hf_cache_dirs", "download_hint"]
