"""MixGen, the pure part (Hao et al., "MixGen: A New Multi-Modal Data Augmentation", WACV-W 2023).

A new image-text pair is made from two pairs ``(I_a, T_a)`` and ``(I_b, T_b)``
by interpolating the images and concatenating the texts (paper eq. 1):
``I = lam * I_a + (1 - lam) * I_b`` and ``T = concat(T_a, T_b)``, with
``lam = 0.5`` in the paper's default. The paper's variants also draw ``lam`` at
random per pair (the survey notes: "the authors also tried lam sampled from a
distribution"); :func:`sample_lambda` offers ``Beta(alpha, alpha)`` and
``Uniform(0, 1)`` draws. Both semantics survive: the mixed image shows both
scenes and the text describes both.

The batch variants never mutate their inputs and always mix ORIGINAL samples:
the reference implementation updates the batch in place inside its loop, so
with a random permutation a sample can be mixed with a partner that was
already mixed (three or more images blended, texts concatenated twice).

Example:
    >>> import numpy as np
    >>> img, txt = mixgen_pair(np.full((2, 2), 10, np.uint8), np.full((2, 2), 30, np.uint8),
    ...                        "a dog", "a red car")
    >>> int(img[0, 0]), txt
    (20, 'a dog a red car')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: the paper's interpolation weight (Sec. 3, "lambda = 0.5")
PAPER_LAMBDA = 0.5
#: how ``lam`` is chosen: the paper's fixed value, or drawn per pair
LAMBDA_DISTRIBUTIONS = ("fixed", "beta", "uniform")


def sample_lambda(rng: np.random.Generator, distribution: str = "fixed", lam: float = PAPER_LAMBDA,
                  alpha: float = 0.2) -> float:
    """``lam`` for one pair: ``lam`` itself (``fixed``), ``Beta(alpha, alpha)`` or ``Uniform(0, 1)``.

    Example:
        >>> sample_lambda(np.random.default_rng(0))
        0.5
        >>> 0.0 <= sample_lambda(np.random.default_rng(0), "beta", alpha=0.2) <= 1.0
        True
    """
    if distribution == "fixed":
        return float(lam)
    if distribution == "beta":
        if not alpha > 0:
            raise ValueError(f"alpha must be > 0, got {alpha}")
        return float(rng.beta(alpha, alpha))
    if distribution == "uniform":
        return float(rng.uniform(0.0, 1.0))
    raise ValueError(f"distribution must be one of {LAMBDA_DISTRIBUTIONS}, got {distribution!r}")


def mixed_label(label_a: Any, label_b: Any, lam: float) -> Any:
    """The label of a mix: ``label_a`` when both agree, else ``[[label_a, lam], [label_b, 1 - lam]]``.

    Example:
        >>> mixed_label("cat", "cat", 0.3), mixed_label("cat", "dog", 0.75)
        ('cat', [['cat', 0.75], ['dog', 0.25]])
    """
    if label_b is None or label_a == label_b:
        return label_a
    return [[label_a, float(lam)], [label_b, 1.0 - float(lam)]]


def mix_images(a: Any, b: Any, lam: float = PAPER_LAMBDA) -> Any:
    """``lam * a + (1 - lam) * b``; uint8 arrays are rounded back to uint8, others keep their type.

    Works on numpy arrays and on torch tensors of the same shape.
    """
    if isinstance(a, np.ndarray) and a.dtype == np.uint8:
        return mix_uint8(a.astype(np.float64), b, lam)
    return lam * a + (1.0 - lam) * b


def mix_uint8(a64: np.ndarray, b: Any, lam: float = PAPER_LAMBDA) -> np.ndarray:
    """:func:`mix_images` of a uint8 image ``a`` given as ``a.astype(np.float64)``: an input mixed
    with several partners is converted once (the same result).

    Example:
        >>> mix_uint8(np.array([0.0, 255.0]), np.array([10, 0], np.uint8), 0.5).tolist()
        [5, 128]
    """
    mixed = lam * a64 + (1.0 - lam) * np.asarray(b, dtype=np.float64)
    np.rint(mixed, out=mixed)
    np.clip(mixed, 0, 255, out=mixed)
    return mixed.astype(np.uint8)


def concat_texts(a: str, b: str, sep: str = " ") -> str:
    """The paper's text concatenation (``T_a`` then ``T_b``)."""
    return f"{a.rstrip()}{sep}{b.lstrip()}"


def mixgen_pair(image_a: Any, image_b: Any, text_a: str, text_b: str,
                lam: float = PAPER_LAMBDA, sep: str = " ") -> tuple[Any, str]:
    """One MixGen pair from two pairs (per-sample API).

    Args:
        image_a, image_b: arrays (or tensors) of the same shape.
        text_a, text_b: their captions.
        lam: weight of ``image_a`` (paper: 0.5).
        sep: separator between the two texts.
    """
    require_same_shape(image_a, image_b)
    return mix_images(image_a, image_b, lam), concat_texts(text_a, text_b, sep)


def require_same_shape(image_a: Any, image_b: Any) -> None:
    """Raise ``ValueError`` unless the two images (arrays or tensors) have one shape (MixGen mixes
    them pixel by pixel)."""
    if getattr(image_a, "shape", None) != getattr(image_b, "shape", None):
        raise ValueError(f"images must have the same shape, got {getattr(image_a, 'shape', None)} "
                         f"and {getattr(image_b, 'shape', None)}")


def mixgen(images: Any, texts: Sequence[str], num: int, lam: float = PAPER_LAMBDA,
           sep: str = " ") -> tuple[Any, list[str]]:
    """Default MixGen over a batch: sample ``i < num`` is mixed with sample ``i + num``.

    Returns a NEW batch (inputs untouched); samples ``>= num`` are copied unchanged.
    The paper uses ``num = batch_size // 4``.

    Example:
        >>> x = np.array([[0], [10], [20], [40]], np.uint8)
        >>> out, t = mixgen(x, ["a", "b", "c", "d"], num=2)
        >>> out[:, 0].tolist(), t
        ([10, 25, 20, 40], ['a c', 'b d', 'c', 'd'])
    """
    n = len(texts)
    if len(images) != n:
        raise ValueError(f"got {len(images)} images but {n} texts")
    if not 0 <= num <= n // 2:
        raise ValueError(f"num must lie in [0, batch_size // 2] = [0, {n // 2}], got {num}")
    partner = list(range(n))
    partner[:num] = range(num, 2 * num)
    mixed = _mix_rows(images, partner, lam, rows=range(num))
    new_texts = [concat_texts(texts[i], texts[partner[i]], sep) if i < num else texts[i] for i in range(n)]
    return mixed, new_texts


def mixgen_batch(images: Any, texts: Sequence[str], permutation: Sequence[int], lam: float = PAPER_LAMBDA,
                 sep: str = " ") -> tuple[Any, list[str]]:
    """Batch MixGen: every sample ``i`` is mixed with ORIGINAL sample ``permutation[i]``.

    Draw the permutation from a seeded generator
    (``np.random.default_rng(seed).permutation(n)``). Unlike the reference code,
    the result is computed from the untouched inputs, so no output blends an
    already-mixed sample. Fixed points (``permutation[i] == i``) are copied unchanged.

    Example:
        >>> x = np.array([[0], [10], [20]], np.uint8)
        >>> out, t = mixgen_batch(x, ["a", "b", "c"], [1, 2, 0])
        >>> out[:, 0].tolist(), t, x[:, 0].tolist()
        ([5, 15, 10], ['a b', 'b c', 'c a'], [0, 10, 20])
    """
    n = len(texts)
    perm = [int(p) for p in permutation]
    if len(images) != n or len(perm) != n:
        raise ValueError(f"got {len(images)} images, {n} texts and a permutation of {len(perm)}")
    if sorted(perm) != list(range(n)):
        raise ValueError("permutation must be a permutation of range(batch_size)")
    rows = [i for i in range(n) if perm[i] != i]
    mixed = _mix_rows(images, perm, lam, rows=rows)
    new_texts = [concat_texts(texts[i], texts[perm[i]], sep) if perm[i] != i else texts[i] for i in range(n)]
    return mixed, new_texts


def _mix_rows(images: Any, partner: Sequence[int], lam: float, rows: Any) -> Any:
    """Copy of ``images`` with ``images[i]`` replaced by the mix of ORIGINAL rows ``i`` and ``partner[i]``."""
    rows = list(rows)
    if isinstance(images, (list, tuple)):
        return [mix_images(images[i], images[partner[i]], lam) if i in set(rows) else images[i]
                for i in range(len(images))]
    out = images.clone() if hasattr(images, "clone") else np.array(images, copy=True)
    if rows:
        idx = np.asarray(rows, dtype=np.int64)
        src = np.asarray([partner[i] for i in rows], dtype=np.int64)
        if hasattr(images, "clone"):  # torch tensor
            import torch

            idx_t, src_t = torch.as_tensor(idx), torch.as_tensor(src)
            out[idx_t] = mix_images(images[idx_t], images[src_t], lam)
        else:
            out[idx] = mix_images(images[idx], images[src], lam)
    return out


__all__ = ["PAPER_LAMBDA", "LAMBDA_DISTRIBUTIONS", "sample_lambda", "mixed_label", "mix_images", "concat_texts",
           "mixgen_pair", "mixgen", "mixgen_batch", "mix_uint8", "require_same_shape"]
