"""The ``image`` modality: a ``PIL.Image.Image`` in mode ``RGB`` or ``L``.

Coerces paths, bytes, HWC/HW uint8 arrays and other PIL modes (RGBA is composited
on white, CMYK/P/16-bit converted) and rejects truncated, animated, tiny or huge
images with a reason.

Example:
    >>> import numpy as np
    >>> img = ImageModality().coerce(np.zeros((16, 16, 3), np.uint8), sample_id="s1", field="image")
    >>> img.mode, img.size
    ('RGB', (16, 16))
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import BadSample, MissingDependency
from ..modality import Modality, read_bytes

MIN_SIDE = 8
MAX_PIXELS = 40_000_000


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover
        raise MissingDependency("pip install pillow", what="Pillow") from exc
    return Image


class ImageModality(Modality):
    """Still images. Payload: ``PIL.Image.Image`` (``RGB`` or ``L``)."""

    name: ClassVar[str] = "image"
    extension: ClassVar[str] = ".png"
    inline: ClassVar[bool] = False

    @property
    def payload_type(self) -> Any:  # type: ignore[override]
        return _pil().Image

    def _coerce(self, value: Any, *, sample_id: str | None, field: str | None,
                base_dir: Path | None) -> Any:
        Image = _pil()
        if isinstance(value, Image.Image):
            return self._normalise(value, sample_id=sample_id, field=field, source=None)
        if isinstance(value, (str, Path)):
            p = Path(value)
            if not p.is_absolute() and base_dir is not None:
                p = base_dir / p
            return self.load(p, sample_id=sample_id, field=field)
        if isinstance(value, (bytes, bytearray)):
            return self._decode(bytes(value), sample_id=sample_id, field=field, source=None)
        if isinstance(value, np.ndarray):
            return self._from_array(value, sample_id=sample_id, field=field)
        raise BadSample(f"cannot make an image from {type(value).__name__}", sample_id=sample_id, field=field)

    def _from_array(self, x: np.ndarray, *, sample_id: str | None, field: str | None) -> Any:
        Image = _pil()
        if x.ndim == 3 and x.shape[2] == 1:
            x = x[:, :, 0]
        if x.ndim not in (2, 3) or (x.ndim == 3 and x.shape[2] not in (3, 4)):
            raise BadSample(f"image array has shape {x.shape}; expected HxW, HxWx3 or HxWx4",
                            sample_id=sample_id, field=field)
        if x.dtype.kind == "f":
            if not np.isfinite(x).all():
                raise BadSample("image array has NaN/inf values", sample_id=sample_id, field=field)
            if x.min() < 0 or x.max() > 1:
                raise BadSample("float image arrays must lie in [0, 1]", sample_id=sample_id, field=field)
            x = (x * 255.0).round().astype(np.uint8)
        elif x.dtype == np.uint16:
            x = (x >> 8).astype(np.uint8)
        elif x.dtype != np.uint8:
            raise BadSample(f"image array dtype {x.dtype}; expected uint8, uint16 or float in [0, 1]",
                            sample_id=sample_id, field=field)
        img = Image.fromarray(np.ascontiguousarray(x))
        return self._normalise(img, sample_id=sample_id, field=field, source=None)

    def _normalise(self, img: Any, *, sample_id: str | None, field: str | None, source: str | None) -> Any:
        Image = _pil()
        if getattr(img, "n_frames", 1) > 1:
            raise BadSample(f"animated image with {img.n_frames} frames; extract the frames first",
                            sample_id=sample_id, field=field, source=source)
        if img.mode in ("RGB", "L"):
            return img
        if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            return Image.alpha_composite(bg, rgba).convert("RGB")
        if img.mode in ("I;16", "I;16B", "I;16L", "I"):
            arr = np.asarray(img, dtype=np.float64)
            top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
            return Image.fromarray((np.clip(arr / top, 0, 1) * 255).round().astype(np.uint8), mode="L")
        if img.mode == "F":
            return self._from_array(np.asarray(img, dtype=np.float32), sample_id=sample_id, field=field)
        return img.convert("RGB")

    def validate(self, payload: Any, *, sample_id: str | None = None,
                 field: str | None = None) -> None:
        Image = _pil()
        if not isinstance(payload, Image.Image):
            raise BadSample(f"expected a PIL image, got {type(payload).__name__}", sample_id=sample_id, field=field)
        if payload.mode not in ("RGB", "L"):
            raise BadSample(f"image mode {payload.mode}; expected RGB or L (coerce it first)",
                            sample_id=sample_id, field=field)
        w, h = payload.size
        if min(w, h) < MIN_SIDE:
            raise BadSample(f"image is {w}x{h}; smallest side must be >= {MIN_SIDE} px",
                            sample_id=sample_id, field=field)
        if w * h > MAX_PIXELS:
            raise BadSample(f"image is {w}x{h} ({w * h / 1e6:.0f} MP); limit is {MAX_PIXELS / 1e6:.0f} MP",
                            sample_id=sample_id, field=field)

    def load(self, path: Path, *, sample_id: str | None = None, field: str | None = None) -> Any:
        return self._decode(read_bytes(path, sample_id=sample_id, field=field),
                            sample_id=sample_id, field=field, source=str(path))

    def _decode(self, data: bytes, *, sample_id: str | None, field: str | None, source: str | None) -> Any:
        Image = _pil()
        if not data:
            raise BadSample("empty image file (0 bytes)", sample_id=sample_id, field=field, source=source)
        try:
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise BadSample(f"image is {w}x{h} ({w * h / 1e6:.0f} MP); limit is {MAX_PIXELS / 1e6:.0f} MP",
                                sample_id=sample_id, field=field, source=source)
            if getattr(img, "n_frames", 1) > 1:
                raise BadSample(f"animated image with {img.n_frames} frames; extract the frames first",
                                sample_id=sample_id, field=field, source=source)
            img.load()
        except BadSample:
            raise
        except Exception as exc:
            why = re.sub(r"\s*<[^<>]* at 0x[0-9a-fA-F]+>", "", str(exc))  # no memory addresses
            raise BadSample(f"cannot decode image: {why}", sample_id=sample_id, field=field,
                            source=source) from None
        return self._normalise(img, sample_id=sample_id, field=field, source=source)

    def save(self, payload: Any, stem: Path) -> Path:
        path = Path(str(stem) + self.extension)
        payload.save(path, format="PNG", optimize=False, compress_level=6)
        return path

    def to_json(self, payload: Any) -> Any:
        return {"width": payload.size[0], "height": payload.size[1], "mode": payload.mode}

    def render(self, value: Any, *, relpath: str | None = None) -> str:
        if relpath is not None:
            src = html.escape(relpath)
            return f'<img loading="lazy" src="{src}" alt="{src}" style="max-width:160px;max-height:160px">'
        buf = io.BytesIO()
        value.copy().resize((min(160, value.size[0]), min(160, value.size[1]))).save(buf, format="PNG")
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        return f'<img src="data:image/png;base64,{data}">'
