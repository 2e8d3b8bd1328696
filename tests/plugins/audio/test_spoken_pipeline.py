"""Written sentences with numbers, dates, money, percentages, abbreviations, hashtags and handles
through the embedded pipeline (flite -> sox pitch/tempo -> a perfect spoken-form transcriber):
a transcript that says exactly what was spoken passes back-speech's default filter."""

from __future__ import annotations

from typing import ClassVar

from crossaug import BackModality, Sample, Seeder
from crossaug.transform import Transform
from crossaug_audio.augmentations.pitch_shift import PitchShift
from crossaug_audio.empty_transcript import EmptyTranscript
from crossaug_audio.spoken_edit_distance import SpokenEditDistance
from crossaug_audio.tts.flite import FliteTTS

from .conftest import NEEDS_FLITE, NEEDS_SOX

pytestmark = [NEEDS_FLITE, NEEDS_SOX]

#: (written sentence, what a careful listener writes down when it is read aloud), transcribed by hand
SPOKEN = [
    ("Shares fell 4.5% on Tuesday after the report.", "shares fell four point five percent on tuesday after the report"),
    ("The company paid $3.50 per share in 2019.", "the company paid three dollars fifty cents per share in twenty nineteen"),
    ("She was born on May 3rd, 1987 in Leeds.", "she was born on may third nineteen eighty seven in leeds"),
    ("Tickets cost £20 and sold out by 10:30pm.", "tickets cost twenty pounds and sold out by ten thirty p m"),
    ("Mr. Smith met Dr. Jones at 9:00 on Friday.", "mister smith met doctor jones at nine o'clock on friday"),
    ("Loving the new phone!!! #BestPurchaseEver @TechStore", "loving the new phone best purchase ever tech store"),
    ("@jane_doe that's the 2nd time this week lol", "jane doe that's the second time this week lol"),
    ("Inflation hit 7.9% in the 1970s, they say.", "inflation hit seven point nine percent in the nineteen seventies they say"),
    ("We're 100% sure it'll ship by the 21st.", "we're one hundred percent sure it'll ship by the twenty first"),
    ("A $5m deal for 1,200 new homes was signed.", "a five million dollar deal for one thousand two hundred new homes was signed"),
    ("Meet me at 7 a.m. near the U.S. embassy.", "meet me at seven a m near the u s embassy"),
    ("He ran 26.2 miles in 3 hours & 15 minutes.", "he ran twenty six point two miles in three hours and fifteen minutes"),
    ("The 3 kids can't wait for the 4th of July.", "the three kids cannot wait for the fourth of july"),
    ("Prices rose from €1 to €2.25 in 2005.", "prices rose from one euro to two euros twenty five cents in two thousand five"),
    ("#MondayMotivation: finish 50% of the work by noon", "monday motivation finish fifty percent of the work by noon"),
    ("Our team won 6-4 in the final on June 12th.", "our team won six four in the final on june twelfth"),
    ("I've watched it 3 times since 2021, e.g. last night.", "i have watched it three times since twenty twenty one for example last night"),
    ("The temperature dropped to 15 degrees at 6:45am.", "the temperature dropped to fifteen degrees at six forty five a m"),
    ("RT @NASA: launch window opens at 11:20 #Mars2020", "r t nasa launch window opens at eleven twenty mars twenty twenty"),
    ("Only 1 in 10 voters said the U.K. should leave, vs. 2 in 10 in 1975.",
     "only one in ten voters said the u k should leave versus two in ten in nineteen seventy five"),
    ("It's the year's best deal: 30% off until the 31st!", "it is the year's best deal thirty percent off until the thirty first"),
]
HEARD = dict(SPOKEN)


class PerfectSpokenASR(Transform):
    """A transcriber that hears exactly what was said (the hand-written transcript of the spoken sentence)."""

    name: ClassVar[str] = "test.perfect-asr"
    source: ClassVar[str] = "audio"
    target: ClassVar[str] = "text"

    def __init__(self) -> None:
        self.out_field = "text"

    def transform_batch(self, samples, seeds):
        for s in samples:  # the speech really is there and lasts about as long as the words take
            assert s["audio"].duration > 0.2 * len(HEARD[s["text"]].split()), s["text"]
        return [HEARD[s["text"]] for s in samples]


def test_perfect_spoken_transcripts_pass_the_default_filter():
    assert len(SPOKEN) >= 20
    recipe = BackModality(forward=FliteTTS(voice="rms"), augment=PitchShift(semitones=[-2, 2]),
                          backward=PerfectSpokenASR(), filters=[EmptyTranscript(), SpokenEditDistance()],
                          fan_out=[1, 1, 1])
    groups = recipe.process([Sample(f"s{i}", {"text": t}) for i, (t, _) in enumerate(SPOKEN)], Seeder(0))
    failed = [(t, g[0].reason) for (t, _), g in zip(SPOKEN, groups, strict=True) if not g[0].kept]
    assert not failed
    scores = [g[0].lineage[-1].score for g in groups]
    assert all(g[0].lineage[-1].name == "audio.spoken-edit-distance" for g in groups)
    assert sum(s == 0.0 for s in scores) >= 18, scores  # nearly all are the very same spoken words


def test_written_form_filter_rejects_most_of_them():
    """The kernel's written-form filter, for comparison: numbers and symbols count as errors."""
    from crossaug.builtin.edit_distance import normalised_edit_distance

    assert sum(normalised_edit_distance(t, h) > 0.2 for t, h in SPOKEN) >= 10
