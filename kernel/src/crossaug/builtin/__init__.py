"""Steps that ship with the kernel: character-level typo noise, a word-order
transform used to exercise round trips, and text filters (edit distance, length ratio)."""
