"""Filters for generated images: grayscale detector, CLIP score, label confidence."""
