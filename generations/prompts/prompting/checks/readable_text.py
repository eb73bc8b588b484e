"""readable_text: the guide warns that readable text and logos are not reliable."""

from generations.prompts.prompting.findings import WORDS, Finding, Segment, flag, rx

_TEXT_BEARERS = (
    "signs? signboards? banners? posters? placards? billboards? labels? plaques? notes? "
    "screens? boards? shirts? t-shirts? cards? menus? text tattoos? neon"
)
TEXT_BEARER = rx(*_TEXT_BEARERS.split())
_READABLE_TEXT = rx(*WORDS["readable_text"])


def check_readable_text(segments: list[Segment]) -> list[Finding]:
    """The guide: "Text and logos - readable text is not currently reliable". A sign without
    asked-for words passes."""
    return flag(
        _READABLE_TEXT,
        segments,
        "readable_text",
        "asks for readable text, which LTX-2 does not render reliably. Describe the object "
        "without legible words (“a weathered shop sign”), or add the text in editing.",
    )
