"""Audio augmentations (registered steps); the signal processing lives in :mod:`crossaug_audio.dsp`."""
