"""A compact StyleGAN2 in plain torch (Karras et al., 2020, "Analyzing and Improving the
Image Quality of StyleGAN").

* :mod:`.networks` — mapping network, modulated/demodulated convolutions, noise inputs,
  style mixing, skip (toRGB) generator and residual discriminator;
* :mod:`.losses` — non-saturating logistic loss and R1 regularisation;
* :mod:`.train` — training on a user's images with EMA, checkpoints and a command line
  (``python -m crossaug_multimodal.stylegan2.train --help``).

Importing this package does not import torch; the submodules do.
"""
