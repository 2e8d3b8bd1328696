"""Filter audio.empty-transcript (crossaug_audio/empty_transcript.py)."""

from __future__ import annotations

from crossaug import Sample
from crossaug_testing import FilterContract

PARENT = Sample("p", {"text": "the sun rose"})


class TestEmptyTranscriptContract(FilterContract):
    name = "audio.empty-transcript"

    def pairs(self):
        return [(Sample("c1", {"text": "the sun rose"}), PARENT, True),
                (Sample("c2", {"text": ""}), PARENT, False),
                (Sample("c3", {"audio": "x.wav"}), PARENT, False),
                (Sample("c4", {"text": "so"}), PARENT, True)]


def test_scores_are_word_counts():
    from crossaug_audio.empty_transcript import EmptyTranscript

    f = EmptyTranscript()
    assert f.score_batch([Sample("a", {"text": " two  words "}), Sample("b", {"text": ""})], [PARENT] * 2) == [2.0, 0.0]
