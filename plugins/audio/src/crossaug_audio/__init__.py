"""crossaug-audio: speech transforms (TTS, ASR), audio augmentations and the back-speech recipe.

Importing the package is cheap: backends import their heavy stacks (torch,
transformers, espnet, piper) only when first used.
"""

__version__ = "0.1.0"
