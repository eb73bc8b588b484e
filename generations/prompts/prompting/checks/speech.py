"""unquoted_speech: the guide asks for spoken dialogue in quotation marks."""

import re

from generations.prompts.prompting.checks.readable_text import TEXT_BEARER
from generations.prompts.prompting.findings import (
    WARNING,
    WORDS,
    Finding,
    Segment,
    previous_word,
    quote,
    rx,
)
from generations.prompts.prompting.text import DOUBLE_QUOTES, capitalise, skip, squash, wordlist

# "Sing" and "chant" are not here: what follows them is usually a genre ("sings opera").
_SPEECH_VERB = rx(*WORDS["speech_verb"])
# Words after a speech verb that start something other than the spoken words themselves: a
# preposition ("shouts over the noise"), an object ("answers the phone", "asks him"), indirect
# speech ("says that", "asks where") or a generic noun ("asks questions", "shouts orders").
# Auxiliaries are not on the list: "asks are you okay" is a question asked aloud.
_NOT_SPOKEN = frozenset(WORDS["not_spoken"])
_DETERMINERS = frozenset(wordlist("the a an his her their its my your our this"))
_QUOTE_MARKS = DOUBLE_QUOTES + "‘'"
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
# Spoken words run to the end of the clause. Apostrophes stay inside ("don't go").
_CLAUSE = re.compile(r"[^.!?;,:\n()—–\"“”„«»‘]*")


def check_unquoted_speech(segments: list[Segment]) -> list[Finding]:
    """The guide: "Place spoken dialogue in quotation marks". Flags unquoted words after a
    speech verb (and its -ly adverbs) unless they start something other than the words spoken
    (_NOT_SPOKEN, an -ing phrase). Script-style speaker tags are not detected."""
    findings = []
    for segment in segments:
        for match in _SPEECH_VERB.finditer(segment.masked):
            before = previous_word(segment.masked, match.start())
            if before in _DETERMINERS or TEXT_BEARER.fullmatch(before):
                continue
            span = _spoken_words(segment.masked, match.end())
            if span is None:
                continue
            start, end = span
            stop = segment.text[end : end + 1] if segment.text[end : end + 1] in "!?" else "."
            message = (
                f"{quote(segment.text[start:end])} reads as spoken words without quotation "
                "marks. Put dialogue in quotes so the model voices it — e.g. "
                f"{squash(segment.text[match.start() : match.end()])} "
                f"“{capitalise(squash(segment.text[start:end]))}{stop}”"
            )
            findings.append(
                Finding("unquoted_speech", message, segment.element, start, end, WARNING)
            )
    return findings


def _spoken_words(masked: str, at: int) -> tuple[int, int] | None:
    """The span of unquoted words spoken after a speech verb ending at `at`, if any."""
    for _ in range(3):  # skip adverbs: "answers softly", "says quietly"
        word = _WORD.match(masked, skip(masked, at, " \t\n"))
        if not (word and word.group().lower().endswith("ly")) or len(word.group()) < 4:
            break
        at = word.end()
    at = skip(masked, at, " \t")
    mark = masked[at : at + 1]
    if not mark or mark.isspace() or mark in _QUOTE_MARKS:
        return None
    if mark in (":", ","):
        at = skip(masked, at + 1, " \t\n")
        if masked[at : at + 1] in tuple(_QUOTE_MARKS):
            return None
        if mark == "," and re.match(r"[^.!?\n]*[\"“”„«»‘]", masked[at:]):
            return None  # "she says, smiling, “hi”"
    word = _WORD.match(masked, at)
    if word is None:
        return None
    token = word.group().lower()
    if mark != ":" and (
        token in _NOT_SPOKEN
        or token.endswith("ing")
        or re.search(r"['’]s$", token)
        or _SPEECH_VERB.fullmatch(token)  # a list of ways to speak: "whisper, shout"
    ):
        return None
    end = at + len(_CLAUSE.match(masked, at).group().rstrip())
    return (at, end) if end > at else None
