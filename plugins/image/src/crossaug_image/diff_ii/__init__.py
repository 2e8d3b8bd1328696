"""Diff-II: Inversion Circle Interpolation (Wang et al., 2025), one stage per module.

1. :mod:`.concepts` — category concept learning: a textual-inversion token per class
   plus LoRA adapters (:mod:`.lora`) on the UNet's attention projections.
2. :mod:`.inversion` — DDIM inversion of every training image into a per-class pool.
3. :mod:`.interpolation` — random circle interpolation between two inversions of a
   class (pure math: spherical interpolation and extrapolation).
4. :mod:`.suffixes` — prompt suffixes summarised from captions of the training set.
5. :mod:`.denoise` — two-stage denoising: suffixed prompt early, plain prompt late.

:mod:`.cache` keys learned concepts and inversions by their inputs and parameters
on disk. The recipe ``diff-ii`` (:mod:`crossaug_image.recipes.diff_ii`) chains them.
"""
