"""Image-conditioned diffusion transforms: img2img (SDEdit), inpainting, InstructPix2Pix."""
