"""CMDA: cross-modal data augmentation by interpolation in a learned common latent space.

Pure parts: :mod:`.losses` (contrastive losses, eq. 7 and 8), :mod:`.clustering`
(intra-modal Gaussian mixtures chosen by BIC/AIC), :mod:`.weights` (Double
Cross-Attention, eq. 11) and :mod:`.interpolation` (new student samples, eq. 10).
Torch parts (imported on use): :mod:`.heads` (projection heads, offline and joint
training). The registered recipe is ``cmda`` (:mod:`.recipe`).
"""
