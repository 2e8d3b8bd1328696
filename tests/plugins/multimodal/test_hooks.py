"""The multimodal plugin's hooks (doctor) and its light import."""

from __future__ import annotations

import os
import subprocess
import sys

from crossaug.doctor import run_checks


def test_doctor_reports_the_plugin_backends() -> None:
    checks = {c.name: c for c in run_checks() if c.plugin == "crossaug-multimodal"}
    assert {"python sklearn", "python torch", "python sentence_transformers"} <= set(checks)
    model = next(c for name, c in checks.items() if name.startswith("CMDA text model"))
    assert model.ok == (model.detail != "not installed")
    assert model.ok or "text-encoder" in (model.hint or "")


def test_import_and_recipe_creation_stay_light() -> None:
    code = (
        "import sys, crossaug, crossaug_multimodal\n"
        "for name in ('cmda', 'mixgen', 'cut-switch', 'culture-mixup'):\n"
        "    crossaug.create('recipe', name)\n"
        "crossaug.create('augmentation', 'multimodal.cut-switch')\n"
        "heavy = [m for m in ('torch', 'sklearn', 'sentence_transformers') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "CROSSAUG_PLUGINS": "crossaug-multimodal,crossaug-text"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"heavy modules imported: {out.stdout.strip()}"
