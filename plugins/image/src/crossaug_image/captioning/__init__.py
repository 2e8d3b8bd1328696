"""Captioning transforms (image -> text) behind the :class:`~crossaug_image.captioning.base.Captioner` interface."""
