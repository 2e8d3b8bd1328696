"""Cut-Switch: swap one random block between spatially aligned image fields (RGB, depth, thermal)."""

from .functional import cut_switch, sample_box, unswitch

__all__ = ["cut_switch", "sample_box", "unswitch"]
