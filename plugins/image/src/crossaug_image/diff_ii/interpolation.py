"""Random circle interpolation between two inversions (Diff-II, Sec. 3.2.2, eqs. 5-7): pure numpy.

Two DDIM inversions ``a`` and ``b`` of one class, at angle
``theta = arccos(a.b / (|a| |b|))``, are rotated into one another (eq. 5)::

    z(lam) = sin((1 - lam) theta) / sin(theta) * a + sin(lam theta) / sin(theta) * b

``lam`` in ``[0, 1]`` is spherical interpolation along the short arc (eq. 6);
the rotation the other way round is spherical extrapolation (eq. 7)::

    z'(lam) = sin((1 + lam) theta) / sin(theta) * a - sin(lam theta) / sin(theta) * b

which is eq. 5 at ``-lam``. Eq. 5 has period ``2 pi / theta`` in ``lam``, so
drawing ``lam ~ U(0, 2 pi / theta)`` (:func:`sample_strength`, the default) samples
the whole circle, the short and the long arc, as the paper and its reference code
do. For two independent Gaussian inversions ``theta`` is close to ``pi / 2`` and the
result keeps the norm of Gaussian noise (a straight line shrinks it by up to
``1 / sqrt(2)``).

Variants (explicit options, not the paper's): ``strength=s`` limits ``lam`` to
``U(-s, 1 + s)`` (an arc around the two inversions), and
:func:`norm_preserving_interpolation` walks the same angle with the radius moving
geometrically from ``|a|`` to ``|b|`` (the paper's sine weights trace an ellipse
when ``|a| != |b|``).

Example:
    >>> import numpy as np
    >>> a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    >>> np.round(circle_interpolation(a, b, 0.5), 4).tolist()
    [0.7071, 0.7071]
    >>> np.round(circle_interpolation(a, b, 2.0), 4).tolist()  # half a turn: the far side of the circle
    [-1.0, 0.0]
    >>> np.round(spherical_extrapolation(a, b, 1.0), 4).tolist()  # eq. 7 turns the other way
    [0.0, -1.0]
    >>> round(circle_period(a, b), 4)  # lam range of one full turn, 2 pi / theta
    4.0
"""

from __future__ import annotations

import math

import numpy as np

EPS = 1e-7
#: Below this angle (or this close to pi) ``sin(theta)`` is too small to divide by.
MIN_ANGLE = 1e-4


def _flat(x: np.ndarray) -> np.ndarray:
    return np.ravel(np.asarray(x)).astype(np.float64)


def _like(out: np.ndarray, ref: np.ndarray) -> np.ndarray:
    dtype = np.asarray(ref).dtype
    return out.reshape(np.shape(ref)).astype(dtype if np.issubdtype(dtype, np.floating) else np.float64)


def angle_between(a: np.ndarray, b: np.ndarray) -> float:
    """The angle ``theta`` (radians) between ``a`` and ``b`` seen as flat vectors."""
    x, y = _flat(a), _flat(b)
    cos = float(x @ y / max(np.linalg.norm(x) * np.linalg.norm(y), EPS))
    return float(np.arccos(np.clip(cos, -1.0, 1.0)))


def _degenerate(x: np.ndarray, y: np.ndarray, theta: float) -> bool:
    return (np.linalg.norm(x) < EPS or np.linalg.norm(y) < EPS or theta < MIN_ANGLE
            or math.pi - theta < MIN_ANGLE)


def circle_interpolation(a: np.ndarray, b: np.ndarray, lam: float) -> np.ndarray:
    """Eq. 5: ``(sin((1-lam) theta) a + sin(lam theta) b) / sin(theta)``.

    ``lam = 0`` gives ``a``, ``lam = 1`` gives ``b``; any real ``lam`` is a point of
    the same closed curve (period ``2 pi / theta``). Nearly parallel or opposite
    inputs (``sin(theta)`` about 0, no plane to rotate in) fall back to
    ``(1 - lam) a + lam b``, the limit of eq. 5 as ``theta -> 0``.
    """
    x, y = _flat(a), _flat(b)
    theta = angle_between(x, y)
    if _degenerate(x, y, theta):
        out = (1.0 - lam) * x + lam * y
    else:
        s = math.sin(theta)
        out = math.sin((1.0 - lam) * theta) / s * x + math.sin(lam * theta) / s * y
    return _like(out, a)


def spherical_interpolation(a: np.ndarray, b: np.ndarray, lam: float) -> np.ndarray:
    """Eq. 6: eq. 5 on the short arc, ``lam`` in ``[0, 1]``."""
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"spherical interpolation needs lam in [0, 1], got {lam}")
    return circle_interpolation(a, b, lam)


def spherical_extrapolation(a: np.ndarray, b: np.ndarray, lam: float) -> np.ndarray:
    """Eq. 7: ``(sin((1+lam) theta) a - sin(lam theta) b) / sin(theta)``, rotating away from ``b``.

    ``lam`` in ``[0, 2 pi / theta - 1]`` covers the long arc from ``a`` back round to ``b``.
    """
    if lam < 0:
        raise ValueError(f"spherical extrapolation needs lam >= 0, got {lam}")
    x, y = _flat(a), _flat(b)
    theta = angle_between(x, y)
    if _degenerate(x, y, theta):
        out = (1.0 + lam) * x - lam * y
    else:
        s = math.sin(theta)
        out = math.sin((1.0 + lam) * theta) / s * x - math.sin(lam * theta) / s * y
    return _like(out, a)


def circle_period(a: np.ndarray, b: np.ndarray) -> float:
    """``2 pi / theta``: the ``lam`` range of one full turn of eq. 5 (``inf`` for parallel inputs)."""
    theta = angle_between(a, b)
    return math.inf if theta < MIN_ANGLE else 2.0 * math.pi / theta


def sample_strength(rng: np.random.Generator, theta: float, strength: float | None = None) -> float:
    """Draw the interpolation strength ``lam``.

    ``strength=None`` (paper): ``lam ~ U(0, 2 pi / theta)``, the whole circle.
    ``strength=s`` (variant): ``lam ~ U(-s, 1 + s)``, an arc around ``a`` and ``b``
    (``s = 0``: interpolation only). Nearly parallel or opposite inversions (no
    circle) draw from ``U(0, 1)``.
    """
    if strength is not None:
        if strength < 0:
            raise ValueError(f"strength must be >= 0 or None, got {strength}")
        return float(rng.uniform(-strength, 1.0 + strength))
    if theta < MIN_ANGLE or math.pi - theta < MIN_ANGLE:
        return float(rng.uniform(0.0, 1.0))
    return float(rng.uniform(0.0, 2.0 * math.pi / theta))


def norm_preserving_interpolation(a: np.ndarray, b: np.ndarray, lam: float) -> np.ndarray:
    """Variant of eq. 5: the same angle ``lam * theta`` from ``a``, radius ``|a|^(1-lam) |b|^lam``.

    Direction ``cos(lam theta) u + sin(lam theta) v`` with ``u = a/|a|`` and ``v`` the
    unit component of ``b`` orthogonal to ``u``: a true circle (for ``|a| = |b|``
    it equals eq. 5; otherwise eq. 5's radius follows an ellipse).
    """
    x, y = _flat(a), _flat(b)
    theta = angle_between(x, y)
    if _degenerate(x, y, theta):
        out = (1.0 - lam) * x + lam * y
    else:
        na, nb = np.linalg.norm(x), np.linalg.norm(y)
        u = x / na
        w = y - (y @ u) * u
        v = w / np.linalg.norm(w)
        out = na ** (1.0 - lam) * nb ** lam * (math.cos(lam * theta) * u + math.sin(lam * theta) * v)
    return _like(out, a)


#: Interpolation functions by name (the recipe's ``interpolation`` parameter).
MODES = {"paper": circle_interpolation, "norm-preserving": norm_preserving_interpolation}


def random_circle_interpolation(a: np.ndarray, b: np.ndarray, rng: np.random.Generator,
                                strength: float | None = None, mode: str = "paper") -> tuple[np.ndarray, float]:
    """A random point of the circle through ``a`` and ``b`` (Sec. 3.2.2); returns it and its ``lam``.

    ``mode="paper"`` uses eq. 5, ``"norm-preserving"`` :func:`norm_preserving_interpolation`.
    """
    if mode not in MODES:
        raise ValueError(f"unknown interpolation mode {mode!r}; choose from {sorted(MODES)}")
    lam = sample_strength(rng, angle_between(a, b), strength)
    return MODES[mode](a, b, lam), lam


#: Eq. 5 under its common name.
slerp = circle_interpolation

__all__ = ["angle_between", "circle_interpolation", "spherical_interpolation", "spherical_extrapolation",
           "circle_period", "sample_strength", "norm_preserving_interpolation", "random_circle_interpolation",
           "slerp", "MODES"]
