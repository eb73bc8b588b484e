"""Word-level differences between two texts, for prompt history and save conflicts."""

import difflib
import re

TOKEN_RE = re.compile(r"\s+|[^\s]+")


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """[(op, text)] with op "equal", "insert" or "delete". A lone space between two changes
    joins them, so "Warm morning" -> "Cold evening" reads as one replacement, not two."""
    a = TOKEN_RE.findall(old or "")
    b = TOKEN_RE.findall(new or "")
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    parts: list[tuple[str, str]] = []
    deleted: list[str] = []
    inserted: list[str] = []

    def flush():
        if deleted:
            parts.append(("delete", "".join(deleted)))
        if inserted:
            parts.append(("insert", "".join(inserted)))
        deleted.clear()
        inserted.clear()

    opcodes = matcher.get_opcodes()
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            text = "".join(a[i1:i2])
            between_changes = 0 < index < len(opcodes) - 1 and (deleted or inserted)
            if between_changes and not text.strip():
                deleted.append(text)
                inserted.append(text)
                continue
            flush()
            parts.append(("equal", text))
            continue
        deleted.extend(a[i1:i2])
        inserted.extend(b[j1:j2])
    flush()
    return [(op, text) for op, text in parts if text]
