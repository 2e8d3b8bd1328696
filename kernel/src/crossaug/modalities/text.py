"""The ``text`` modality: payload ``str``, stored inline in the manifest.

Example:
    >>> TextModality().coerce("  a cat  ", sample_id="s1", field="text")
    '  a cat  '
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, ClassVar

from ..errors import BadSample
from ..hooks import get_plugin_manager
from ..io.limits import MAX_TEXT_CHARS, check_value, max_text_chars
from ..modality import Modality, read_bytes

#: Longest text accepted by default (characters; ``CROSSAUG_MAX_TEXT_CHARS``); plugins may be stricter.
MAX_CHARS = MAX_TEXT_CHARS


def decode_utf8(data: bytes, *, sample_id: str | None, field: str | None,
                source: str | None = None) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadSample(f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                        sample_id=sample_id, field=field, source=source) from None


class TextModality(Modality):
    """Plain text. ``bytes`` are decoded as UTF-8; a ``Path`` is read as a UTF-8 file."""

    name: ClassVar[str] = "text"
    payload_type: ClassVar[type] = str
    extension: ClassVar[str] = ".txt"
    inline: ClassVar[bool] = True

    def coerce(self, value: Any, *, sample_id: str | None = None, field: str | None = None,
               base_dir: Path | None = None) -> Any:
        """:meth:`Modality.coerce`, with a short way for the usual input: a line of a text file
        (``bytes``) that decodes and passes the checks, when no plugin coerces text and
        :meth:`validate` is this class's. Anything else, a failure included, takes the general
        way (which raises the error with its reason)."""
        if type(value) is bytes and self.short_lines():
            try:
                text = value.decode("utf-8")
            except UnicodeDecodeError:
                text = ""
            # strict UTF-8 decoding leaves no lone surrogate, so check_value has nothing to find
            if text and not text.isspace() and "\x00" not in text and len(text) <= max_text_chars():
                return text
        return super().coerce(value, sample_id=sample_id, field=field, base_dir=base_dir)

    def short_lines(self) -> bool:
        """Whether :meth:`coerce` takes its short way for a line of a text file (no plugin coerces
        text; :meth:`validate` and ``_coerce`` are this class's): such a line decodes to itself
        when it is valid UTF-8, not blank, free of NUL and within :func:`max_text_chars`."""
        return (type(self).coerce is TextModality.coerce and type(self).validate is TextModality.validate
                and type(self)._coerce is TextModality._coerce
                and not get_plugin_manager().hook.crossaug_coerce.get_hookimpls())

    def _coerce(self, value: Any, *, sample_id: str | None, field: str | None,
                base_dir: Path | None) -> Any:
        if isinstance(value, str):
            return value
        if isinstance(value, (bytes, bytearray)):
            return decode_utf8(bytes(value), sample_id=sample_id, field=field)
        if isinstance(value, Path):
            return self.load(value if value.is_absolute() or base_dir is None else base_dir / value,
                             sample_id=sample_id, field=field)
        raise BadSample(f"expected text (str), got {type(value).__name__}",
                        sample_id=sample_id, field=field)

    def validate(self, payload: Any, *, sample_id: str | None = None,
                 field: str | None = None) -> None:
        if not isinstance(payload, str):
            raise BadSample(f"expected text (str), got {type(payload).__name__}",
                            sample_id=sample_id, field=field)
        if not payload or payload.isspace():  # what strip() would leave empty, without the copy
            raise BadSample("empty text" if not payload else "text is only whitespace",
                            sample_id=sample_id, field=field)
        if "\x00" in payload:
            raise BadSample("text contains NUL characters (binary data?)", sample_id=sample_id, field=field)
        if len(payload) > max_text_chars():
            raise BadSample(f"text has {len(payload)} characters; limit is {max_text_chars()} "
                            "(CROSSAUG_MAX_TEXT_CHARS)", sample_id=sample_id, field=field)
        why = check_value(payload, "text")
        if why:
            raise BadSample(why, sample_id=sample_id, field=field)

    def load(self, path: Path, *, sample_id: str | None = None, field: str | None = None) -> str:
        return decode_utf8(read_bytes(path, sample_id=sample_id, field=field),
                           sample_id=sample_id, field=field, source=str(path))

    def save(self, payload: str, stem: Path) -> Path:
        path = Path(str(stem) + self.extension)
        path.write_text(payload, encoding="utf-8")
        return path

    def render(self, value: Any, *, relpath: str | None = None) -> str:
        return f'<p class="text">{html.escape(str(value))}</p>'
