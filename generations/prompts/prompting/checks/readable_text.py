"""readable_text: the guide warns that readable text and logos are not reliable."""

from __future__ import annotations

from generations.prompts.prompting.findings import WARNING, Finding, Segment, hits, quote, rx

_TEXT_BEARERS = (
    "signs? signboards? banners? posters? placards? billboards? labels? plaques? notes? "
    "screens? boards? shirts? t-shirts? cards? menus? text tattoos? neon"
)
TEXT_BEARER = rx(*_TEXT_BEARERS.split())
_READABLE_TEXT = rx(
    "logos?",
    "captions?",
    "subtitles?",
    "subtitled",
    "title cards?",
    "on-screen text",
    "lettering",
    "inscriptions?",
    "typography",
    "watermarks?",
    "headlines?",
    "written",
    "scrawled",
    "spel(?:led|t|ling|ls) out",
    "(?:that|which) (?:reads|says|spells(?: out)?)",
    rf"(?:{'|'.join(_TEXT_BEARERS.split())}) (?:reads|reading|says|saying|displays|displaying)",
    "(?:with )?the words?(?=\\s*[\"“‘'])",
    "(?:with )?the words?(?=\\s+(?-i:[A-Z]))",
)


def check_readable_text(segments: list[Segment]) -> list[Finding]:
    """The guide: "Text and logos - readable text is not currently reliable".

    Flags requests for legible words: logos, captions, subtitles, "a sign that reads", "the
    word HOPE", "written on". A sign or a poster without asked-for words passes.
    """
    findings = []
    for segment in segments:
        for start, end in hits(_READABLE_TEXT, segment):
            message = (
                f"{quote(segment.text[start:end])} asks for readable text, which LTX-2 does not "
                "render reliably. Describe the object without legible words (“a weathered shop "
                "sign”), or add the text in editing."
            )
            findings.append(Finding("readable_text", message, segment.element, start, end, WARNING))
    return findings
