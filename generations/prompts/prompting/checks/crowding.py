"""crowding: the guide warns that too many characters or actions reduce clarity."""

import re

from generations.prompts.prompting.findings import (
    INFO,
    WARNING,
    WORDS,
    Finding,
    Segment,
    hits,
    previous_word,
    quote,
    rx,
)
from generations.prompts.prompting.sentences import sentence_spans
from generations.prompts.prompting.text import wordlist

MAX_CHARACTERS = 3
_PEOPLE = tuple(WORDS["people"])
_PERSON = rx(*_PEOPLE)
_PERSON_WORDS = frozenset(word for word in _PEOPLE if word.isalpha())
_PAIRS = frozenset({"couple", "twins"})  # "a couple", "a pair of twins": two people
_QUANTITIES: dict[str, int] = WORDS["quantities"]
# Words that end the look-back from a person noun to its quantity: "the man" is someone
# already introduced, "one of the men" too, and crowd words are handled as crowds.
_QUANTITY_STOPS = frozenset(WORDS["quantity_stops"])
_CROWD = rx(*WORDS["crowd"])
# Words that put actions side by side. "as" counts only before a subject ("as the camera
# pans", "as she turns"); "dressed as a pirate" or "such as" do not.
_SIMULTANEOUS = rx(*WORDS["simultaneous"])
_NOT_SIMULTANEOUS_BEFORE_AS = frozenset(wordlist("such well soon long much same just"))


def check_crowding(segments: list[Segment]) -> list[Finding]:
    """The guide: "Too many characters or actions reduce clarity". Warns past MAX_CHARACTERS
    people introduced (a character introduced in two elements counts twice, which the limit's
    slack absorbs) and at a sentence with two or more "while", "as the..."; crowd words get
    info only, since a background crowd can work."""
    findings = []
    total = 0
    over = None
    for segment in segments:
        for match in _PERSON.finditer(segment.masked):
            count, start = _introduction(segment.masked, match)
            if not count:
                continue
            total += count
            if total > MAX_CHARACTERS and over is None:
                over = (segment.element, start, match.end())
        for start, end in hits(_CROWD, segment):
            message = (
                f"{quote(segment.text[start:end])}: crowds are hard to render clearly. Keep the "
                "focus on one to three characters and leave the crowd in the background."
            )
            findings.append(Finding("crowding", message, segment.element, start, end, INFO))
        all_markers = [
            (start, end)
            for start, end in hits(_SIMULTANEOUS, segment)
            if previous_word(segment.masked, start) not in _NOT_SIMULTANEOUS_BEFORE_AS
        ]
        for sentence_start, sentence_end in sentence_spans(segment.text) if all_markers else ():
            markers = [m for m in all_markers if sentence_start <= m[0] < sentence_end]
            if len(markers) < 2:
                continue
            for start, end in markers:
                message = (
                    f"{len(markers) + 1} or more things happen at once in this sentence; too many "
                    "simultaneous actions reduce clarity. Let them follow one another."
                )
                findings.append(Finding("crowding", message, segment.element, start, end, WARNING))
    if over is not None:
        message = (
            f"About {total} people are introduced; too many characters reduce clarity. The model "
            "does best with one to three — focus on them and leave the rest out."
        )
        findings.append(Finding("crowding", message, *over, WARNING))
    return findings


def _introduction(masked: str, match: re.Match[str]) -> tuple[int, int]:
    """How many people a person noun introduces ("a", "two", "a group of" up to five words
    back in its clause; 0 when introduced before), and where its quantity starts."""
    window = max(0, match.start() - 100)  # five words fit in far less
    clause_start = max(masked.rfind(mark, window, match.start()) for mark in ".;:!?()\n") + 1
    clause_start = max(clause_start, window)
    words = list(re.finditer(r"[\w'’-]+", masked[clause_start : match.start()]))[-5:]
    noun = match.group().lower()
    for word in reversed(words):
        token = word.group().lower()
        if token in _QUANTITY_STOPS or token in _PERSON_WORDS:
            return 0, match.start()
        # Six digits are plenty to tell "more than three", and keep int() off huge numbers.
        count = int(token[:6]) if token.isdecimal() else _QUANTITIES.get(token)
        if count:
            if noun in _PAIRS and count == 1:
                count = 2
            return count, clause_start + word.start()
    return 0, match.start()
