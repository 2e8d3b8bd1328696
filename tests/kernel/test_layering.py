"""The kernel is layered: a module imports only its own layer and the layers below it.

Layers, bottom up (docs/architecture.md draws them): ``core`` (samples, RNG, errors, hook specs
and plugin manager, registry, steps, modalities, compose, BackModality, serialization, built-in
steps), ``run`` (dataset IO, runner and executors, report) and
``face`` (command line, doctor, demo, the built-in hook implementations). Plugins sit on top and
the kernel never imports them. The check reads every ``import`` statement with :mod:`ast`,
lazy ones inside functions included; only ``if TYPE_CHECKING:`` blocks (never executed) are
skipped.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "kernel" / "src"
LAYERS = ("core", "run", "face")

#: module (or package prefix) -> layer; the longest matching entry wins
LAYER_OF: dict[str, str] = {
    # core: what every step and plugin needs, and nothing that runs a dataset
    "crossaug": "core",  # the package itself: eager imports are core; the rest is re-exported by name
    "crossaug._json": "core",
    "crossaug.errors": "core",
    "crossaug.sample": "core",
    "crossaug.rng": "core",
    "crossaug.timing": "core",
    "crossaug.forking": "core",
    "crossaug.hookspecs": "core",
    "crossaug.hooks": "core",
    "crossaug.registry": "core",
    "crossaug.importing": "core",
    "crossaug.models": "core",
    "crossaug.precision": "core",  # training precision and torch threads of every torch step
    "crossaug.cache": "core",  # Transform.__call__ consults the result cache; backends share models through it
    "crossaug.step": "core",
    "crossaug.augmentation": "core",
    "crossaug.transform": "core",
    "crossaug.filter": "core",
    "crossaug.recipe": "core",
    "crossaug.compose": "core",
    "crossaug.modality": "core",
    "crossaug.modalities": "core",
    "crossaug.backmodality": "core",
    "crossaug.serialization": "core",
    "crossaug.builtin": "core",
    "crossaug.payloads": "core",  # plain values to payloads and back (Augmentation(...), crossaug.augment)
    "crossaug.produced": "core",  # a transform's output with lineage info; the result cache stores it
    "crossaug.plain": "core",  # crossaug.augment on plain values
    "crossaug.io.limits": "core",  # input size caps, read by the modalities when they decode
    # run: reading datasets, running recipes over them, writing and showing results
    "crossaug.io": "run",
    "crossaug.runner": "run",
    "crossaug.report": "run",
    # face: what a person at a terminal meets
    "crossaug.cli": "face",
    "crossaug.cli_render": "face",  # the CLI's plain-text tables and docstring rendering
    "crossaug.cli_params": "face",  # the CLI's -p parsing and checks against a recipe's parameters
    "crossaug.doctor": "face",
    "crossaug.demo": "face",
    "crossaug.default_hooks": "face",
}


def layer_of(module: str) -> str | None:
    best = None
    for prefix in LAYER_OF:
        if (module == prefix or module.startswith(prefix + ".")) and prefix != "crossaug":
            if best is None or len(prefix) > len(best):
                best = prefix
    if best is None and module == "crossaug":
        best = "crossaug"
    return LAYER_OF[best] if best else None


def kernel_modules() -> dict[str, tuple[Path, bool]]:
    mods = {}
    for path in sorted((SRC / "crossaug").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        mods[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return mods


def _runtime_nodes(tree: ast.AST):
    """Every node except those under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def imports_of(module: str, path: Path, is_pkg: bool, known: set[str]) -> list[tuple[int, str, str]]:
    """``(line, imported module, statement)`` for every import of the ``crossaug`` family in ``path``."""
    package = module if is_pkg else module.rpartition(".")[0]
    found = []
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:  # `from . import registry` imports the module crossaug.registry
                sub = f"{target}.{alias.name}"
                found.append((node.lineno, sub if sub in known else target, ast.unparse(node)))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, ast.unparse(node)) for alias in node.names)
    return [f for f in found if f[1].split(".")[0].startswith("crossaug")]


def test_every_kernel_module_has_a_layer() -> None:
    missing = [m for m in kernel_modules() if layer_of(m) is None]
    assert not missing, f"add these modules to LAYER_OF in {Path(__file__).name}: {missing}"


def test_no_import_from_a_lower_layer_to_a_higher_one() -> None:
    mods = kernel_modules()
    bad = []
    for module, (path, is_pkg) in mods.items():
        own = LAYERS.index(layer_of(module) or "face")
        for line, target, stmt in imports_of(module, path, is_pkg, set(mods)):
            if target.split(".")[0] != "crossaug":
                bad.append(f"{path.relative_to(SRC)}:{line} `{stmt}`: the kernel never imports a plugin ({target})")
                continue
            theirs = layer_of(target)
            if theirs is not None and LAYERS.index(theirs) > own:
                bad.append(f"{path.relative_to(SRC)}:{line} `{stmt}`: {module} ({LAYERS[own]}) imports "
                           f"{target} ({theirs}), a higher layer")
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_the_check_sees_lazy_imports(tmp_path: Path) -> None:
    """The checker itself: an import inside a function is found (and is upward here); TYPE_CHECKING is not."""
    probe = tmp_path / "probe.py"
    probe.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .cli import app\n"
                     "def f():\n    from .doctor import Check\n    from . import registry\n")
    got = sorted(t for _, t, _ in imports_of("crossaug.hooks", probe, False, set(kernel_modules())))
    assert got == ["crossaug.doctor", "crossaug.registry"]
    assert LAYERS.index(layer_of("crossaug.doctor")) > LAYERS.index(layer_of("crossaug.hooks"))
    assert layer_of("crossaug.io.limits") == "core" and layer_of("crossaug.io.datasets") == "run"


def test_plugins_never_import_each_other() -> None:
    """Each plugin imports the kernel and itself only; what one plugin needs of another goes by registered name."""
    root = SRC.parents[1] / "plugins"
    bad = []
    for src in sorted(root.glob("*/src/crossaug_*")):
        own = src.name
        for path in sorted(src.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
                for name in names:
                    top = name.split(".")[0]
                    if top.startswith("crossaug_") and top != own:
                        bad.append(f"{path.relative_to(root)}:{node.lineno} imports {name}")
    assert not bad, "plugins importing other plugins:\n" + "\n".join(bad)


def import_graph() -> dict[str, dict[str, list[int]]]:
    """module -> {kernel module it imports -> lines}, lazy imports included (TYPE_CHECKING excluded)."""
    mods = kernel_modules()
    graph: dict[str, dict[str, list[int]]] = {}
    for module, (path, is_pkg) in mods.items():
        graph[module] = {}
        for line, target, _ in imports_of(module, path, is_pkg, set(mods)):
            if target in mods and target != module:
                graph[module].setdefault(target, []).append(line)
    return graph


def find_circle(graph: dict[str, dict[str, list[int]]]) -> list[str] | None:
    """One import circle of ``graph`` (``[a, b, ..., a]``), or None (depth-first search, colours)."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                return path[path.index(n):] + [n]
            if n not in state and (found := visit(n)):
                return found
        state[m] = 2
        path.pop()
        return None

    for m in sorted(graph):
        if m not in state and (circle := visit(m)):
            return circle
    return None


def test_no_import_circle_in_the_kernel() -> None:
    """No kernel module needs itself, directly or through others, not even through a lazy import."""
    graph = import_graph()
    circle = find_circle(graph)
    if circle:
        steps = [f"{a} -> {b} (line {', '.join(map(str, graph[a][b]))})" for a, b in zip(circle, circle[1:])]
        raise AssertionError("import circle:\n  " + "\n  ".join(steps))


def test_the_circle_check_sees_lazy_circles() -> None:
    """The checker itself: a circle closed by a lazy import is found; a chain is not a circle."""
    assert find_circle({"a": {"b": [1]}, "b": {"c": [2]}, "c": {}}) is None
    assert find_circle({"a": {"b": [1]}, "b": {"c": [2]}, "c": {"a": [9]}}) == ["a", "b", "c", "a"]
    graph = import_graph()
    assert "crossaug.step" in graph["crossaug.transform"]  # module-level import
    assert "crossaug.registry" in graph["crossaug.modality"]  # an import inside a function
