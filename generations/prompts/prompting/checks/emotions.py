"""emotion_label: the guide asks for emotion shown through physical cues, not named."""

from generations.prompts.prompting.findings import WARNING, WORDS, Finding, Segment, hits, quote, rx
from generations.prompts.prompting.text import CLOSERS, OPENERS, TERMINALS, last_visible

# Labels of inner states, each group with physical cues to show instead. Not on the list:
# words the guide itself uses for looks and voices ("calm", "serene", "childlike curiosity"),
# and words that are mostly physical ("tense", "tired", "tearful").
_EMOTIONS: dict[str, str] = WORDS["emotions"]
_EMOTION_HINTS = {word: cues for cues, words in _EMOTIONS.items() for word in words.split()}
_EMOTION = rx(*_EMOTION_HINTS)


def check_emotion_labels(segments: list[Segment]) -> list[Finding]:
    """The guide: "Express emotion through physical cues, not abstract labels". A capitalised
    label mid-sentence is taken for a name or title ("Joy", "Happy Birthday")."""
    findings = []
    for segment in segments:
        for start, end in hits(_EMOTION, segment):
            word = segment.text[start:end]
            if word[0].isupper() and not word.isupper() and not _at_sentence_start(segment, start):
                continue
            message = (
                f"{quote(word)} names an inner feeling the camera cannot see. Show it through "
                f"physical cues instead — for example {_EMOTION_HINTS[word.lower()]}."
            )
            findings.append(Finding("emotion_label", message, segment.element, start, end, WARNING))
    return findings


def _at_sentence_start(segment: Segment, at: int) -> bool:
    at = last_visible(segment.text, at)
    while at and segment.text[at - 1] in OPENERS:
        at = last_visible(segment.text, at - 1)
    return at == 0 or segment.text[at - 1] in TERMINALS + ":" + CLOSERS
