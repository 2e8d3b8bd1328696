"""crossaug multimodal plugin."""
