"""Spoken form of written English: what a listener (or an ASR model) hears.

``spoken_form`` turns written text into lower-case words as they are spoken, so
that a sentence and its transcript can be compared word by word: numbers,
ordinals, years, decimals, percentages and currency, clock times, common
abbreviations and contractions, hashtags and @handles become words; case and
punctuation go. It is deliberately small and rule-based (English only); see
``docs/spoken-form.md`` for the rules and their limits.

Example:
    >>> spoken_form("This is a shot of Cannery Row in 1932.")
    'this is a shot of cannery row in nineteen thirty two'
    >>> spoken_form("That's 15% off: $3.50 at 10:30pm, Dr. Lee! #DeepLearning @jane_doe")
    'that is fifteen percent off three dollars fifty cents at ten thirty p m doctor lee deep learning jane doe'
    >>> number_words(2024), ordinal_words(22), year_words(1905)
    ('two thousand twenty four', 'twenty second', 'nineteen oh five')
"""

from __future__ import annotations

import re
import unicodedata

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))
_ORDINAL = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
            "nine": "ninth", "twelve": "twelfth"}

#: currency symbols and their (singular, plural, sub-unit plural) words
CURRENCIES = {"$": ("dollar", "dollars", "cents"), "£": ("pound", "pounds", "pence"),
              "€": ("euro", "euros", "cents"), "¥": ("yen", "yen", "sen")}
#: abbreviations (lower-case, without the dot) and what is said
ABBREVIATIONS = {"mr": "mister", "mrs": "missus", "ms": "miz", "dr": "doctor", "prof": "professor",
                 "jr": "junior", "sr": "senior", "vs": "versus", "etc": "et cetera", "approx": "approximately",
                 "no": None, "st": None, "e.g": "for example", "i.e": "that is", "a.m": "a m", "p.m": "p m",
                 "u.s": "u s", "u.k": "u k", "km": "kilometers", "kg": "kilograms", "mph": "miles per hour",
                 "ft": "feet", "lbs": "pounds", "hrs": "hours", "min": None, "&": "and"}
#: contractions, expanded the same way on both sides of a comparison
CONTRACTIONS = {"can't": "can not", "cannot": "can not", "won't": "will not", "shan't": "shall not",
                "ain't": "is not", "let's": "let us", "y'all": "you all", "o'clock": "o'clock"}
_IS_WORDS = {"it", "that", "what", "there", "here", "who", "he", "she", "where", "how", "this", "everything",
             "nothing", "everyone", "somebody", "someone"}
_SUFFIXES = (("n't", " not"), ("'re", " are"), ("'m", " am"), ("'ll", " will"), ("'ve", " have"), ("'d", " would"))


def number_words(n: int) -> str:
    """Cardinal ``n`` in words (``2024`` -> ``two thousand twenty four``); negative numbers say ``minus``."""
    if n < 0:
        return "minus " + number_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    for value, word in _SCALES:
        if n >= value:
            head, rest = divmod(n, value)
            return f"{number_words(head)} {word}" + (f" {number_words(rest)}" if rest else "")
    raise AssertionError(n)  # pragma: no cover


def ordinal_words(n: int) -> str:
    """Ordinal ``n`` in words (``22`` -> ``twenty second``)."""
    words = number_words(n).split()
    last = words[-1]
    if last in _ORDINAL:
        words[-1] = _ORDINAL[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def year_words(n: int) -> str:
    """A year as said aloud: ``1932`` -> ``nineteen thirty two``, ``2005`` -> ``two thousand five``."""
    if 2000 <= n <= 2009 or n % 1000 == 0 or not 1000 <= n <= 2999:
        return number_words(n)
    head, tail = divmod(n, 100)
    if tail == 0:
        return number_words(head) + " hundred"
    return number_words(head) + " " + (f"oh {_ONES[tail]}" if tail < 10 else number_words(tail))


def _digits(s: str) -> str:
    return " ".join(_ONES[int(d)] for d in s)


def _cardinal(s: str) -> str:
    """Words for a written number: ``1,200``, ``3.14``, ``0.5``."""
    s = s.replace(",", "")
    whole, _, frac = s.partition(".")
    out = number_words(int(whole)) if whole else "zero"
    return out + (" point " + _digits(frac) if frac else "")


def _currency(m: re.Match[str]) -> str:
    one, many, sub = CURRENCIES[m.group("cur")]
    amount = m.group("amt").replace(",", "")
    whole, _, cents = amount.partition(".")
    scale = m.group("scale")
    if scale:
        return f"{_cardinal(amount)} {_SCALE_WORDS[scale.lower()]} {many}"
    n = int(whole or 0)
    out = f"{number_words(n)} {one if n == 1 else many}"
    if cents and int(cents):
        out += f" {number_words(int(cents.ljust(2, '0')[:2]))} {sub}"
    return out


_SCALE_WORDS = {"k": "thousand", "m": "million", "bn": "billion", "b": "billion",
                "thousand": "thousand", "million": "million", "billion": "billion"}


def _time(m: re.Match[str]) -> str:
    h, mnt, ampm = int(m.group(1)), int(m.group(2)), m.group(3)
    out = number_words(h) + (" o'clock" if mnt == 0 and not ampm else "" if mnt == 0
                             else f" oh {_ONES[mnt]}" if mnt < 10 else " " + number_words(mnt))
    return out + (" " + " ".join(ampm.lower().replace(".", "")) if ampm else "")


def _number(m: re.Match[str]) -> str:
    s = m.group(0)
    plain = s.replace(",", "")
    if "." not in plain and "," not in s and len(plain) == 4 and 1100 <= int(plain) <= 2099:
        return year_words(int(plain))
    if len(plain) > 1 and plain.startswith("0") and "." not in plain:
        return _digits(plain)  # 007, zip codes
    return _cardinal(s)


def _decade(m: re.Match[str]) -> str:
    words = year_words(int(m.group(1))).split()
    last = words[-1]
    words[-1] = last[:-1] + "ies" if last.endswith("y") else last + "s"
    return " ".join(words)


def _camel_words(tag: str) -> str:
    """``DeepLearning2024`` -> ``Deep Learning 2024``; ``jane_doe`` -> ``jane doe``."""
    tag = tag.replace("_", " ")
    tag = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", tag)
    return tag


def _contraction(word: str) -> str:
    if word in CONTRACTIONS:
        return CONTRACTIONS[word]
    for suffix, full in _SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            return word[: -len(suffix)] + full
    if word.endswith("'s") and word[:-2] in _IS_WORDS:
        return word[:-2] + " is"
    return word.replace("'", "")  # possessives: "year's" -> "years"


_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.I)
_TAG = re.compile(r"(?<!\w)[#@](\w+)")
_CURRENCY = re.compile(r"(?P<cur>[$£€¥])\s?(?P<amt>\d[\d,]*(?:\.\d+)?)\s?(?P<scale>k|m|bn|b|thousand|million|billion)?\b",  # noqa: E501
                       re.I)
_PERCENT = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s?(?:%|percent\b|per cent\b)")
_TIME = re.compile(r"\b(\d{1,2}):(\d{2})\s?([ap]\.?m\.?)?(?!\w)", re.I)
_ORDINAL_NUM = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.I)
_DECADE = re.compile(r"\b(1[1-9]\d0|20[0-9]0)'?s\b")
_AMPM = re.compile(r"\b(\d{1,2})\s?([ap])\.?m\b\.?", re.I)
_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_ABBREV = re.compile(r"(?<![\w.])(e\.g|i\.e|a\.m|p\.m|u\.s|u\.k)\.?(?!\w)|(?<!\w)([a-z]+)\.(?=\s|$)|&", re.I)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")


def _abbrev(m: re.Match[str]) -> str:
    if m.group(0) == "&":
        return " and "
    key = (m.group(1) or m.group(2) or "").lower()
    said = ABBREVIATIONS.get(key)
    return f" {said} " if said else m.group(0)


def spoken_form(text: str) -> str:
    """``text`` as lower-case spoken words (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'")
    text = _URL.sub(" ", text)
    text = _TAG.sub(lambda m: " " + _camel_words(m.group(1)) + " ", text)
    text = _ABBREV.sub(_abbrev, text)
    text = _CURRENCY.sub(lambda m: " " + _currency(m) + " ", text)
    text = _PERCENT.sub(lambda m: " " + _cardinal(m.group(1)) + " percent ", text)
    text = _TIME.sub(lambda m: " " + _time(m) + " ", text)
    text = _AMPM.sub(lambda m: f" {number_words(int(m.group(1)))} {m.group(2).lower()} m ", text)
    text = _ORDINAL_NUM.sub(lambda m: " " + ordinal_words(int(m.group(1))) + " ", text)
    text = _DECADE.sub(lambda m: " " + _decade(m) + " ", text)
    text = _NUMBER.sub(lambda m: " " + _number(m) + " ", text)
    text = text.lower().replace("-", " ")
    return " ".join(_contraction(w) for w in _WORD.findall(text)).replace("'", "")


__all__ = ["spoken_form", "number_words", "ordinal_words", "year_words"]
