"""XmDA: cross-modality data augmentation for sign language translation (Ye et al., EMNLP 2023 Findings).

* :mod:`.mixup` — cross-modality mixup of aligned visual and gloss embedding sequences (pure numpy);
* :mod:`.recipe` — the registered ``xmda`` recipe: multi-reference generation by K
  sequence-to-sequence models (the text plugin's ``text.translate``, by entry-point name)
  and the mixup of embeddings stored in ``meta``.
"""
