"""Discovery of named things through entry points; stevedore loads them.

Groups: ``crossaug.modalities``, ``crossaug.transforms``,
``crossaug.augmentations``, ``crossaug.filters``, ``crossaug.recipes``,
``crossaug.hooks``, ``crossaug.executors`` (where batches run) and
``crossaug.encoders`` (feature extractors, by the modality they read).
:func:`names` and :func:`entry_points` list without importing anything, from
:mod:`importlib.metadata` (which knows each entry point's distribution, so discovery
can be filtered per distribution). :func:`load`,
:func:`load_many` and :func:`list_plugins` choose the names first, then load them
through a stevedore ``NamedExtensionManager`` whose ``on_load_failure_callback``
records a broken plugin (with an install hint) so it never hides the others.

``CROSSAUG_PLUGINS`` (comma-separated distribution names) restricts discovery to
those distributions plus the kernel; tests use it to see only what they ask for.

Example:
    >>> "text" in names("modality")
    True
    >>> load("recipe", "back-modality").__name__
    'BackModality'
"""

from __future__ import annotations

import os
import re
import sys
import threading
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

from .errors import ConfigError, PluginLoadError
from .forking import renew_after_fork

GROUPS: dict[str, str] = {
    "modality": "crossaug.modalities",
    "transform": "crossaug.transforms",
    "augmentation": "crossaug.augmentations",
    "filter": "crossaug.filters",
    "recipe": "crossaug.recipes",
    "hook": "crossaug.hooks",
    "executor": "crossaug.executors",
    "encoder": "crossaug.encoders",
}
KERNEL_DIST = "crossaug"


def _group(kind: str) -> str:
    try:
        return GROUPS[kind]
    except KeyError:
        raise ConfigError(f"unknown kind {kind!r}; expected one of {', '.join(GROUPS)}") from None


def _allowed() -> set[str] | None:
    raw = os.environ.get("CROSSAUG_PLUGINS")
    if raw is None:
        return None
    return {_norm(x) for x in raw.split(",") if x.strip()} | {KERNEL_DIST}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def distribution_of(ep: metadata.EntryPoint) -> str:
    """The name of the distribution that declares ``ep`` (``"?"`` when unknown)."""
    dist = getattr(ep, "dist", None)
    try:
        name = dist.metadata["Name"] if dist is not None else None
    except KeyError:  # metadata without a Name (a package half-way through reinstalling)
        name = None
    return name or "?"


_dist_name = distribution_of

#: group -> (sys.path fingerprint, [(entry point, distribution name)]) as last read
_found: dict[str, tuple[tuple[Any, ...], list[tuple[metadata.EntryPoint, str]]]] = {}
_found_lock = threading.Lock()
renew_after_fork(globals(), "_found_lock")


def _path_stamp() -> tuple[Any, ...]:
    """``sys.path`` with each folder's modification time: installing or removing a distribution adds or
    removes a folder (its ``.dist-info``) in one of them, which changes that folder's time."""
    stamp: list[Any] = []
    for entry in sys.path:
        try:
            stamp.append((entry, os.stat(entry or ".").st_mtime_ns))
        except (OSError, ValueError):
            stamp.append((entry, None))
    return tuple(stamp)


def _declared(group: str) -> list[tuple[metadata.EntryPoint, str]]:
    """Every entry point of ``group`` with its distribution's name, read once per process and again
    only when ``sys.path`` or a folder on it changed (reading them parses every installed
    distribution's metadata, tens of milliseconds)."""
    stamp = _path_stamp()
    cached = _found.get(group)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    names_of: dict[int, str] = {}
    found = []
    for ep in metadata.entry_points(group=group):
        dist = getattr(ep, "dist", None)
        name = names_of.get(id(dist)) if dist is not None else None
        if name is None:
            name = _dist_name(ep)
            if dist is not None:
                names_of[id(dist)] = name
        found.append((ep, name))
    with _found_lock:
        _found[group] = (stamp, found)
    return found


def entry_points(kind: str) -> list[metadata.EntryPoint]:
    """Entry points of ``kind`` visible now (respecting ``CROSSAUG_PLUGINS``), by name.

    A distribution visible twice on ``sys.path`` (e.g. an editable install beside
    a built copy) is counted once. The installed entry points are read once per process
    and read again when a distribution is installed or removed.
    """
    allowed = _allowed()
    seen: set[tuple[str, str]] = set()
    out = []
    for ep, dist in _declared(_group(kind)):
        if allowed is not None and _norm(dist) not in allowed:
            continue
        key = (ep.name, ep.value)
        if key in seen:
            continue
        seen.add(key)
        out.append(ep)
    return sorted(out, key=lambda e: e.name)


def names(kind: str) -> list[str]:
    """Names registered for ``kind``, without importing any plugin."""
    return sorted({ep.name for ep in entry_points(kind)})


def _find(kind: str, name: str) -> metadata.EntryPoint:
    matches = [ep for ep in entry_points(kind) if ep.name == name]
    if not matches:
        known = names(kind)
        close = [n for n in known if n.split(".")[-1] == name.split(".")[-1] or name in n]
        hint = f"; did you mean {', '.join(close)}?" if close else (f"; known: {', '.join(known)}" if known else "")
        raise ConfigError(f"unknown {kind} {name!r}{hint} (see `crossaug list`)")
    return matches[0]


def install_hint(ep: metadata.EntryPoint, exc: BaseException) -> str:
    """What to install to fix an entry point that failed with ``exc``."""
    missing = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
    dist = getattr(ep, "dist", None)
    if missing and dist is not None:
        top = _norm(missing.split(".")[0])
        for req in dist.requires or []:
            m = re.match(r"\s*([A-Za-z0-9_.\-]+)[^;]*;\s*.*extra\s*==\s*['\"]([^'\"]+)['\"]", req)
            if m and _norm(m.group(1)) == top:
                return f"pip install '{dist.metadata['Name']}[{m.group(2)}]'"
        return f"pip install {missing.split('.')[0]}"
    if hasattr(exc, "install_hint"):
        return str(exc.install_hint)
    if dist is not None:
        return f"reinstall {dist.metadata['Name']} or report the error to its authors"
    return "check the plugin's installation"


def load_many(kind: str, eps: list[metadata.EntryPoint]) -> dict[str, Any]:
    """Load the chosen entry points ``eps`` of ``kind`` with stevedore: name -> object, or the exception it raised.

    A name registered by several distributions resolves to the chosen entry point
    (same ``module:attr``), so ``CROSSAUG_PLUGINS`` filtering holds while loading.
    """
    from stevedore import NamedExtensionManager

    wanted = {ep.name: ep.value for ep in eps}
    result: dict[str, Any] = {}

    def failed(_manager: Any, ep: Any, exc: BaseException) -> None:
        if wanted.get(ep.name) == ep.value:
            result.setdefault(ep.name, exc)

    if wanted:
        manager = NamedExtensionManager(_group(kind), names=sorted(wanted), on_load_failure_callback=failed,
                                        on_missing_entrypoints_callback=lambda missing: None)
        for ext in manager.extensions:
            if wanted.get(ext.name) == ext.entry_point.value:
                result[ext.name] = ext.plugin
    for name in wanted:  # stevedore did not see it (e.g. its entry-point cache predates the install)
        if name not in result:
            ep = next(e for e in eps if e.name == name)
            try:
                result[name] = ep.load()
            except Exception as exc:  # noqa: BLE001 - reported like stevedore's failures
                result[name] = exc
    return result


def _load_error(kind: str, ep: metadata.EntryPoint, exc: BaseException) -> PluginLoadError:
    return PluginLoadError(f"{kind} {ep.name!r} from {_dist_name(ep)} failed to load: "
                           f"{type(exc).__name__}: {exc}; {install_hint(ep, exc)}")


def load(kind: str, name: str) -> Any:
    """Import and return the object registered as ``name`` in ``kind``'s group.

    Raises :class:`ConfigError` for unknown names and :class:`PluginLoadError`
    (with an install hint) when the plugin fails to import.
    """
    ep = _find(kind, name)
    obj = load_many(kind, [ep])[ep.name]
    if isinstance(obj, BaseException):
        raise _load_error(kind, ep, obj) from obj
    return obj


def create(kind: str, name: str, /, **params: Any) -> Any:
    """Build the step ``name`` of ``kind`` with ``params``; unknown params are a :class:`ConfigError`."""
    cls = load(kind, name)
    accepted = getattr(cls, "param_names", None)
    if accepted is not None:
        unknown = sorted(set(params) - set(accepted()))
        if unknown:
            raise ConfigError(f"{kind} {name!r} has no parameter(s) {', '.join(unknown)}; "
                              f"accepted: {', '.join(accepted()) or '(none)'}")
    try:
        return cls(**params)
    except TypeError as exc:
        raise ConfigError(f"{kind} {name!r}: {exc}") from None


def resolve(kind: str, name: str, *, prefix: str | None = None,
            source: str | None = None, target: str | None = None) -> str:
    """The full entry-point name for ``name`` (a full name or a short alias) of ``kind``.

    ``prefix`` (for example ``"audio.tts."``) turns an alias such as ``flite``
    into ``audio.tts.flite``; otherwise an alias matches the one registered name
    whose last dotted part equals it. Another distribution's backend answers its alias
    too: with ``prefix="audio.tts."``, ``tones`` finds ``example.tts.tones`` when no
    ``audio.tts.*`` name matches (one match of the right modality pair, else ambiguous).
    ``source`` / ``target`` check the loaded class's modality pair (a transform's
    ``source`` and ``target`` class attributes), so an ASR cannot be passed where a
    TTS is expected. Unknown names raise :class:`ConfigError` with did-you-mean suggestions.

    Example:
        >>> resolve("transform", "reverse-words", prefix="text.")
        'text.reverse-words'
        >>> resolve("transform", "text.reverse-words", source="text", target="text")
        'text.reverse-words'
    """
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"expected the name of a registered {kind}, got {name!r}")
    name = name.strip()
    known = names(kind)
    full: str | None = None
    if name in known:
        full = name
    elif prefix and prefix + name in known:
        full = prefix + name
    else:
        pool = [n for n in known if not prefix or n.startswith(prefix)]
        tails = [n for n in pool if n.rsplit(".", 1)[-1] == name or n.endswith("." + name)]
        if not tails and prefix:  # another distribution's name: example.tts.tones answers "tones" for audio.tts.
            role = prefix.split(".", 1)[1] if prefix.count(".") > 1 else ""
            tails = [n for n in known if n.endswith("." + role + name)]
            if len(tails) > 1 and (source is not None or target is not None):
                tails = [n for n in tails if _maps(kind, n, source, target)]
        if len(tails) == 1:
            full = tails[0]
        elif len(tails) > 1:
            raise ConfigError(f"{kind} name {name!r} is ambiguous: {', '.join(tails)}; give the full name")
    if full is None:
        import difflib

        # a dotted name may be a third party's full name (example.tts.tones): suggest from every name
        pool = [n for n in known if not prefix or n.startswith(prefix) or "." in name] or known
        shorts = {n: n[len(prefix):] if prefix and n.startswith(prefix) else n for n in pool}
        close = difflib.get_close_matches(name, list(shorts.values()) + pool, n=3, cutoff=0.5)
        close = list(dict.fromkeys(next((k for k, v in shorts.items() if v == c), c) for c in close))
        what = f"{kind} {prefix + '*' if prefix else ''}".strip()
        hint = (f"; did you mean {', '.join(close)}?" if close
                else f"; registered: {', '.join(pool)}" if pool else "")
        raise ConfigError(f"unknown {what} {name!r}{hint} (see `crossaug list`)")
    if (source is not None or target is not None) and not _maps(kind, full, source, target):
        cls = load(kind, full)
        got = (getattr(cls, "source", None), getattr(cls, "target", None))
        want = (source or got[0], target or got[1])
        raise ConfigError(f"{kind} {full!r} maps {got[0]} -> {got[1]}; expected {want[0]} -> {want[1]}")
    return full


def _maps(kind: str, name: str, source: str | None, target: str | None) -> bool:
    """Whether the registered class ``name`` maps ``source`` to ``target`` (``None``: any)."""
    cls = load(kind, name)
    return (source is None or getattr(cls, "source", None) == source) and \
        (target is None or getattr(cls, "target", None) == target)


def create_named(kind: str, name: str, /, *, prefix: str | None = None, source: str | None = None,
                 target: str | None = None, **params: Any) -> Any:
    """:func:`create` after :func:`resolve`: build a backend from a full name or a short alias."""
    return create(kind, resolve(kind, name, prefix=prefix, source=source, target=target), **params)


@dataclass
class PluginInfo:
    """One row of ``crossaug list``."""

    kind: str
    name: str
    plugin: str
    version: str
    status: str
    error: str | None
    hint: str | None
    target: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_plugins(kinds: list[str] | None = None, *, load_all: bool = True) -> list[PluginInfo]:
    """Every registered thing with its distribution, version and load status."""
    rows: list[PluginInfo] = []
    for kind in kinds or list(GROUPS):
        eps = entry_points(kind)
        loaded = load_many(kind, eps) if load_all else {}
        for ep in eps:
            dist = getattr(ep, "dist", None)
            plugin = dist.metadata["Name"] if dist is not None else "?"
            version = dist.version if dist is not None else "?"
            status, error, hint = "loaded", None, None
            obj = loaded.get(ep.name)
            if not load_all:
                status = "not loaded"
            elif isinstance(obj, BaseException):
                status, error, hint = "failed", f"{type(obj).__name__}: {obj}", install_hint(ep, obj)
            rows.append(PluginInfo(kind, ep.name, plugin, version, status, error, hint, ep.value))
    return rows


__all__ = ["GROUPS", "entry_points", "names", "load", "load_many", "create", "resolve", "create_named",
           "list_plugins", "PluginInfo", "install_hint"]
