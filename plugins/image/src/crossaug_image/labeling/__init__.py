"""Pseudo-labelling generated images with a heavyweight model (PromptMix's annotator)."""
