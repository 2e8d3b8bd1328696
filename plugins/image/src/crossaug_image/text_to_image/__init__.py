"""Text-to-image transforms (text -> image) behind the
:class:`~crossaug_image.text_to_image.base.TextToImage` interface."""
