"""crossaug text plugin."""
