"""Random circle interpolation between two latents (Diff-II, Sec. 3.2): pure numpy.

Two DDIM inversions ``a`` and ``b`` of one class span a plane; the arc of the
circle through them is parametrised by the angle ``theta`` from ``a`` (``b`` sits
at ``theta = Omega``, their angle). The radius moves from ``|a|`` to
``|b|`` geometrically with the angle (``|a|^(1-t) |b|^t``, positive even when
extrapolating), so points keep the norm of Gaussian noise (a straight
line between two Gaussian samples shrinks it by up to ``1/sqrt(2)``, which
diffusion models turn into blurry, washed-out images). ``t`` in ``[0, 1]``
interpolates; ``t < 0`` or ``t > 1`` extrapolates along the same circle.

Example:
    >>> import numpy as np
    >>> a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    >>> np.round(slerp(a, b, 0.5), 4).tolist()
    [0.7071, 0.7071]
    >>> np.round(slerp(a, b, 2.0), 4).tolist()  # extrapolate to the far side of the circle
    [-1.0, 0.0]
"""

from __future__ import annotations

import numpy as np

EPS = 1e-7


def angle_between(a: np.ndarray, b: np.ndarray) -> float:
    """The angle (radians) between ``a`` and ``b`` seen as flat vectors."""
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    cos = float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), EPS))
    return float(np.arccos(np.clip(cos, -1.0, 1.0)))


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """The point at fraction ``t`` of the arc from ``a`` to ``b`` on the circle through both.

    Direction: ``cos(t*Omega) u + sin(t*Omega) v`` with ``u = a/|a|`` and ``v`` the unit
    component of ``b`` orthogonal to ``u``; radius ``|a|^(1-t) |b|^t``. Nearly
    parallel inputs fall back to linear interpolation.
    """
    shape, dtype = np.shape(a), np.asarray(a).dtype
    x, y = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    na, nb = np.linalg.norm(x), np.linalg.norm(y)
    omega = angle_between(x, y)
    if na < EPS or nb < EPS or omega < 1e-4 or np.pi - omega < 1e-4:
        out = (1 - t) * x + t * y
    else:
        u = x / na
        w = y - (y @ u) * u
        v = w / np.linalg.norm(w)
        theta = t * omega
        out = na ** (1 - t) * nb ** t * (np.cos(theta) * u + np.sin(theta) * v)
    return out.reshape(shape).astype(dtype if np.issubdtype(dtype, np.floating) else np.float64)


def sample_circle_t(rng: np.random.Generator, strength: float) -> float:
    """Draw the arc position ``t ~ U(-strength, 1 + strength)`` (``strength=0``: interpolation only)."""
    if strength < 0:
        raise ValueError(f"strength must be >= 0, got {strength}")
    return float(rng.uniform(-strength, 1.0 + strength))


def random_circle_interpolation(a: np.ndarray, b: np.ndarray, rng: np.random.Generator,
                                strength: float = 0.5) -> tuple[np.ndarray, float]:
    """A random point of the circle through ``a`` and ``b``; returns it and its ``t``."""
    t = sample_circle_t(rng, strength)
    return slerp(a, b, t), t


__all__ = ["slerp", "angle_between", "sample_circle_t", "random_circle_interpolation"]
