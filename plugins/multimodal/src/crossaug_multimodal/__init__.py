"""crossaug multimodal plugin: augmentations over aligned samples of several modalities.

CMDA (cross-modal interpolation in a learned latent space), MixGen, Cut-Switch and
Culture Mixup (image side), plus paired StyleGAN2 augmentation and LeMDA. Importing
this package is light: torch, scikit-learn models and encoders load on first use.
"""

__version__ = "0.1.0"
