"""Punctuation shared by compose, the sentence splitter and the checks, so they agree on what
ends a sentence or opens a quotation."""

import re

TERMINALS = ".!?…。！？"
CJK_TERMINALS = "。！？"  # these end a sentence with no space after them
DOUBLE_QUOTES = '"“”„«»'
CLOSERS = "\"”’'»)]"
OPENERS = "\"“„«‘'(["


def is_terminal(char: str) -> bool:
    return bool(char) and char in TERMINALS


def wordlist(text: str) -> tuple[str, ...]:
    # Word lists are plain text, one space between words, to keep them readable.
    return tuple(text.split())


def squash(text: str) -> str:
    return " ".join(text.split())


def capitalise(text: str) -> str:
    """The first letter capitalised, past any openers; "iPhone" and "eBay" stay as written."""
    for i, char in enumerate(text):
        if char in OPENERS:
            continue
        word = re.match(r"\w+", text[i:])
        if char.islower() and not (word and any(c.isupper() for c in word.group())):
            return text[:i] + char.upper() + text[i + 1 :]
        return text
    return text


def last_visible(text: str, at: int) -> int:
    while at > 0 and text[at - 1].isspace():
        at -= 1
    return at


def skip(text: str, at: int, chars: str) -> int:
    while at < len(text) and text[at] in chars:
        at += 1
    return at
