"""Bad image inputs through the kernel's image modality and the image plugin's steps."""

from __future__ import annotations

import io

import numpy as np
import pytest
from crossaug import BadSample, Sample, create, get_modality
from PIL import Image

IMAGE = get_modality("image")


def _png(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=kw.pop("format", "PNG"), **kw)
    return buf.getvalue()


def _coerce(value, sid="bad"):
    return IMAGE.coerce(value, sample_id=sid, field="image")


def test_truncated_file_is_a_bad_sample(tmp_path):
    data = _png(Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)))
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadSample) as info:
        _coerce(path, "cut")
    assert "'cut'" in str(info.value) and "decode" in str(info.value)


def test_one_pixel_image_is_rejected_with_its_size():
    with pytest.raises(BadSample, match="1x1"):
        _coerce(Image.new("RGB", (1, 1)))


def test_huge_image_is_rejected_before_decoding():
    data = _png(Image.new("1", (10000, 10000)))  # 100 MP, tiny file
    with pytest.raises(BadSample, match="10000x10000"):
        _coerce(data)


def test_rgba_is_composited_on_white():
    rgba = Image.new("RGBA", (16, 16), (255, 0, 0, 0))  # fully transparent red
    out = _coerce(_png(rgba))
    assert out.mode == "RGB" and out.getpixel((0, 0)) == (255, 255, 255)


def test_cmyk_jpeg_becomes_rgb():
    out = _coerce(_png(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), format="JPEG"))
    assert out.mode == "RGB" and out.getpixel((3, 3))[0] > 200 and out.getpixel((3, 3))[1] < 60


def test_16_bit_greyscale_is_scaled_to_8_bit():
    arr = np.full((16, 16), 65535, dtype=np.uint16)
    arr[0, 0] = 0
    out = _coerce(_png(Image.fromarray(arr)))
    assert out.mode == "L" and out.getpixel((1, 1)) == 255 and out.getpixel((0, 0)) == 0


def test_animated_gif_is_rejected():
    frames = [Image.new("RGB", (16, 16), (80 * i, 0, 255 - 80 * i)) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(BadSample, match="animated"):
        _coerce(buf.getvalue())


@pytest.mark.parametrize("name", ["image.flip", "image.crop", "image.color-jitter", "image.random-erasing",
                                  "image.rotate"])
def test_augmentations_reject_unnormalised_images_naming_the_sample(name):
    aug = create("augmentation", name)
    for img, fragment in ((Image.new("RGBA", (16, 16)), "mode RGBA"), (Image.new("RGB", (4, 30)), "smallest side")):
        with pytest.raises(BadSample) as info:
            aug.augment(Sample("odd", {"image": img}), np.random.default_rng(0))
        assert "'odd'" in str(info.value) and fragment in str(info.value)


def test_normalised_inputs_flow_through_an_augmentation():
    aug = create("augmentation", "image.color-jitter")
    for raw in (Image.new("RGBA", (16, 16), (0, 0, 255, 128)), Image.new("CMYK", (16, 16)),
                Image.fromarray(np.full((16, 16), 4000, dtype=np.uint16))):
        s = Sample("s", {"image": _coerce(raw)})
        out = aug.augment(s, np.random.default_rng(1))["image"]
        assert out.size == (16, 16) and out.mode in ("RGB", "L")
