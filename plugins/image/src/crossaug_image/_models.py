"""Where a model's weights come from: offline first, download only when asked.

Example:
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> locate("transformers", d) == d
    True
"""

from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path

from crossaug import MissingResource, resolve_model

log = logging.getLogger(__name__)


def locate(kind: str, name: str, revision: str | None = None, allow_download: bool = False) -> str:
    """A local directory for ``name`` (path, or snapshot in the local hub cache).

    Args:
        kind: model family for :func:`crossaug.resolve_model` (``transformers``, ``diffusers``).
        name: Hugging Face id or local directory.
        revision: hub revision (branch, tag or commit).
        allow_download: when the weights are not on disk, return ``name`` itself so
            ``from_pretrained`` may download them (needs network access).

    Raises:
        MissingResource: the weights are not on disk and downloads are not allowed.
    """
    try:
        return resolve_model(kind, name, revision)
    except MissingResource:
        if allow_download:
            log.info("%s model %s not found locally; letting from_pretrained download it", kind, name)
            return name
        raise


def snapshot_hash(path: str | Path) -> str | None:
    """What identifies the weights in ``path``, for lineage: the hub commit, else a content fingerprint.

    A Hugging Face cache snapshot (``.../snapshots/<commit>``) is its commit id
    (``hub:<commit>``). Any other local directory gets ``blake2b:<hex>`` over every file's
    relative path and size, the full bytes of files under 1 MiB (configs, tokenizers) and
    the first and last MiB of larger ones (weights): a changed checkpoint changes it, and
    hashing a multi-GB model takes milliseconds. ``None`` when ``path`` is not on disk.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "config.json").write_text("{}")
        >>> snapshot_hash(d).startswith("blake2b:"), snapshot_hash(d / "missing")
        (True, None)
    """
    p = Path(path)
    if not p.is_dir():
        return None
    if p.parent.name == "snapshots" and len(p.name) >= 7:
        return f"hub:{p.name}"
    return _fingerprint(str(p.resolve()), _stamp(p))


def _stamp(p: Path) -> tuple[tuple[str, int, int], ...]:
    return tuple((f.relative_to(p).as_posix(), f.stat().st_size, f.stat().st_mtime_ns)
                 for f in sorted(p.rglob("*")) if f.is_file())


@functools.lru_cache(maxsize=32)
def _fingerprint(root: str, stamp: tuple[tuple[str, int, int], ...]) -> str:
    h = hashlib.blake2b(digest_size=16)
    mib = 1 << 20
    for rel, size, _ in stamp:
        h.update(f"{rel}\0{size}\0".encode("utf-8", "backslashreplace"))
        with open(Path(root) / rel, "rb") as fh:
            if size <= mib:
                h.update(fh.read())
            else:
                h.update(fh.read(mib))
                fh.seek(size - mib)
                h.update(fh.read(mib))
    return f"blake2b:{h.hexdigest()}"


__all__ = ["locate", "snapshot_hash"]
