"""sox effects in-process through libsox (``ctypes``), bit-identical to the ``sox`` program.

Starting a ``sox`` process per clip costs more than the effect itself on short
speech clips. When the Debian library (``libsox3``, installed with ``sox``) is
found, effect chains run inside the Python process on raw float samples: the
same code as the ``sox`` program, so outputs are identical. The effect chain is
built as the program builds it: ``input``, the effects, a ``rate`` effect when
an effect changed the sample rate (``pitch``), ``output``.

Example:
    >>> import numpy as np
    >>> x = np.sin(np.arange(1600) / 5).astype(np.float32)
    >>> y = run_chain(x, 16000, ["vol", "0.5"]) if available() else x * 0.5
    >>> bool(np.allclose(y, x * 0.5, atol=1e-6))
    True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from collections.abc import Sequence

import numpy as np
from crossaug.forking import renew_after_fork

_SOX_ENCODING_FLOAT = 3
_SOX_SUCCESS = 0


class _Signal(ctypes.Structure):
    _fields_ = [("rate", ctypes.c_double), ("channels", ctypes.c_uint), ("precision", ctypes.c_uint),
                ("length", ctypes.c_uint64), ("mult", ctypes.c_void_p)]


class _Encoding(ctypes.Structure):
    _fields_ = [("encoding", ctypes.c_int), ("bits_per_sample", ctypes.c_uint), ("compression", ctypes.c_double),
                ("reverse_bytes", ctypes.c_int), ("reverse_nibbles", ctypes.c_int), ("reverse_bits", ctypes.c_int),
                ("opposite_endian", ctypes.c_int)]


class _Format(ctypes.Structure):  # the leading members of sox_format_t (read only)
    _fields_ = [("filename", ctypes.c_char_p), ("signal", _Signal), ("encoding", _Encoding)]


_lib: ctypes.CDLL | None = None
_libc: ctypes.CDLL | None = None
_lock = threading.Lock()  # libsox keeps global state: one chain at a time per process
renew_after_fork(globals(), "_lock")
_tried = False


def _load() -> ctypes.CDLL | None:
    global _lib, _libc, _tried
    if _tried:
        return _lib
    _tried = True
    if os.environ.get("CROSSAUG_SOX") == "program":
        return None
    name = ctypes.util.find_library("sox") or "libsox.so.3"
    try:
        lib = ctypes.CDLL(name)
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    P, S, E, F = ctypes.c_void_p, ctypes.POINTER(_Signal), ctypes.POINTER(_Encoding), ctypes.POINTER(_Format)
    lib.sox_init.restype = ctypes.c_int
    lib.sox_get_globals.restype = ctypes.POINTER(ctypes.c_uint)  # first member: verbosity
    lib.sox_open_mem_read.restype = F
    lib.sox_open_mem_read.argtypes = [P, ctypes.c_size_t, S, E, ctypes.c_char_p]
    lib.sox_open_memstream_write.restype = F
    lib.sox_open_memstream_write.argtypes = [ctypes.POINTER(P), ctypes.POINTER(ctypes.c_size_t), S, E,
                                             ctypes.c_char_p, P]
    lib.sox_create_effects_chain.restype = P
    lib.sox_create_effects_chain.argtypes = [E, E]
    lib.sox_find_effect.restype = P
    lib.sox_find_effect.argtypes = [ctypes.c_char_p]
    lib.sox_create_effect.restype = P
    lib.sox_create_effect.argtypes = [P]
    lib.sox_effect_options.argtypes = [P, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
    lib.sox_add_effect.argtypes = [P, P, S, S]
    lib.sox_flow_effects.argtypes = [P, P, P]
    lib.sox_delete_effects_chain.argtypes = [P]
    lib.sox_close.argtypes = [F]
    libc.free.argtypes = [P]
    if lib.sox_init() != _SOX_SUCCESS:
        return None
    lib.sox_get_globals()[0] = 1  # verbosity: failures only (as ``sox -V1``)
    _lib, _libc = lib, libc
    return lib


def available() -> bool:
    """Whether libsox can be used in-process (``CROSSAUG_SOX=program`` forces the ``sox`` program)."""
    return _load() is not None


def _add(lib: ctypes.CDLL, chain: int, name: str, args: Sequence[bytes | int], signal: _Signal,
         out_signal: _Signal) -> None:
    handler = lib.sox_find_effect(name.encode())
    if not handler:
        raise RuntimeError(f"sox has no effect {name!r}")
    effect = lib.sox_create_effect(handler)
    try:
        argv = (ctypes.c_char_p * max(1, len(args)))(*[ctypes.cast(a, ctypes.c_char_p) if isinstance(a, int)
                                                       else a for a in args])
        if lib.sox_effect_options(effect, len(args), argv) != _SOX_SUCCESS:
            raise RuntimeError(f"sox {name} {b' '.join(a for a in args if isinstance(a, bytes)).decode()}: "
                               "bad arguments")
        if lib.sox_add_effect(chain, effect, ctypes.byref(signal), ctypes.byref(out_signal)) != _SOX_SUCCESS:
            raise RuntimeError(f"sox {name} could not be added to the chain")
    finally:
        assert _libc is not None
        _libc.free(effect)


#: effects run in-process: they keep the sample rate, or change it only to be resampled back (``pitch``)
IN_PROCESS = frozenset({"pitch", "tempo", "vol", "gain"})


def _split(effects: Sequence[str]) -> list[tuple[str, list[bytes]]] | None:
    """``["pitch", "150", "tempo", "-s", "1.1"]`` -> ``[("pitch", [b"150"]), ("tempo", [b"-s", b"1.1"])]``.

    ``None`` when the chain has an effect outside :data:`IN_PROCESS` (run by the ``sox`` program).
    """
    chain: list[tuple[str, list[bytes]]] = []
    for word in map(str, effects):
        if word in IN_PROCESS:
            chain.append((word, []))
        elif chain:
            chain[-1][1].append(word.encode())
        else:
            return None
    return chain if all(name in IN_PROCESS for name, _ in chain) else None


def supports(effects: Sequence[str]) -> bool:
    """Whether ``effects`` can run in-process (libsox found and every effect in :data:`IN_PROCESS`)."""
    return available() and _split(effects) is not None


def run_chain(x: np.ndarray, rate: int, effects: Sequence[str]) -> np.ndarray:
    """Apply the sox effects chain ``effects`` to float samples ``x`` (``(n,)`` or ``(n, channels)``)."""
    lib, steps = _load(), _split(effects)
    if lib is None or steps is None:
        raise RuntimeError(f"libsox cannot run {list(effects)} here (see supports())")
    x = np.ascontiguousarray(x, dtype=np.float32)
    channels = 1 if x.ndim == 1 else int(x.shape[1])
    data = x.tobytes()
    signal = _Signal(float(rate), channels, 0, 0, None)
    encoding = _Encoding(_SOX_ENCODING_FLOAT, 32, float("inf"), 0, 0, 0, 0)
    buf, size = ctypes.c_void_p(), ctypes.c_size_t()
    with _lock:
        src = lib.sox_open_mem_read(data, len(data), ctypes.byref(signal), ctypes.byref(encoding), b"f32")
        if not src:
            raise RuntimeError("libsox could not read the samples")
        dst = chain = None
        try:
            out_signal = _Signal(float(rate), channels, 0, 0, None)
            dst = lib.sox_open_memstream_write(ctypes.byref(buf), ctypes.byref(size), ctypes.byref(out_signal),
                                               ctypes.byref(encoding), b"f32", None)
            if not dst:
                raise RuntimeError("libsox could not open its output")
            chain = lib.sox_create_effects_chain(ctypes.byref(src.contents.encoding),
                                                 ctypes.byref(dst.contents.encoding))
            current = _Signal.from_buffer_copy(src.contents.signal)
            _add(lib, chain, "input", [ctypes.addressof(src.contents)], current, src.contents.signal)
            for name, args in steps:
                _add(lib, chain, name, args, current, dst.contents.signal)
            if current.rate != dst.contents.signal.rate:
                _add(lib, chain, "rate", [], current, dst.contents.signal)
            _add(lib, chain, "output", [ctypes.addressof(dst.contents)], current, dst.contents.signal)
            if lib.sox_flow_effects(chain, None, None) != _SOX_SUCCESS:
                raise RuntimeError(f"sox {' '.join(map(str, effects))} failed")
        finally:
            if chain:
                lib.sox_delete_effects_chain(chain)
            if dst:
                lib.sox_close(dst)  # flushes the output into ``buf``
            lib.sox_close(src)
        try:
            out = ctypes.string_at(buf.value, size.value) if buf.value else b""
        finally:
            if buf.value:
                assert _libc is not None
                _libc.free(buf)
    y = np.frombuffer(out, dtype=np.float32).copy()
    return y.reshape(-1, channels) if x.ndim == 2 else y
