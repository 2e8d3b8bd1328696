"""Offline-first model resolution.

:func:`resolve_model` asks the ``crossaug_resolve_model`` hook where the weights
of a model live. The built-in implementation accepts an existing local path,
then looks in the Hugging Face cache (without network access), and otherwise
raises :class:`~crossaug.MissingResource` saying how to get the weights.

Example:
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> resolve_model("transformers", d) == d
    True
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import MissingResource
from .hooks import get_plugin_manager


def resolve_model(kind: str, name: str, revision: str | None = None) -> str:
    """Return a local path or loadable id for model ``name`` of family ``kind``."""
    result = get_plugin_manager().hook.crossaug_resolve_model(kind=kind, name=str(name), revision=revision)
    if result is None:
        raise MissingResource(f"{kind} model {name!r}", download_hint(kind, name))
    return str(result)


def pick_device(device: str | None = "auto") -> str:
    """A torch device string: ``auto`` (or ``None``) picks ``cuda`` when available, then ``mps``, else ``cpu``.

    Any other value (``cpu``, ``cuda:1``) is returned as given. The one device policy of
    every model backend.

    Example:
        >>> pick_device("cuda:1")
        'cuda:1'
    """
    if device is not None and device != "auto":
        return str(device)
    try:
        import torch
    except ImportError as exc:
        from .errors import MissingDependency

        raise MissingDependency("pip install torch (CPU build: pip install torch==2.13.0)", what="torch") from exc
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


#: dtype names a backend accepts (``auto`` resolved by :func:`pick_dtype`), with their aliases
DTYPE_ALIASES = {"float32": "float32", "fp32": "float32", "float": "float32",
                 "float16": "float16", "fp16": "float16", "half": "float16",
                 "bfloat16": "bfloat16", "bf16": "bfloat16"}


def pick_dtype(dtype: Any = "auto", device: str = "cpu") -> Any:
    """The ``torch.dtype`` a model runs in on ``device``: the one dtype policy of every backend.

    ``auto`` (or ``None``) is half precision for inference on a GPU (bfloat16 on CUDA devices
    that support it, else float16; float16 on MPS) and float32 on CPU. Explicit names
    (``float32``/``fp32``, ``float16``/``fp16``, ``bfloat16``/``bf16``) and ``torch.dtype``
    objects are passed through. Trained weights stay float32 whatever this returns
    (see :func:`train_autocast`). torch is imported here, never by ``import crossaug``.

    Example:
        >>> str(pick_dtype("auto", "cpu")), str(pick_dtype("fp16", "cuda"))
        ('torch.float32', 'torch.float16')
    """
    try:
        import torch
    except ImportError as exc:
        from .errors import MissingDependency

        raise MissingDependency("pip install torch (CPU build: pip install torch==2.13.0)", what="torch") from exc
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype is None or dtype == "auto":
        kind = str(device).split(":")[0]
        if kind == "cuda":
            return torch.bfloat16 if _cuda_bf16(device) else torch.float16
        return torch.float16 if kind == "mps" else torch.float32
    name = DTYPE_ALIASES.get(str(dtype).lower().removeprefix("torch."))
    if name is None:
        from .errors import ConfigError

        raise ConfigError(f"dtype must be auto, {', '.join(sorted(set(DTYPE_ALIASES.values())))} "
                          f"(or fp32/fp16/bf16), got {dtype!r}")
    return getattr(torch, name)


def _cuda_bf16(device: str) -> bool:
    import torch

    try:
        if not torch.cuda.is_available():
            return False
        index = torch.device(device).index
        return torch.cuda.get_device_capability(0 if index is None else index)[0] >= 8
    except (RuntimeError, AssertionError):  # no usable driver: fall back to float16
        return False


#: libraries whose versions a neural step's lineage records, when imported
RUNTIME_LIBRARIES = ("torch", "transformers", "diffusers")
_deterministic = False


def machine_device(probe: bool = False) -> str:
    """The machine's accelerator for ``run.json``: ``cuda (<name>)``, ``mps`` or ``cpu``.

    Asks torch when it is already imported, or imports it (if installed) when ``probe``
    (a run with model steps); ``import crossaug`` stays light.
    """
    torch = sys.modules.get("torch")
    if torch is None and probe:
        with contextlib.suppress(ImportError):
            import torch
    if torch is not None:
        if torch.cuda.is_available():
            return f"cuda ({torch.cuda.get_device_name(0)})"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
    return "cpu"


def runtime_of(step: Any, batch_size: int | None = None) -> dict[str, Any]:
    """Device, dtype, batch size and imported library versions of a neural step, for its lineage.

    Reads the step's ``runtime_device``/``runtime_dtype`` attributes when a backend sets
    them, else its ``device``/``dtype`` arguments (``auto`` resolved as the device policy
    does: the picked device; float16 on CUDA, float32 elsewhere); a wrapper without a
    ``device`` reports the step it wraps (``transform``).
    """
    inner = step
    while getattr(inner, "device", None) is None and getattr(inner, "transform", None) is not None:
        inner = inner.transform
    device = getattr(inner, "runtime_device", None) or getattr(inner, "device", None)
    if device == "auto" and "torch" in sys.modules:
        device = pick_device("auto")
    dtype = getattr(inner, "runtime_dtype", None) or getattr(inner, "dtype", None)
    if dtype == "auto" and device not in (None, "auto"):
        dtype = (str(pick_dtype("auto", str(device))) if "torch" in sys.modules
                 else "float16" if str(device).startswith("cuda") else "float32")
    if batch_size is None:
        batch_size = getattr(inner, "batch_size", None)
    versions = {name: str(getattr(sys.modules[name], "__version__", "unknown"))
                for name in RUNTIME_LIBRARIES if name in sys.modules}
    return {"device": None if device is None else str(device),
            "dtype": None if dtype is None else str(dtype).removeprefix("torch."),
            "batch_size": batch_size, "versions": versions}


def deterministic() -> bool:
    """Whether strict mode is on (``crossaug.run(deterministic=True)``, ``--deterministic``)."""
    return _deterministic


@contextlib.contextmanager
def strict_mode(on: bool = True) -> Iterator[None]:
    """Strict mode inside the block: model steps run one sample at a time, torch deterministically."""
    global _deterministic
    before, _deterministic = _deterministic, bool(on)
    torch = sys.modules.get("torch")
    saved = None if torch is None else (torch.are_deterministic_algorithms_enabled(),
                                        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    try:
        enforce_determinism()
        yield
    finally:
        _deterministic = before
        torch = sys.modules.get("torch")
        if on and torch is not None:  # leave torch as the block found it (defaults if it imported torch)
            algorithms, matmul_tf32, cudnn_tf32 = saved or (False, False, True)
            torch.use_deterministic_algorithms(algorithms)
            torch.backends.cuda.matmul.allow_tf32 = matmul_tf32
            torch.backends.cudnn.allow_tf32 = cudnn_tf32


def enforce_determinism(model_step: bool = False) -> None:
    """Deterministic torch algorithms and TF32 off, when strict mode is on.

    Acts when torch is already imported, or imports it (if installed) for a model step
    about to run; ``import crossaug`` alone never imports torch.
    """
    if not _deterministic:
        return
    torch = sys.modules.get("torch")
    if torch is None and model_step:
        with contextlib.suppress(ImportError):
            import torch
    if torch is None:
        return
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS needs it to be deterministic
    torch.use_deterministic_algorithms(True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = False


def hf_cache_dirs() -> list[Path]:
    """Directories where Hugging Face hub snapshots may be cached."""
    dirs = []
    if os.environ.get("HF_HUB_CACHE"):
        dirs.append(Path(os.environ["HF_HUB_CACHE"]))
    hf_home = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface"))
    dirs.append(hf_home / "hub")
    return dirs


def find_in_hf_cache(name: str, revision: str | None = None) -> Path | None:
    """The snapshot directory of hub repo ``name`` in the local cache, if any."""
    folder = "models--" + name.replace("/", "--")
    for cache in hf_cache_dirs():
        repo = cache / folder
        if not repo.is_dir():
            continue
        ref = repo / "refs" / (revision or "main")
        if ref.is_file():
            snap = repo / "snapshots" / ref.read_text().strip()
            if snap.is_dir():
                return snap
        snaps = repo / "snapshots"
        if revision and (snaps / revision).is_dir():
            return snaps / revision
        if snaps.is_dir():
            found = sorted(p for p in snaps.iterdir() if p.is_dir())
            if found and revision is None:
                return found[-1]
    return None


def download_hint(kind: str, name: str) -> str:
    """The command that makes ``name`` available offline."""
    if kind in ("transformers", "diffusers", "sentence-transformers", "hf"):
        return (f"download it once where a network is available with "
                f"`huggingface-cli download {name}` (then copy ~/.cache/huggingface), "
                f"or pass a local directory holding the saved model")
    if kind == "spacy":
        return f"install the pipeline: `python -m spacy download {name}` or pip install its wheel"
    return f"pass a local path to the {kind} model"


__all__ = ["resolve_model", "pick_device", "pick_dtype", "DTYPE_ALIASES", "machine_device", "runtime_of",
           "deterministic", "strict_mode", "enforce_determinism", "find_in_hf_cache", "hf_cache_dirs", "download_hint"]
