"""`import crossaug` is light: it loads numpy and pluggy besides the standard library, never torch.

How long it takes is measured, not asserted (wall time depends on the machine and its load):
``benchmarks/import_time.py`` prints it against the interpreter's own start in the same run.

Loading every plugin's hooks (what the ``crossaug`` command does first, through stevedore) stays
free of torch, scikit-learn and transformers too: the evaluation plugin imports them only when used.
"""

from __future__ import annotations

import json
import subprocess
import sys

CODE = """
import json, sys
before = set(sys.modules)
import crossaug
from crossaug import registry
names = registry.names("recipe")
third_party = sorted({m.split(".")[0] for m in set(sys.modules) - before}
                     - set(sys.stdlib_module_names) - {"cython_runtime"})
third_party = [m for m in third_party if not m.startswith("_")]
heavy = sorted(m for m in ("torch", "transformers", "diffusers", "sklearn", "scipy", "librosa", "spacy", "nltk")
               if m in sys.modules)
crossaug.get_plugin_manager()
hooks_heavy = sorted(m for m in ("torch", "transformers", "sklearn", "sentence_transformers") if m in sys.modules)
print(json.dumps({"third_party": third_party, "heavy": heavy, "hooks_heavy": hooks_heavy, "recipes": len(names)}))
"""


def test_import_is_light() -> None:
    run = json.loads(subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                                    check=True).stdout)
    assert run["third_party"] == ["crossaug", "numpy", "pluggy"], run
    assert run["heavy"] == [] and run["hooks_heavy"] == [], run
    assert run["recipes"] >= 3, run


def test_plugin_packages_import_light() -> None:
    code = ("import sys, crossaug_text, crossaug_audio, crossaug_image, crossaug_multimodal, crossaug_eval, "
            "crossaug_integrations, crossaug_ray; "
            "print(sorted(m for m in ('torch','transformers','diffusers','sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
