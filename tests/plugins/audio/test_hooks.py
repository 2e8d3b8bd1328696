"""Hooks of the audio plugin (crossaug_audio/hooks.py): demo spec and doctor checks."""

from __future__ import annotations

from pathlib import Path

from crossaug.demo import DemoSpec
from crossaug.doctor import run_checks
from crossaug.hooks import get_plugin_manager
from crossaug_audio import hooks


def test_demo_is_back_speech_on_bundled_sentences():
    spec = get_plugin_manager().hook.crossaug_demo()
    assert isinstance(spec, DemoSpec)
    assert spec.recipe.name == "back-speech"
    path = Path(spec.inputs)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 40 and all(line.strip() for line in lines)
    assert (path.parent / "SOURCE.md").exists()
    assert spec.recipe.voices == hooks.DEMO_VOICES and spec.workers == 2


def test_doctor_reports_every_backend():
    names = {c.name for c in run_checks() if c.plugin == "crossaug-audio"}
    for expected in ("program flite", "program espeak-ng", "program sox", "pocketsphinx en-US model",
                     "python librosa", "python transformers", "python espnet2", "python piper",
                     "python faster_whisper"):
        assert expected in names
    model = next(c for c in run_checks() if c.name == "pocketsphinx en-US model")
    assert model.ok, model.detail
    missing = [c for c in run_checks() if c.plugin == "crossaug-audio" and not c.ok]
    assert all(c.hint for c in missing)
