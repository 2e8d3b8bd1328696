"""Modalities: what a kind of data is and how it crosses the library's boundary.

A :class:`Modality` coerces foreign inputs (paths, bytes, arrays, PIL images)
into its payload type, validates payloads with errors that name the sample and
field, loads and saves files, and renders a payload for the HTML report.
Built-in modalities (``text``, ``image``, ``audio``) are registered through the
``crossaug.modalities`` entry-point group like third-party ones.

Example:
    >>> get_modality("text").coerce(b"caf\\xc3\\xa9", sample_id="s1", field="text")
    'café'
"""

from __future__ import annotations

import functools
import html
from pathlib import Path
from typing import Any, ClassVar

from .errors import BadSample, ConfigError
from .hooks import get_plugin_manager
from .sample import modality_of


class Modality:
    """Base class of modalities.

    Subclasses set ``name``, ``payload_type``, ``extension`` and ``inline``
    (``True`` when payloads are stored inside the manifest line rather than as
    files), and override the methods below.
    """

    name: ClassVar[str] = ""
    payload_type: ClassVar[type | tuple[type, ...]] = object
    extension: ClassVar[str] = ".bin"
    inline: ClassVar[bool] = False

    def coerce(self, value: Any, *, sample_id: str | None = None, field: str | None = None,
               base_dir: Path | None = None) -> Any:
        """Turn ``value`` into a valid payload or raise :class:`BadSample`."""
        caller = get_plugin_manager().hook.crossaug_coerce
        hooked = caller(value=value, modality=self.name) if caller.get_hookimpls() else None  # none: no call
        payload = hooked if hooked is not None else self._coerce(value, sample_id=sample_id,
                                                                 field=field, base_dir=base_dir)
        self.validate(payload, sample_id=sample_id, field=field)
        return payload

    def _coerce(self, value: Any, *, sample_id: str | None, field: str | None,
                base_dir: Path | None) -> Any:
        if isinstance(value, self.payload_type):
            return value
        if isinstance(value, (str, Path)):
            return self.load(_resolve(value, base_dir), sample_id=sample_id, field=field)
        raise BadSample(f"cannot make {self.name} from {type(value).__name__}",
                        sample_id=sample_id, field=field)

    def validate(self, payload: Any, *, sample_id: str | None = None,
                 field: str | None = None) -> None:
        """Raise :class:`BadSample` if ``payload`` is not a valid payload."""
        if not isinstance(payload, self.payload_type):
            raise BadSample(f"expected {self.name} payload, got {type(payload).__name__}",
                            sample_id=sample_id, field=field)

    def load(self, path: Path, *, sample_id: str | None = None, field: str | None = None) -> Any:
        raise BadSample(f"{self.name} cannot be loaded from files", sample_id=sample_id,
                        field=field, source=str(path))

    def save(self, payload: Any, stem: Path) -> Path:
        """Write ``payload`` to ``stem`` + extension and return the path written."""
        raise NotImplementedError

    def to_json(self, payload: Any) -> Any:
        """JSON value for inline modalities."""
        return payload

    def render(self, value: Any, *, relpath: str | None = None) -> str:
        """HTML snippet showing a payload (inline) or the file at ``relpath``."""
        if relpath is not None:
            return f'<a href="{html.escape(relpath)}">{html.escape(relpath)}</a>'
        return f"<pre>{html.escape(str(value))}</pre>"


def _resolve(value: str | Path, base_dir: Path | None) -> Path:
    p = Path(value).expanduser()
    if not p.is_absolute() and base_dir is not None:
        p = base_dir / p
    return p


def read_bytes(path: Path, *, sample_id: str | None, field: str | None, limit: int | None = None) -> bytes:
    """Read a regular file of at most ``limit`` bytes (default: the cap of ``field``'s modality)
    or raise :class:`BadSample` naming it; devices, FIFOs and sockets are refused, never opened."""
    import errno
    import os
    import stat

    from .io.limits import max_bytes

    def bad(why: str) -> BadSample:
        return BadSample(why, sample_id=sample_id, field=field, source=str(path))

    kind = (field or "").split(".", 1)[0]
    limit = max_bytes(kind) if limit is None else limit
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise bad("is a directory, expected a file")
        if not stat.S_ISREG(st.st_mode):
            raise bad("not a regular file (a device, FIFO or socket); refusing to read it")
        if st.st_size > limit:
            raise bad(f"file is {st.st_size} bytes; limit is {limit} (CROSSAUG_MAX_BYTES_{kind.upper() or 'FILE'})")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise bad("not a regular file; refusing to read it")
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise bad("file not found") from None
    except OSError as exc:
        raise bad("symbolic link loop" if exc.errno == errno.ELOOP else f"cannot read file: {exc.strerror}") from None
    if len(data) > limit:
        raise bad(f"file grew past the limit of {limit} bytes while being read")
    return data


@functools.cache
def get_modality(name: str) -> Modality:
    """The registered modality called ``name`` (an instance, cached)."""
    from . import registry

    try:
        cls = registry.load("modality", name)
    except ConfigError:
        raise ConfigError(f"unknown modality {name!r}; known: {', '.join(registry.names('modality'))}") from None
    return cls()


@functools.cache
def field_modality(field_name: str) -> Modality:
    """The modality of a field (``"image.depth"`` -> the ``image`` modality), once per field name:
    every augmentation call, decoded input and manifest line looks its fields' modalities up.

    Example:
        >>> field_modality("text.de") is get_modality("text")
        True
    """
    return get_modality(modality_of(field_name))


def forget_modalities() -> None:
    """Drop the cached modality instances (:func:`get_modality`, :func:`field_modality`), so that the
    next look-up loads them from the registry again (after the set of plugins changed)."""
    get_modality.cache_clear()
    field_modality.cache_clear()


__all__ = ["Modality", "get_modality", "field_modality", "forget_modalities", "read_bytes"]
