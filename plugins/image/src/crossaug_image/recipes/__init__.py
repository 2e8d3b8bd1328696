"""Recipes of the image plugin: back-captioning, back-imagination, Diff-II."""
