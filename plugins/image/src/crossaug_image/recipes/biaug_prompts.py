"""The two language-model requests of BiAug: the objects a caption implies, an attribute and its negative.

BiAug (Wu et al., 2023) asks gpt-3.5-turbo (1) which objects may appear in an image
with a given caption, objects the caption leaves unsaid included, and (2) for a
detected object, a value of one of four preset attributes (colour, shape, material,
other) together with a hard-negative value. The paper shows its prompts only as a
figure; the wording below is ours and asks for answers the parsers of
:mod:`crossaug_image.recipes.biaug_parse` read (a comma-separated list; ``value:`` and
``negative:`` lines). Both are parameters of the recipe.

Example:
    >>> objects_request("a man eating at a table").splitlines()[-2:]
    ['Caption: a man eating at a table', 'Objects:']
    >>> attribute_request("a man at a table", "table", "material").splitlines()[2]
    'Attribute: material (what it is made of)'
"""

from __future__ import annotations

from crossaug import ConfigError

#: The paper's four preset attributes.
ATTRIBUTES: tuple[str, ...] = ("color", "shape", "material", "other")

#: What each attribute means, as the request says it ("other": the paper's catch-all).
ATTRIBUTE_HINTS: dict[str, str] = {
    "color": "its colour",
    "shape": "its shape",
    "material": "what it is made of",
    "other": "another visible property, such as its state, size, pattern or texture",
}

#: Request 1 (ours, after the paper's figure): the objects an image with ``{caption}`` may show.
OBJECTS_PROMPT = (
    "List the physical objects that are likely visible in an image with the caption below, including "
    "objects the caption implies but does not name. Answer with a comma-separated list of short object "
    "names (nouns only), nothing else.\nCaption: {caption}\nObjects:"
)

#: Request 2 (ours, after the paper's figure): a value of ``{attribute}`` for ``{object}`` and a hard negative.
ATTRIBUTE_PROMPT = (
    "Caption: {caption}\nObject: {object}\nAttribute: {attribute} ({hint})\n"
    "Propose a plausible {attribute} of the {object} in this image, and a different {attribute} that "
    "would make the description false. Answer with one or two words each, in exactly this form:\n"
    "value: <{attribute}>\nnegative: <different {attribute}>\nvalue:"
)


def check_template(template: str, needed: tuple[str, ...], what: str) -> str:
    """``template`` if it is a string with every placeholder of ``needed``, else a ``ConfigError``."""
    if not isinstance(template, str) or any("{" + k + "}" not in template for k in needed):
        raise ConfigError(f"biaug: {what} must be a string with {', '.join('{' + k + '}' for k in needed)}, "
                          f"got {template!r}")
    try:
        template.format(caption="", object="", attribute="", hint="")
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"biaug: {what} may only use {{caption}}, {{object}}, {{attribute}} and {{hint}}: "
                          f"{exc}") from None
    return template


def objects_request(caption: str, template: str = OBJECTS_PROMPT) -> str:
    """The full request listing the objects of ``caption``."""
    return template.format(caption=caption.strip(), object="", attribute="", hint="")


def attribute_request(caption: str, obj: str, attribute: str, template: str = ATTRIBUTE_PROMPT) -> str:
    """The full request for a value of ``attribute`` of ``obj`` and its hard negative."""
    hint = ATTRIBUTE_HINTS.get(attribute, f"its {attribute}")
    return template.format(caption=caption.strip(), object=obj, attribute=attribute, hint=hint)


__all__ = ["ATTRIBUTES", "ATTRIBUTE_HINTS", "OBJECTS_PROMPT", "ATTRIBUTE_PROMPT", "check_template",
           "objects_request", "attribute_request"]
