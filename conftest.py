"""Test-wide set-up: only this repository's plugins are visible to tests.

A test that needs another distribution (the broken example plugin, say) asks for
it with the ``only_plugins`` fixture from :mod:`crossaug.testing.fixtures`.
"""

import os

os.environ.setdefault(
    "CROSSAUG_PLUGINS",
    "crossaug-text,crossaug-audio,crossaug-image,crossaug-multimodal,crossaug-eval,crossaug-example-plugin",
)
os.environ.setdefault("CROSSAUG_NO_PROGRESS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

pytest_plugins = ["crossaug.testing.fixtures"]
