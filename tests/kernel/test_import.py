"""`import crossaug` is light: well under a second and no torch, even with every plugin installed.

Loading every plugin's hooks (what the ``crossaug`` command does first, through stevedore) stays
free of torch, scikit-learn and transformers too: the evaluation plugin imports them only when used.
"""

from __future__ import annotations

import json
import subprocess
import sys

CODE = """
import json, sys, time
t = time.perf_counter()
import crossaug
from crossaug import registry
names = registry.names("recipe")
elapsed = time.perf_counter() - t
heavy = sorted(m for m in ("torch", "transformers", "diffusers", "sklearn", "scipy", "librosa", "spacy", "nltk")
               if m in sys.modules)
crossaug.get_plugin_manager()
hooks_heavy = sorted(m for m in ("torch", "transformers", "sklearn", "sentence_transformers") if m in sys.modules)
print(json.dumps({"seconds": elapsed, "heavy": heavy, "hooks_heavy": hooks_heavy, "recipes": len(names)}))
"""


def test_import_is_light() -> None:
    runs = [json.loads(subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                                      check=True).stdout) for _ in range(3)]
    assert all(r["heavy"] == [] for r in runs), runs
    assert all(r["hooks_heavy"] == [] for r in runs), runs
    assert min(r["seconds"] for r in runs) < 1.0, runs


def test_plugin_packages_import_light() -> None:
    code = ("import sys, crossaug_text, crossaug_audio, crossaug_image, crossaug_multimodal, crossaug_eval, "
            "crossaug_integrations, crossaug_ray; "
            "print(sorted(m for m in ('torch','transformers','diffusers','sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
