"""Docs that must stay in step with the code (as datasette checks its hook docs)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from crossaug import hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOK_DOC = (ROOT / "docs" / "hooks.md").read_text()


def spec_functions() -> dict[str, inspect.Signature]:
    return {name: inspect.signature(fn) for name, fn in vars(hookspecs).items()
            if name.startswith("crossaug_") and callable(fn)}


def test_every_hookspec_is_documented_with_its_signature() -> None:
    documented = dict(re.findall(r"^### `(crossaug_\w+)\(([^)]*)\)`", HOOK_DOC, flags=re.M))
    specs = spec_functions()
    assert set(documented) == set(specs), (set(specs) ^ set(documented))
    for name, sig in specs.items():
        params = [p.strip() for p in documented[name].split(",") if p.strip()]
        assert params == list(sig.parameters), f"{name}: docs say {params}, spec has {list(sig.parameters)}"


def test_every_hookspec_has_a_docstring() -> None:
    for name in spec_functions():
        assert (getattr(hookspecs, name).__doc__ or "").strip(), name


def test_docs_links_resolve() -> None:
    for page in (ROOT / "docs").glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+\.md)\)", page.read_text()):
            assert (page.parent / target).is_file(), f"{page.name} links to missing {target}"


def test_cli_doc_lists_every_command() -> None:
    from crossaug.cli import app

    doc = (ROOT / "docs" / "cli.md").read_text()
    for cmd in app.registered_commands:
        name = cmd.name or cmd.callback.__name__
        assert f"`crossaug {name}" in doc, name
