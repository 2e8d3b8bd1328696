"""Speech recognition backends behind one :class:`~crossaug_audio.asr.base.ASR` interface, one file each."""
