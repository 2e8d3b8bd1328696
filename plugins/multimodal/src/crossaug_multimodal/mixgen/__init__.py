"""MixGen (Hao et al., 2023): image interpolation plus text concatenation for image-text pairs."""

from .functional import mix_images, mixgen, mixgen_batch, mixgen_pair

__all__ = ["mix_images", "mixgen", "mixgen_batch", "mixgen_pair"]
