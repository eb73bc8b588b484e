from hypothesis import given
from hypothesis import strategies as st

from generations.core.textdiff import word_diff


def test_word_level_changes():
    parts = word_diff("A red kite over the sea", "A blue kite over the sea at dusk")
    assert ("delete", "red") in parts
    assert ("insert", "blue") in parts
    assert any(op == "insert" and "dusk" in text for op, text in parts)
    assert ("equal", " kite over the sea") in parts


def test_identical_texts_are_one_equal_part():
    assert word_diff("same words", "same words") == [("equal", "same words")]
    assert word_diff("", "") == []


@given(st.text(), st.text())
def test_both_sides_can_be_rebuilt(old, new):
    parts = word_diff(old, new)
    assert "".join(t for op, t in parts if op != "insert") == old
    assert "".join(t for op, t in parts if op != "delete") == new


def test_a_lone_space_between_changes_joins_them():
    parts = word_diff("Warm morning light", "Cold evening light")
    assert parts == [("delete", "Warm morning"), ("insert", "Cold evening"), ("equal", " light")]
