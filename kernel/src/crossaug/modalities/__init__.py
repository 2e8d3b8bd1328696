"""Built-in modalities: ``text``, ``image`` and ``audio``."""
