"""monorepo.toml agrees with each package's own metadata (names, entry points, recipes)."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
MONO = tomllib.loads((ROOT / "monorepo.toml").read_text())


def pyproject(path: str) -> dict:
    return tomllib.loads((ROOT / path / "pyproject.toml").read_text())


def test_layout_exists() -> None:
    for folder in ("kernel", "plugins/image", "plugins/text", "plugins/audio", "plugins/multimodal",
                   "tests", "docs", "benchmarks"):
        assert (ROOT / folder).is_dir(), folder
    assert set(MONO["tasks"]) == {"run", "test"}


def test_packages_match_their_pyprojects() -> None:
    groups = set(MONO["entry_point_groups"].values())
    for key, pkg in MONO["packages"].items():
        proj = pyproject(pkg["path"])["project"]
        assert proj["name"] == pkg["distribution"], key
        assert (ROOT / pkg["path"] / "src" / pkg["import"] / "__init__.py").is_file(), key
        eps = proj.get("entry-points", {})
        assert set(eps) <= groups, f"{key} uses unknown groups {set(eps) - groups}"
        recipes = sorted(eps.get("crossaug.recipes", {}))
        assert recipes == sorted(pkg["recipes"]), f"{key}: pyproject recipes {recipes} != monorepo {pkg['recipes']}"
        if key != "kernel":
            deps = proj.get("dependencies", [])
            assert any(d.replace(" ", "").startswith("crossaug>=") for d in deps), f"{key} must depend on crossaug"


def test_installed_metadata_matches_sources() -> None:
    for key, pkg in MONO["packages"].items():
        proj = pyproject(pkg["path"])["project"]
        dist = metadata.distribution(pkg["distribution"])
        assert dist.version == proj["version"], key
        installed = {(ep.group, ep.name, ep.value) for ep in dist.entry_points if ep.group.startswith("crossaug.")}
        declared = {(group, name, value) for group, entries in proj.get("entry-points", {}).items()
                    for name, value in entries.items()}
        assert installed == declared, f"{key}: reinstall the package (pip install -e {pkg['path']})"


def test_kernel_extras_pull_sibling_plugins() -> None:
    extras = pyproject("kernel")["project"]["optional-dependencies"]
    plugins = {pkg["distribution"] for key, pkg in MONO["packages"].items() if key != "kernel"}
    for dist in plugins:
        short = dist.removeprefix("crossaug-")
        assert any(req.startswith(dist) for req in extras[short]), short
        assert any(req.startswith(dist) for req in extras["all"]), dist


def test_planned_recipes_name_known_packages() -> None:
    for recipe, key in MONO["planned_recipes"].items():
        assert key in MONO["packages"], recipe
