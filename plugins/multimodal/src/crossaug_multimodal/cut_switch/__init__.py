"""Cut-Switch: switch one random block between spatially aligned image fields (RGB, depth, thermal)."""

from .functional import cut_switch, random_permutation, rotation, sample_box, unswitch

__all__ = ["cut_switch", "random_permutation", "rotation", "sample_box", "unswitch"]
