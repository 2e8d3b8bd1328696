"""Classic image augmentations (flip, crop, colour jitter, erasing, rotation) on numpy/PIL."""
