"""crossaug audio plugin."""
