"""Where a model's weights come from: offline first, download only when asked.

Example:
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> locate("transformers", d) == d
    True
"""

from __future__ import annotations

import logging

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


__all__ = ["locate"]
