"""Plugin discovery: listing without importing, the example third-party plugin, broken plugins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import crossaug
import pytest
from crossaug import PluginLoadError, Sample, registry
from crossaug.hooks import get_plugin_manager

LIST_FIELDS = {"kind", "name", "plugin", "version", "status", "error"}


def test_builtin_modalities_listed() -> None:
    rows = registry.list_plugins(["modality"])
    assert {(r.name, r.plugin, r.status) for r in rows} >= {
        ("text", "crossaug", "loaded"), ("image", "crossaug", "loaded"), ("audio", "crossaug", "loaded")}


def test_example_third_party_plugin_registers_transform_and_hook() -> None:
    rows = {(r.kind, r.name): r for r in registry.list_plugins()}
    row = rows[("transform", "example.pig-latin")]
    assert (row.plugin, row.version, row.status) == ("crossaug-example-plugin", "0.3.1", "loaded")
    assert rows[("hook", "example")].status == "loaded"
    t = crossaug.create("transform", "example.pig-latin")
    assert t([Sample("s", {"text": "string theory"})], [0])[0].fields["text.pig"] == "ingstray eorythay"
    # its hook runs inside the runner
    from crossaug_example import hooks

    before = hooks.BATCHES.get("typo", 0)
    crossaug.run("typo", ["one", "two", "three"], Path(__import__("tempfile").mkdtemp()) / "o",
                 batch_size=2, report=False)
    assert hooks.BATCHES["typo"] == before + 2


def test_listing_does_not_import(tmp_path: Path) -> None:
    code = textwrap.dedent("""
        import sys
        from crossaug import registry
        names = registry.names("transform")
        assert "example.pig-latin" in names, names
        assert "crossaug_example.pig_latin" not in sys.modules
        assert "crossaug_broken" not in sys.modules
        print("ok")
    """)
    env = {"CROSSAUG_PLUGINS": "crossaug-example-plugin,crossaug-broken-example", "PATH": "/usr/bin:/bin",
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}  # the test-only plugins (see conftest.py)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "ok", out.stderr


def test_broken_plugin_reported_others_still_work(only_plugins, tmp_path: Path) -> None:
    only_plugins("crossaug-example-plugin", "crossaug-broken-example")
    rows = {r.name: r for r in registry.list_plugins()}
    missing = rows["broken.missing-dep"]
    assert missing.status == "failed" and "not_a_real_crossaug_dependency" in missing.error
    assert missing.hint == "pip install 'crossaug-broken-example[fancy]'"
    raising = rows["broken.raises"]
    assert raising.status == "failed" and "broken on purpose" in raising.error
    assert rows["broken-recipe"].status == "failed"
    assert rows["example.pig-latin"].status == "loaded" and rows["text"].status == "loaded"
    with pytest.raises(PluginLoadError, match=r"broken on purpose.*crossaug-broken-example"):
        crossaug.create("transform", "broken.raises")
    res = crossaug.run("typo", ["still runs"], tmp_path / "o", report=False)
    assert res.summary["kept"] == 1


def test_cli_list_json_shows_failed_plugin(tmp_path: Path) -> None:
    env = {"CROSSAUG_PLUGINS": "crossaug-example-plugin,crossaug-broken-example", "PATH": "/usr/bin:/bin",
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}  # the test-only plugins (see conftest.py)
    out = subprocess.run([sys.executable, "-c", "from crossaug.cli import main; main()", "list", "--json"],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert all(LIST_FIELDS <= set(r) for r in rows)
    by_name = {r["name"]: r for r in rows}
    assert by_name["broken.raises"]["status"] == "failed"
    assert by_name["example.pig-latin"]["status"] == "loaded"
    assert {r["kind"] for r in rows} >= {"modality", "transform", "augmentation", "recipe", "hook"}


def _fake_dist(site: Path, name: str, module_src: str, entry: str) -> None:
    (site / f"{name}.py").write_text(module_src)
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[crossaug.hooks]\n{entry} = {name}\n")


def test_broken_hook_module_never_takes_others_down(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _fake_dist(site, "badhook", "raise ImportError('hook plugin cannot import')\n", "bad")
    _fake_dist(site, "goodhook", textwrap.dedent("""
        import crossaug
        @crossaug.hookimpl
        def crossaug_coerce(value, modality):
            return "COERCED" if value == "magic" else None
    """), "good")
    code = textwrap.dedent("""
        from crossaug import get_modality
        from crossaug.hooks import get_plugin_manager, load_failures
        pm = get_plugin_manager()
        print(sorted(load_failures), get_modality("text").coerce("magic"), pm.has_plugin("good"))
    """)
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "CROSSAUG_PLUGINS": "badhook,goodhook"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "['bad'] COERCED True", out.stderr
    assert "hook plugin cannot import" in out.stderr
    env["CROSSAUG_DISABLE_AUTOLOAD"] = "1"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "[] magic False", out.stderr


def test_plugin_manager_loading_is_idempotent() -> None:
    pm = get_plugin_manager()
    before = len(pm.get_plugins())
    from crossaug.hooks import _load_entry_point_hooks

    _load_entry_point_hooks(pm)
    assert get_plugin_manager() is pm and len(pm.get_plugins()) == before


def test_unknown_names_suggest_alternatives() -> None:
    with pytest.raises(crossaug.ConfigError, match="did you mean text.typo"):
        crossaug.create("augmentation", "typo")


def test_named_plugins_load_through_stevedore(only_plugins, monkeypatch) -> None:
    """The registry chooses names (respecting CROSSAUG_PLUGINS), then a stevedore manager loads them."""
    import stevedore

    seen: list[tuple[str, list[str], bool]] = []
    real = stevedore.NamedExtensionManager

    class Recording(real):  # the real manager, recording what it was asked to load
        def __init__(self, namespace, names, **kwargs):
            seen.append((namespace, list(names), kwargs.get("on_load_failure_callback") is not None))
            super().__init__(namespace, names, **kwargs)

    monkeypatch.setattr(stevedore, "NamedExtensionManager", Recording)
    only_plugins("crossaug-example-plugin", "crossaug-broken-example")
    rows = {r.name: r for r in registry.list_plugins(["transform"])}
    assert seen and seen[0][0] == "crossaug.transforms" and seen[0][2]
    assert set(seen[0][1]) == set(rows) == set(registry.names("transform"))
    assert "text.translate" not in seen[0][1]  # filtered out before the manager loads anything
    assert rows["broken.raises"].status == "failed" and "broken on purpose" in rows["broken.raises"].error
    assert rows["example.pig-latin"].status == "loaded"
    seen.clear()
    assert registry.load("transform", "example.pig-latin").__name__ == "PigLatin"
    assert seen == [("crossaug.transforms", ["example.pig-latin"], True)]


def test_kernel_hooks_arrive_by_entry_point_even_without_autoload() -> None:
    code = ("from crossaug.hooks import get_plugin_manager; pm = get_plugin_manager(); "
            "print(sorted(pm.list_name_plugin()[i][0] for i in range(len(pm.list_name_plugin()))), "
            "type(pm.hook.crossaug_demo()).__name__)")
    env = {"PATH": "/usr/bin:/bin", "CROSSAUG_DISABLE_AUTOLOAD": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "['crossaug.default_hooks'] DemoSpec", out.stderr


def test_hook_module_with_a_bad_signature_is_reported_not_fatal(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _fake_dist(site, "sighook", textwrap.dedent("""
        import crossaug
        @crossaug.hookimpl
        def crossaug_coerce(value, modality, colour):
            return None
    """), "sig")
    code = ("from crossaug.hooks import get_plugin_manager, load_failures; pm = get_plugin_manager(); "
            "print(sorted(load_failures), pm.has_plugin('crossaug.default_hooks'))")
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "CROSSAUG_PLUGINS": "sighook"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "['sig'] True", out.stderr
    assert "colour" in out.stderr


def test_an_entry_point_whose_distribution_has_no_name_is_listed_as_unknown(tmp_path):
    """A distribution caught half-way through a reinstall (METADATA without Name) must not crash discovery."""
    import types
    from importlib import metadata

    from crossaug import registry

    info = tmp_path / "broken-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\n")
    ep = types.SimpleNamespace(dist=metadata.PathDistribution(info))
    assert registry.distribution_of(ep) == "?"
    assert registry.distribution_of(types.SimpleNamespace()) == "?"


def test_a_change_of_plugins_forgets_the_modalities_of_fields_too(only_plugins) -> None:
    from crossaug.modality import field_modality, get_modality

    before = field_modality("text.de")
    assert before is get_modality("text")
    only_plugins("crossaug-example-plugin")  # the plugin set changes: modalities are loaded again
    after = field_modality("text.de")
    assert after is get_modality("text") and after is not before
