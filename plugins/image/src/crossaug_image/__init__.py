"""crossaug image plugin."""
