"""ALIA's domain descriptions: captions of the training set summarised by a language model.

ALIA (Dunlap et al., "Diversify Your Vision Datasets with Automatic Diffusion-Based
Augmentation", NeurIPS 2023) captions every training image with a generic
captioner (BLIP), then asks a large language model to summarise the captions into a
handful of class-agnostic *domains* ("a photo of a bird perched on a fence"): every
aspect of an image not used for classification (location, weather, pose, zoom).

* :data:`DOMAIN_PROMPT` is the request of the authors' reference code
  (``prompt_generation.py`` of github.com/lisadunlap/ALIA; a figure of the paper), verbatim;
* :func:`clean_captions` drops empty captions, those with a word repeated more than five
  times (the reference code's ``remove_bad_captions``) and duplicates;
* :func:`domain_request` fills the prompt with at most :data:`MAX_CAPTIONS` captions (the
  reference code samples 20 "to fit within the context length"), drawn under a seed;
* :func:`parse_domains` reads the answer: one description per line, of the form
  ``prefix + context``; the context (``"perched on a fence"``) is kept;
* :func:`edit_prompt` builds an editing prompt from a domain (img2img: a description with
  the class; InstructPix2Pix: an instruction).

Example:
    >>> request = domain_request(["a bird on a branch", "a bird in the snow"], "a photo of a bird", seed=0)
    >>> "- a photo of a bird standing on a branch." in request and "a bird in the snow" in request
    True
    >>> parse_domains("1. A photo of a bird perched on a fence.\\n- a photo of a bird in the rain\\nThanks!",
    ...               "a photo of a bird")
    ['perched on a fence', 'in the rain']
    >>> edit_prompt("a photo of a {label} {domain}", "in the rain", "blue_jay", "bird")
    'a photo of a blue jay in the rain'
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
from crossaug import ConfigError

#: The summarisation request of ALIA's reference code (``prompt_generation.py``), verbatim.
DOMAIN_PROMPT = (
    "\nI have a set of image captions that I want to summarize into objective descriptions that describe the "
    "scenes, actions, camera pose, zoom, and other image qualities present. \n"
    "My captions are: \n"
    "\n"
    "{text}\n"
    "\n"
    "I want the output to be a <=10 of captions that describe a unique setting, of the form \"{prefix}\".\n"
    "Here are 3 examples of what I want the output to look like:\n"
    "- {prefix} standing on a branch.\n"
    "- {prefix} flying in the sky with the Austin skyline in the background.\n"
    "- {prefix} playing in a river at night.\n"
    "\n"
    "Based on the above captions, the output should be:\n"
)  # its trailing spaces and blank lines kept as in the reference code
#: Captions shown to the language model (reference code: a random sample of 20).
MAX_CAPTIONS = 20
#: Domains kept from an answer (the prompt asks for "<=10").
MAX_DOMAINS = 10
#: A caption with a word repeated more than this many times is dropped (reference code).
MAX_REPEATS = 5


def clean_captions(captions: Sequence[str]) -> list[str]:
    """Non-empty, de-duplicated captions without degenerate repetition, sorted (input order never matters)."""
    out: set[str] = set()
    for cap in captions:
        text = " ".join(str(cap or "").split())
        words = text.split()
        if not words or max(Counter(words).values()) > MAX_REPEATS:
            continue
        out.add(text)
    return sorted(out)


def pick_captions(captions: Sequence[str], seed: int, limit: int = MAX_CAPTIONS) -> list[str]:
    """At most ``limit`` of ``captions`` (already cleaned), a uniform sample without replacement under ``seed``."""
    caps = list(captions)
    if len(caps) <= limit:
        return caps
    idx = np.random.default_rng([int(seed), 0xA11A]).choice(len(caps), size=limit, replace=False)
    return [caps[int(i)] for i in idx]


def domain_request(captions: Sequence[str], prefix: str, seed: int = 0, limit: int = MAX_CAPTIONS,
                   template: str = DOMAIN_PROMPT) -> str:
    """The request sent to the language model: ``template`` with sampled captions (one per line) and ``prefix``."""
    picked = pick_captions(clean_captions(captions), seed, limit)
    return template.format(text="\n".join(picked), prefix=prefix)


def normalise_domain(text: str, prefix: str) -> str:
    """A domain's context: ``text`` without bullets, numbering, quotes, a leading ``prefix`` and end punctuation."""
    line = re.sub(r"^\s*(?:[-*\u2022]|\d+[.):])\s*", "", str(text)).strip().strip("\"'").strip()
    if prefix and line.lower().startswith(prefix.lower()):
        line = line[len(prefix):]
    return re.sub(r"^[\s,;:-]+|[\s,.;:!-]+$", "", " ".join(line.split()))


def parse_domains(answer: str, prefix: str, limit: int = MAX_DOMAINS) -> list[str]:
    """Contexts of the answer's lines of the form ``prefix ...`` (other lines are chatter), de-duplicated."""
    out: list[str] = []
    for line in answer.splitlines():
        bare = re.sub(r"^\s*(?:[-*\u2022]|\d+[.):])\s*", "", line).strip().strip("\"'").strip()
        if not bare.lower().startswith(prefix.lower()):
            continue
        ctx = normalise_domain(bare, prefix)
        if ctx and ctx not in out:
            out.append(ctx)
    return out[:limit]


def edit_prompt(template: str, domain: str, label: object, subject: str) -> str:
    """``template`` with ``{domain}``, ``{label}`` (underscores as spaces) and ``{subject}`` filled."""
    filled = (template.replace("{domain}", domain).replace("{label}", str(label).replace("_", " "))
              .replace("{subject}", subject))
    return " ".join(filled.split())


def check_template(name: str, template: str) -> str:
    """``template`` if it holds ``{domain}`` and no placeholder besides ``{domain}``, ``{label}``, ``{subject}``."""
    if not isinstance(template, str) or "{domain}" not in template:
        raise ConfigError(f"alia: {name} must contain '{{domain}}', got {template!r}")
    unknown = set(re.findall(r"\{([^}]*)\}", template)) - {"domain", "label", "subject"}
    if unknown:
        raise ConfigError(f"alia: {name} may only use {{domain}}, {{label}} and {{subject}}; "
                          f"got {', '.join(sorted(unknown))}")
    return template


__all__ = ["DOMAIN_PROMPT", "MAX_CAPTIONS", "MAX_DOMAINS", "MAX_REPEATS", "clean_captions", "pick_captions",
           "domain_request", "normalise_domain", "parse_domains", "edit_prompt", "check_template"]
