"""``-p KEY=VALUE`` for the command line: parsing, checks against a recipe's parameters, suggestions.

Example:
    >>> split_args("typo", ["b=2"], ["a=1"])
    ('typo', ['a=1', 'b=2'])
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from .errors import ConfigError


def did_you_mean(name: str, choices: list[str]) -> str:
    """``"; did you mean a, b?"`` for the close matches of ``name`` among ``choices``, else ``""``.

    Example:
        >>> did_you_mean("edaa", ["eda", "typo"])
        '; did you mean eda?'
    """
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.6)
    return f"; did you mean {', '.join(close)}?" if close else ""


def parse_param(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` from ``-p`` into ``(key, value)``, the value read as YAML (for plugins' commands too).

    Example:
        >>> parse_param("n=4"), parse_param("lang=de")
        (('n', 4), ('lang', 'de'))
    """
    import yaml

    if "=" not in text:
        raise ConfigError(f"-p {text!r}: expected KEY=VALUE")
    key, value = text.split("=", 1)
    return key.strip(), yaml.safe_load(value)


_SIMPLE: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,),
                                        "None": (type(None),)}


def check_params(recipe: str, cls: Any, pairs: list[str]) -> dict[str, Any]:
    """``-p`` pairs checked against ``cls``'s parameters: an unknown name gets close matches, and a
    value must fit a simple annotation (``int``, ``float | None``, ``str``, ...; a ``str`` parameter
    takes the text as written)."""
    info = {p["name"]: p for p in cls.param_info()} if hasattr(cls, "param_info") else None
    params: dict[str, Any] = {}
    for text in pairs:
        key, value = parse_param(text)
        if info is not None and key not in info:
            raise ConfigError(f"recipe {recipe!r} has no parameter {key!r}{did_you_mean(key, list(info))} "
                              f"(accepted: {', '.join(info)})")
        hint = str(info[key]["type"]) if info is not None else ""
        kinds = [k.strip() for k in hint.replace("Optional[", "").replace("]", "").split("|")]
        if info is not None and all(k in _SIMPLE for k in kinds):
            fits = any(isinstance(value, t) and (k == "bool" or not isinstance(value, bool))
                       for k in kinds for t in _SIMPLE[k])
            if not fits and "str" in kinds and value is not None:  # "{entities}" is text, not a mapping
                value, fits = text.split("=", 1)[1], True
            if not fits:
                raise ConfigError(f"-p {text}: parameter {key!r} of recipe {recipe!r} expects {hint}, "
                                  f"got {type(value).__name__} {value!r}")
        params[key] = value
    return params


def split_args(recipe: str | None, extra: list[str], param: list[str]) -> tuple[str | None, list[str]]:
    """The recipe name and every ``KEY=VALUE`` pair, wherever they stand (``-p a=1 b=2`` leaves ``b=2`` loose)."""
    loose = ([recipe] if recipe is not None else []) + list(extra)
    unknown = [a for a in loose if a.startswith("-")]
    if unknown:
        raise ConfigError(f"no such option(s) {', '.join(unknown)}; see `crossaug run -h`")
    names = [a for a in loose if "=" not in a]
    if len(names) > 1:
        raise ConfigError(f"one recipe name expected, got {', '.join(names)} (parameters are KEY=VALUE)")
    return (names[0] if names else None), [*param, *(a for a in loose if "=" in a)]


def check_n(recipe_obj: Any, n: int, given: dict[str, Any], n_param: str) -> None:
    """``--n`` and a ``-p`` value that sets the same thing (the ``n`` parameter or an alias of it) conflict."""
    now = recipe_obj.get_params() if hasattr(recipe_obj, "get_params") else {}
    for key, value in given.items():
        if key == n_param or (key in now and now[key] != value):
            raise ConfigError(f"-p {key}={value} conflicts with --n {n} (both set the outputs per input); "
                              "give one of them")


def prepare_output(output: Path, resume: bool, overwrite: bool) -> None:
    """Refuse to write over a finished or foreign run unless ``--resume`` or ``--overwrite`` says what to do."""
    import shutil

    if resume and overwrite:
        raise ConfigError("--resume continues a run and --overwrite replaces it; give one of them")
    manifest = output / "manifest.jsonl"
    if resume or not output.is_dir() or not manifest.is_file() or manifest.stat().st_size == 0:
        return
    if not overwrite:
        raise ConfigError(f"{manifest} already exists; pass --resume to continue that run, --overwrite to "
                          "replace it, or choose a new output directory")
    shutil.rmtree(output)


__all__ = ["did_you_mean", "parse_param", "check_params", "split_args", "check_n", "prepare_output"]
