"""LeMDA: learning multimodal data augmentation in feature space (Liu et al., 2022).

* :mod:`.networks` — the MLP-VAE augmentation network and gradient reversal;
* :mod:`.losses` — VAE loss and the confidence-masked consistency KL;
* :mod:`.trainer` — :class:`~crossaug_multimodal.lemda.trainer.LeMDATrainer`, joint training
  with a user's task network, and augmenter checkpoints;
* :mod:`.recipe` — the registered ``lemda`` recipe that augments feature vectors stored
  in samples' ``meta``.

Importing this package does not import torch.
"""
