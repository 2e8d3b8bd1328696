"""Install only what you need: a fresh venv with the kernel and one light plugin runs that plugin's recipe.

Builds a virtual environment from the package sources (PyPI supplies the small dependencies),
checks that no torch/transformers came along, and runs `crossaug run eda` through the CLI. The
evaluation harness is not there either, and `crossaug --help` says how to get it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_kernel_plus_text_plugin_alone(tmp_path: Path) -> None:
    src = tmp_path / "src"  # build from copies: building in place would leave build/ in the tree
    for pkg in ("kernel", "plugins/text"):
        shutil.copytree(ROOT / pkg, src / pkg, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         str(src / "kernel"), str(src / "plugins" / "text")],
        capture_output=True, text=True)
    if install.returncode != 0 and "Could not find a version" in install.stderr:
        pytest.skip(f"package index unreachable: {install.stderr[-300:]}")
    assert install.returncode == 0, install.stderr[-2000:]
    freeze = subprocess.run([str(py), "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout
    lowered = freeze.lower()
    for heavy in ("torch", "transformers", "diffusers", "scikit-learn", "crossaug-audio", "crossaug-image",
                  "crossaug-eval"):
        assert f"\n{heavy}==" not in "\n" + lowered, f"{heavy} was installed: {freeze}"
    data = tmp_path / "in.txt"
    data.write_text("The quick brown fox jumps over the lazy dog.\nRice is often served in round bowls.\n")
    cli = env_dir / "bin" / "crossaug"
    listing = subprocess.run([str(cli), "list", "--json"], capture_output=True, text=True,
                             env={"PATH": str(env_dir / "bin") + ":/usr/bin:/bin"})
    assert listing.returncode == 0, listing.stderr
    names = {r["name"]: r["status"] for r in json.loads(listing.stdout)}
    assert names.get("eda") == "loaded" and "back-speech" not in names
    assert "stevedore==" in lowered  # the kernel loads named plugins through it
    helped = subprocess.run([str(cli), "--help"], capture_output=True, text=True,
                            env={"PATH": str(env_dir / "bin") + ":/usr/bin:/bin", "COLUMNS": "200"})
    assert helped.returncode == 0, helped.stderr
    assert "install crossaug-eval" in helped.stdout and "pip install 'crossaug[eval]'" in helped.stdout
    run = subprocess.run([str(cli), "run", "eda", "-i", str(data), "-o", str(tmp_path / "out"), "--no-progress"],
                         capture_output=True, text=True, env={"PATH": str(env_dir / "bin") + ":/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr[-2000:]
    recs = [json.loads(x) for x in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    assert recs and all(r["recipe"] == "eda" for r in recs)
    assert {r["parent_id"] for r in recs} == {"in-1", "in-2"}
