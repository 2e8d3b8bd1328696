"""crossaug image plugin: captioning and text-to-image transforms, back-captioning,
back-imagination and Diff-II recipes, image filters and classic image augmentations.

Importing the package is light (no torch); model backends import their stack on first use.
"""

__version__ = "0.1.0"
