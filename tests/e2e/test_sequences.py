"""An editor orders a sequence's shots in a real browser: by dragging, and by keyboard."""

import pytest
from playwright.sync_api import expect

from generations.sequences import services as sequences
from generations.sequences.models import Shot
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _titles(sequence):
    return list(
        Shot.objects.filter(sequence=sequence).order_by("position").values_list("title", flat=True)
    )


def test_shots_are_reordered_by_drag_and_by_keyboard(
    browser, live_server, project, editor, screenshot
):
    sequence = sequences.sequence_create(project=project, user=editor, title="Spring ad")
    for title in ("Harbour", "Gulls", "Boat"):
        sequences.shot_add(sequence=sequence, user=editor, title=title, target_seconds=4)
    page = sign_in(browser, live_server, editor, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.uuid}/sequences/{sequence.uuid}/")
    cards = page.locator("[data-shot] .card-title")
    expect(cards).to_have_text(["1 Harbour", "2 Gulls", "3 Boat"])

    # Drag the last shot onto the first: it takes the first place.
    page.locator("[data-shot]", has_text="Boat").drag_to(page.locator("[data-shot]").first)
    expect(cards).to_have_text(["1 Boat", "2 Harbour", "3 Gulls"])
    assert _titles(sequence) == ["Boat", "Harbour", "Gulls"]

    # Alt+ArrowDown moves the focused shot one place later, and the focus stays with it.
    page.locator("[data-shot]", has_text="Boat").focus()
    page.keyboard.press("Alt+ArrowDown")
    expect(cards).to_have_text(["1 Harbour", "2 Boat", "3 Gulls"])
    expect(page.locator("[data-shot]", has_text="Boat")).to_be_focused()
    assert _titles(sequence) == ["Harbour", "Boat", "Gulls"]

    # The buttons do the same without a pointer's drag.
    page.get_by_role("button", name="Move shot 3 earlier").click()
    expect(cards).to_have_text(["1 Harbour", "2 Gulls", "3 Boat"])
    screenshot(page, "board")
