"""TMMDA: token mixup multimodal data augmentation (Zhao et al., WWW 2023).

* :mod:`.mixup` — the cross-modal token mixup (pure numpy, pinned by the tests);
* :mod:`.networks` — the fully connected generator and discriminator and the
  cross-modal attention fusion head;
* :mod:`.losses` — the Jensen-Shannon divergence term;
* :mod:`.trainer` — :class:`~crossaug_multimodal.tmmda.trainer.TMMDATrainer`, joint training
  on a user's aligned feature sequences;
* :mod:`.recipe` — the registered ``tmmda`` recipe.

Importing this package does not import torch.
"""
