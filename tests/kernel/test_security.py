"""Recipe files are data: parameters naming Python code need an opt-in; nothing read from disk is unpickled."""

from __future__ import annotations

import json
import re
from pathlib import Path

import crossaug
import numpy as np
import pytest
from crossaug import ConfigError, Sample
from crossaug.importing import TRUST_ENV, code_trusted, import_callable, import_object, trusting_code
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _untrusted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TRUST_ENV, "0")  # recorded, so that undo also drops what --trust-code sets
    monkeypatch.delenv(TRUST_ENV)


def test_named_code_is_refused_without_the_opt_in_and_the_error_says_how() -> None:
    with pytest.raises(ConfigError) as info:
        import_callable("subprocess:check_output", param="text_encoder")
    message = str(info.value)
    for fragment in ("'text_encoder'", "'subprocess:check_output'", "--trust-code", "trust_code=True", TRUST_ENV):
        assert fragment in message, (fragment, message)


def test_opt_in_by_context_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    with trusting_code():
        assert code_trusted() and import_callable("subprocess:check_output") is subprocess.check_output
    assert not code_trusted()  # the block left the process as it found it
    monkeypatch.setenv(TRUST_ENV, "1")
    assert import_object("subprocess.check_output") is subprocess.check_output


def test_code_shipped_in_crossaug_packages_needs_no_opt_in() -> None:
    from crossaug.builtin.typo import Typo

    assert import_object("crossaug.builtin.typo:Typo") is Typo
    with pytest.raises(ConfigError, match="cannot import"):  # still a clear error when it does not exist
        import_object("crossaug.no_such_module:fn")


def _cmda_case(tmp_path: Path, marker: Path) -> tuple[Path, dict]:
    """A dataset whose texts are a command line: the attack of issue #12."""
    rows = []
    for i, text in enumerate(["touch", str(marker)]):
        Image.new("RGB", (12, 12), (40 * i, 90, 200)).save(tmp_path / f"{i}.png")
        rows.append({"id": f"r{i}", "text": text, "image": f"{i}.png", "label": "x"})
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    params = {"text_encoder": "subprocess:check_output", "epochs": 1, "latent_dim": 4, "hidden": 8}
    return data, params


def test_recipe_file_naming_subprocess_fails_on_the_cli_and_runs_only_with_trust_code(tmp_path: Path) -> None:
    pytest.importorskip("crossaug_multimodal", reason="the cmda recipe is in crossaug-multimodal")
    pytest.importorskip("torch", reason="cmda's projection heads need torch")
    from crossaug.cli import app
    from typer.testing import CliRunner

    marker = tmp_path / "pwned"
    data, params = _cmda_case(tmp_path, marker)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(json.dumps({"recipe": "cmda", "params": params}))
    runner = CliRunner()
    refused = runner.invoke(app, ["run", "--config", str(recipe), "-i", str(data), "-o", str(tmp_path / "o1"),
                                  "--no-progress"])
    text = re.sub(r"\s+", " ", refused.output)
    assert refused.exit_code != 0 and "'text_encoder'" in text and "--trust-code" in text, text
    assert not marker.exists()
    trusted = runner.invoke(app, ["run", "--config", str(recipe), "-i", str(data), "-o", str(tmp_path / "o2"),
                                  "--no-progress", "--trust-code"])
    assert "--trust-code" not in re.sub(r"\s+", " ", trusted.output)  # not refused (the encoder then fails)
    assert marker.exists()  # the opt-in let the named program run: the danger is real


def test_api_refuses_named_code_unless_trust_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("crossaug_multimodal", reason="the cmda recipe is in crossaug-multimodal")
    pytest.importorskip("torch", reason="cmda's projection heads need torch")
    marker = tmp_path / "pwned"
    data, params = _cmda_case(tmp_path, marker)
    with pytest.raises(ConfigError, match=r"'text_encoder'.*trust_code=True"):
        crossaug.run("cmda", data, tmp_path / "o1", params=params, report=False)
    assert not marker.exists()
    with pytest.raises(ValueError, match="convert string to float"):  # allowed; its output is no embedding
        crossaug.run("cmda", data, tmp_path / "o2", params=params, report=False, trust_code=True)
    assert marker.exists() and not code_trusted()


def test_python_callables_are_not_affected(tmp_path: Path) -> None:
    pytest.importorskip("crossaug_image", reason="image.label-confidence is in crossaug-image")
    f = crossaug.create("filter", "image.label-confidence", classifier=_always_sure)
    img = Image.new("RGB", (8, 8))
    out = f([Sample("c", {"image": img}, label="a")], [Sample("p", {"image": img}, label="a")])
    assert out[0].kept


def _always_sure(images: list, labels: list) -> list[float]:
    return [1.0 for _ in images]


def test_a_recipe_file_cannot_opt_itself_in(tmp_path: Path) -> None:
    from crossaug.serialization import load_config

    recipe = tmp_path / "r.yaml"
    recipe.write_text(json.dumps({"recipe": "eda", "run": {"trust_code": True}}))
    with pytest.raises(ConfigError, match="trust_code"):
        load_config(recipe)


def test_nothing_read_from_disk_is_unpickled() -> None:
    """No pickle/joblib/dill load, no torch.load without weights_only, no allow_pickle=True in any package."""
    bad = re.compile(r"(pickle|joblib|dill|cloudpickle|marshal)\.loads?\(|allow_pickle\s*=\s*True|"
                     r"yaml\.(unsafe_)?load\(|torch\.load\((?![^)]*weights_only=True)")
    hits = []
    for src in [ROOT / "kernel" / "src", *(ROOT / "plugins").glob("*/src")]:
        for path in src.rglob("*.py"):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                # in-memory round trips, and the process pool's pipes to its own workers (what
                # ProcessPoolExecutor unpickles too); each such line says so with "# ipc:"
                if bad.search(line) and "pickle.loads(pickle.dumps(" not in line and "# ipc: " not in line:
                    hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not hits, "\n".join(hits)
    assert np.load  # the cache reads .npz with allow_pickle=False (tests/kernel/test_cache.py)
