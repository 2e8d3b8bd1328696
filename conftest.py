"""Test-wide set-up: only this repository's plugins are visible to tests.

A test that needs another distribution (the broken example plugin, say) asks for
it with the ``only_plugins`` fixture from :mod:`crossaug_testing.fixtures`.

The test-only plugins under ``tests/fixtures`` are never installed into the environment
(``crossaug list`` outside the tests does not show them): for the test run only, their
packages and a ``.dist-info`` with their entry points, both generated from each fixture's
``pyproject.toml``, go on ``sys.path`` and on ``PYTHONPATH`` for subprocesses, so they are
found through the real entry-point path.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault(
    "CROSSAUG_PLUGINS",
    "crossaug-text,crossaug-audio,crossaug-image,crossaug-multimodal,crossaug-eval,crossaug-ray,"
    "crossaug-example-plugin",
)
os.environ.setdefault("CROSSAUG_NO_PROGRESS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _register_fixture_plugins() -> None:
    import atexit
    import shutil
    import tempfile
    from importlib import metadata

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    target = Path(tempfile.mkdtemp(prefix="crossaug-test-plugins-"))
    atexit.register(shutil.rmtree, target, True)
    for project in sorted((Path(__file__).parent / "tests" / "fixtures").glob("*/pyproject.toml")):
        spec = tomllib.loads(project.read_text(encoding="utf-8"))["project"]
        try:
            metadata.distribution(spec["name"])
            continue  # installed into the environment by an older set-up: use that copy
        except metadata.PackageNotFoundError:
            pass
        for package in (project.parent / "src").glob("*/__init__.py"):  # the packages, not stray build metadata
            (target / package.parent.name).symlink_to(package.parent, target_is_directory=True)
        info = target / f"{spec['name'].replace('-', '_')}-{spec['version']}.dist-info"
        info.mkdir()
        lines = ["Metadata-Version: 2.1", f"Name: {spec['name']}", f"Version: {spec['version']}",
                 *(f"Requires-Dist: {d}" for d in spec.get("dependencies", []))]
        for extra, deps in spec.get("optional-dependencies", {}).items():
            lines += [f"Provides-Extra: {extra}", *(f'Requires-Dist: {d}; extra == "{extra}"' for d in deps)]
        (info / "METADATA").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (info / "entry_points.txt").write_text("".join(
            f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in entries.items()) + "\n"
            for group, entries in spec.get("entry-points", {}).items()), encoding="utf-8")
    sys.path.insert(0, str(target))
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(target), os.environ.get("PYTHONPATH")) if p)


_register_fixture_plugins()

pytest_plugins = ["crossaug_testing.fixtures"]
