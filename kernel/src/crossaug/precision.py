"""Training precision and CPU threads for every torch step: the training half of the device policy.

Everything crossaug trains keeps **float32 master weights** and runs its forward pass under
autocast at the asked ``dtype`` (:class:`MixedPrecision`: bfloat16 on CPU, the half dtype on CUDA
with a ``GradScaler`` for float16, float32 on MPS); a NaN or infinite loss raises
:class:`TrainingDiverged`. :func:`apply_torch_threads` caps torch's CPU threads at
:func:`torch_threads` (``cores // workers``, or ``CROSSAUG_TORCH_THREADS``). Why, with the
measurements behind it: docs/scaling.md ("Devices and precision"). torch is imported lazily.

Example:
    >>> import torch
    >>> mp = MixedPrecision("float16", "cpu", what="toy loop")
    >>> w = torch.nn.Parameter(torch.ones(2))
    >>> opt = torch.optim.Adam([w], lr=0.1)
    >>> with mp.autocast():
    ...     loss = (w * 2).sum()
    >>> mp.backward(loss, step=0)
    >>> mp.step(opt)
    >>> w.dtype
    torch.float32
    >>> try:
    ...     mp.check(torch.tensor(float("nan")), step=3)
    ... except TrainingDiverged as exc:
    ...     print(str(exc)[:40])
    toy loop: loss is nan at step 3 (autocas
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from .errors import CrossaugError
from .models import pick_dtype

#: environment variable that fixes the torch thread count of every worker
THREADS_ENV = "CROSSAUG_TORCH_THREADS"
_workers = 1
_threads: int | None = None


class TrainingDiverged(CrossaugError):
    """A training loop's loss became NaN or infinite: nothing it would produce can be kept."""


def cpu_cores() -> int:
    """Cores this process may run on (its affinity set where the OS tells, else ``os.cpu_count()``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def set_worker_count(workers: int, threads: int | None = None) -> None:
    """How many workers share this machine's cores (the executor sets it in each worker).

    ``threads`` fixes the count outright (a child forked after its parent ran torch's thread
    pool must stay single-threaded).
    """
    global _workers, _threads
    _workers = max(1, int(workers))
    _threads = threads


def torch_threads() -> int:
    """Intra-op threads per worker: ``CROSSAUG_TORCH_THREADS`` if set, else ``cores // workers`` (at least 1).

    Example:
        >>> set_worker_count(10 ** 6); torch_threads(); set_worker_count(1)
        1
    """
    env = os.environ.get(THREADS_ENV, "").strip()
    if env:
        return max(1, int(env))
    if _threads is not None:
        return max(1, _threads)
    return max(1, cpu_cores() // _workers)


def apply_torch_threads() -> int:
    """Cap torch's intra-op threads at :func:`torch_threads` (imports torch); return the count in force.

    torch's default (every core) comes down to ``cores // workers``; a lower count someone
    set on purpose is kept. ``CROSSAUG_TORCH_THREADS`` is applied exactly.
    """
    import torch

    n = torch_threads()
    exact = bool(os.environ.get(THREADS_ENV, "").strip())
    current = torch.get_num_threads()
    if current > n or (exact and current != n):
        torch.set_num_threads(n)
    return torch.get_num_threads()


def autocast_dtype(dtype: Any, device: str) -> Any:
    """The autocast precision of a training loop asked to run in ``dtype`` on ``device`` (None: float32).

    Example:
        >>> import torch
        >>> autocast_dtype("float32", "cpu") is None, autocast_dtype("float16", "cpu") is torch.bfloat16
        (True, True)
    """
    import torch

    wanted = pick_dtype(dtype, device)
    if wanted == torch.float32 or wanted == torch.float64:
        return None
    kind = str(device).split(":")[0]
    if kind == "cuda":
        return wanted
    if kind == "cpu" and _autocast_available("cpu"):
        return torch.bfloat16
    return None


def _autocast_available(kind: str) -> bool:
    import torch

    check = getattr(torch.amp, "is_autocast_available", None)
    return bool(check(kind)) if check is not None else kind in ("cpu", "cuda")


class MixedPrecision:
    """float32 master weights, autocast forward passes, a GradScaler for float16 on CUDA, finite losses.

    Args:
        dtype: the dtype the user asked for (``auto``, ``float32``, ``float16``, ``bfloat16``, aliases).
        device: the torch device the loop runs on.
        what: the loop's name, for errors (``"Diff-II concept learning"``).
    """

    def __init__(self, dtype: Any = "auto", device: str = "cpu", what: str = "training") -> None:
        import torch

        self.device = str(device)
        self.asked = str(dtype).removeprefix("torch.")
        self.what = what
        self.compute = autocast_dtype(dtype, self.device)
        cuda_fp16 = self.device.startswith("cuda") and self.compute == torch.float16
        self.scaler = torch.amp.GradScaler("cuda") if cuda_fp16 else None

    @property
    def compute_name(self) -> str:
        """``bfloat16``/``float16`` under autocast, else ``float32``."""
        return "float32" if self.compute is None else str(self.compute).removeprefix("torch.")

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """The forward pass's context: autocast to :attr:`compute`, or nothing for float32."""
        if self.compute is None:
            return contextlib.nullcontext()
        import torch

        return torch.autocast(self.device.split(":")[0], dtype=self.compute)

    def check(self, loss: Any, step: int) -> None:
        """Raise :class:`TrainingDiverged` when ``loss`` holds a NaN or an infinity."""
        import torch

        if not bool(torch.isfinite(loss.detach()).all()):
            value = "nan" if bool(torch.isnan(loss.detach()).any()) else "inf"
            raise TrainingDiverged(
                f"{self.what}: loss is {value} at step {step} (autocast {self.compute_name} on {self.device}, "
                f"asked dtype {self.asked}); lower the learning rate or pass dtype='float32'")

    def backward(self, loss: Any, step: int) -> None:
        """Check ``loss`` and back-propagate it (scaled for float16 on CUDA)."""
        self.check(loss, step)
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()

    def unscale(self, optimizer: Any) -> None:
        """Bring gradients back to their true scale before clipping them."""
        if self.scaler is not None:
            self.scaler.unscale_(optimizer)

    def step(self, optimizer: Any) -> None:
        """Take the optimiser step (the scaler skips steps whose gradients overflowed)."""
        if self.scaler is not None:
            self.scaler.step(optimizer)
            self.scaler.update()
        else:
            optimizer.step()


def float32_master(*modules: Any) -> None:
    """Make the trainable parameters of ``modules`` float32 (frozen ones keep their dtype)."""
    import torch

    for module in modules:
        for p in module.parameters():
            if p.requires_grad and p.dtype != torch.float32:
                p.data = p.data.float()


@contextlib.contextmanager
def worker_threads(workers: int) -> Iterator[None]:
    """Inside the block, :func:`torch_threads` counts ``workers`` sharing the machine."""
    before = (_workers, _threads)
    set_worker_count(workers)
    try:
        yield
    finally:
        set_worker_count(*before)


__all__ = ["MixedPrecision", "TrainingDiverged", "autocast_dtype", "float32_master", "torch_threads",
           "apply_torch_threads", "set_worker_count", "worker_threads", "cpu_cores", "THREADS_ENV"]
