"""Culture Mixup, image side: paste regions of switched concepts so code-switched captions stay paired."""

from .functional import apply_switches, normalise_label, paste_region, read_boxes

__all__ = ["apply_switches", "normalise_label", "paste_region", "read_boxes"]
