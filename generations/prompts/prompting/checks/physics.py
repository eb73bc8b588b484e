"""complex_physics: the guide warns that chaotic motion can introduce artifacts."""

from __future__ import annotations

from generations.prompts.prompting.findings import WARNING, Finding, Segment, hits, quote, rx

_STRUCTURES = "(?:building|tower|bridge|wall|roof|ceiling|house|skyscraper)s?"
_COMPLEX_PHYSICS = rx(
    "explosions?",
    "explod(?:e|es|ed|ing)",
    "detonat(?:e|es|ing|ion|ions)",
    "blow(?:s|ing)? up",
    "shatter(?:s|ing)?",
    "smash(?:es|ing)? (?:into|through)",
    "(?:car|plane|train) crash(?:es)?",
    "crash(?:es|ing)? through",
    "collid(?:e|es|ing)",
    "collisions?",
    "debris",
    "juggl(?:e|es|ing|er|ers)",
    "acrobat(?:s|ic|ics)",
    "back(?: |-)?flips?",
    "somersault(?:s|ing)?",
    "cartwheel(?:s|ing)?",
    "parkour",
    "fight scenes?",
    "(?:fist|sword|gun)(?: |-)?fights?",
    "brawl(?:s|ing)?",
    "martial arts",
    "kung fu",
    "fights?(?! back)",
    "fighting(?! back)",
    "stampedes?",
    "avalanches?",
    "tornado(?:es)?",
    "earthquakes?",
    "tsunamis?",
    "erupt(?:s|ing|ion)?",
    f"{_STRUCTURES} (?:collapses?|collapsing|crumbles?|crumbling)",
    f"(?:collapsing|crumbling) {_STRUCTURES}",
    "chaos",
    "chaotic(?:ally)?",
    "(?:splash|splashes|splashing|spray|sprays|spraying|spill|spills|spilling) "
    "(?:everywhere|wildly|violently|chaotically)",
)


def check_complex_physics(segments: list[Segment]) -> list[Finding]:
    """The guide: "Complex physics - chaotic motion can introduce artifacts (dancing is OK)".

    Flags explosions, shattering, collapsing structures, crashes, juggling, acrobatics, fights,
    natural disasters, eruptions, chaos and chaotically splashing liquids. Dancing, and ordinary
    motion such as rain, waves or a "fight back tears", pass.
    """
    findings = []
    for segment in segments:
        for start, end in hits(_COMPLEX_PHYSICS, segment):
            message = (
                f"{quote(segment.text[start:end])} asks for complex physics; chaotic motion can "
                "introduce artifacts. Keep the motion simple and legible (dancing is fine)."
            )
            findings.append(
                Finding("complex_physics", message, segment.element, start, end, WARNING)
            )
    return findings
