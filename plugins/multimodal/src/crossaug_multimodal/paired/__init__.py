"""Paired cross-modal augmentation by StyleGAN2 latent alignment.

Wang et al. (2022), "Paired Cross-Modal Data Augmentation for Fine-Grained
Image-to-Text Retrieval" (ACM MM): project real images into a StyleGAN2's latent
space, train an LSTM text encoder with a pairwise ranking loss so that a caption
lands on its image's latent, then make new pairs online: replace tokens of a caption,
encode it, and generate the image of the resulting latent.

* :mod:`.projection` — real images to W / W+ (noise ramp, perceptual or pixel loss);
* :mod:`.text_encoder` — vocabulary, LSTM encoder, ranking loss, training;
* :mod:`.model` — the bundle (generator + encoder + latent statistics) and its checkpoint;
* :mod:`.recipe` — the registered ``paired-stylegan2`` recipe and the
  ``multimodal.text-to-latent-image`` transform.

Importing this package does not import torch.
"""
