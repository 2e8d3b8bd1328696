"""Plug any LLM client into ``text.llm-rewrite``: a registry, an entry-point group and a hook.

A client is a callable ``client(prompts: list[str], seeds: list[int], **options) -> list[str]``
returning one rewrite per prompt (``options`` are the rewrite's generation settings:
``temperature``, ``max_new_tokens``, ...). ``LLMRewrite(client="name")`` finds it, first of:

1. :func:`register_client` (in-process registration, e.g. in a notebook);
2. the entry-point group ``crossaug_text.llm_clients`` (``name = "pkg.module:function"``);
3. the pluggy hook ``crossaug_text_llm_client(name)`` (firstresult), implemented in a
   module of the ``crossaug.hooks`` entry-point group with ``@crossaug.hookimpl``;
4. a dotted path ``"package.module:function"``.

Example:
    >>> @register_client("shout")
    ... def shout(prompts, seeds, **options):
    ...     return [p.upper() for p in prompts]
    >>> get_client("shout")(["a cat"], [0])
    ['A CAT']
    >>> unregister_client("shout")
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from importlib import metadata
from typing import Any, Protocol

import pluggy
from crossaug import ConfigError

GROUP = "crossaug_text.llm_clients"
hookspec = pluggy.HookspecMarker("crossaug")


class LLMClient(Protocol):
    def __call__(self, prompts: list[str], seeds: list[int], **options: Any) -> list[str]: ...


class ClientHookSpecs:
    """Hook specification added to crossaug's plugin manager by this plugin."""

    @hookspec(firstresult=True)
    def crossaug_text_llm_client(self, name: str) -> Any:
        """Return the LLM client callable registered as ``name``, or ``None`` to pass."""


_CLIENTS: dict[str, Callable[..., list[str]]] = {}


def register_client(name: str, fn: Callable[..., list[str]] | None = None) -> Any:
    """Register ``fn`` as client ``name`` (usable as a decorator)."""
    def deco(f: Callable[..., list[str]]) -> Callable[..., list[str]]:
        _CLIENTS[name] = f
        return f

    return deco(fn) if fn is not None else deco


def unregister_client(name: str) -> None:
    _CLIENTS.pop(name, None)


def _from_hook(name: str) -> Any:
    from crossaug import get_plugin_manager

    pm = get_plugin_manager()
    if not hasattr(pm.hook, "crossaug_text_llm_client") or pm.hook.crossaug_text_llm_client.spec is None:
        pm.add_hookspecs(ClientHookSpecs)
    return pm.hook.crossaug_text_llm_client(name=name)


#: the clients' entry points by name, read for ``sys.path`` as it was (reading them parses every
#: installed distribution's metadata, about 10 ms, and rewriting asks for its client per output)
_entry_points: tuple[tuple[str, ...] | None, dict[str, metadata.EntryPoint]] = (None, {})


def _client_entry_points(refresh: bool = False) -> dict[str, metadata.EntryPoint]:
    global _entry_points
    path = tuple(sys.path)
    if refresh or _entry_points[0] != path:
        found: dict[str, metadata.EntryPoint] = {}
        for ep in metadata.entry_points(group=GROUP):
            found.setdefault(ep.name, ep)  # the first of a name, as a scan would return
        _entry_points = (path, found)
    return _entry_points[1]


def get_client(name: str) -> Callable[..., list[str]]:
    """The client registered as ``name`` (see the module docstring for the search order)."""
    if name in _CLIENTS:
        return _CLIENTS[name]
    ep = _client_entry_points().get(name)
    if ep is not None:
        return ep.load()
    found = _from_hook(name)
    if found is not None:
        return found
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"LLM client {name!r} cannot be imported: {exc}") from None
    ep = _client_entry_points(refresh=True).get(name)  # installed since they were read?
    if ep is not None:
        return ep.load()
    known = sorted(set(_CLIENTS) | set(_client_entry_points()))
    raise ConfigError(f"unknown LLM client {name!r}; registered: {', '.join(known) or '(none)'}; "
                      f"register one with crossaug_text.llm_clients.register_client")


__all__ = ["register_client", "unregister_client", "get_client", "LLMClient", "ClientHookSpecs", "GROUP"]
