"""Text-to-speech backends behind one :class:`~crossaug_audio.tts.base.TTS` interface, one file each."""
