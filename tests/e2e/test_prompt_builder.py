"""A drafter builds a prompt in a real browser; a second drafter's stale save is caught."""

import re

import pytest
from playwright.sync_api import expect

from generations.prompts.models import Prompt
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_build_compose_check_save_and_conflict(
    browser, live_server, project, editor, owner, screenshot
):
    page = sign_in(browser, live_server, editor, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.uuid}/prompts/")
    page.get_by_role("button", name="Blank prompt").click()
    page.get_by_label("Title").fill("Harbour at dawn")
    page.get_by_label("Shot", exact=True).fill("A wide establishing shot, documentary style")
    page.get_by_label("Scene").fill("Warm morning light on a quiet harbour, mist on the water")
    page.get_by_label("Action").fill("A fisherman coils a rope and looks up at the sky")
    page.get_by_label("Character(s)").fill("An old sad fisherman in a yellow raincoat")
    # Composed live, and the guide's checks appear next to the words.
    preview = page.locator("#preview")
    expect(preview).to_contain_text("A wide establishing shot, documentary style.")
    expect(preview.locator("mark", has_text="sad")).to_be_visible()
    # A helpful-term chip inserts into its element.
    page.get_by_text("Helpful terms for camera movement").click()
    page.get_by_role("button", name="Pushes in / pulls back").click()
    expect(page.get_by_label("Camera movement")).to_have_value(re.compile("pushes in"))
    # Only valid settings are offered.
    page.get_by_label("Model").select_option("ltx-2-pro")
    expect(page.locator("#id_duration option")).to_have_count(3)
    screenshot(page, "builder")
    page.get_by_role("button", name="Save v1").click()
    expect(page.get_by_text("Saved Harbour at dawn v1")).to_be_visible()
    prompt = Prompt.objects.get(title="Harbour at dawn")
    assert prompt.current_version.settings["model"] == "ltx-2-pro"

    # Two drafters open v1; the owner saves first, the editor's save is caught.
    other = sign_in(browser, live_server, owner, PASSWORD)
    other.goto(page.url)
    page.get_by_label("Action").fill("A fisherman drops the rope into the water")
    other.get_by_label("Scene").fill("Heavy rain on a grey harbour")
    other.get_by_role("button", name="Save as v2").click()
    expect(other.get_by_text("Saved Harbour at dawn v2")).to_be_visible()
    page.get_by_role("button", name="Save as v2").click()
    # Each changed a different element: both changes are kept, nothing is asked.
    expect(page.get_by_text(f"{owner.username} saved v2 while you edited")).to_be_visible()
    expect(page.get_by_text("are both in v3")).to_be_visible()
    prompt.refresh_from_db()
    merged = prompt.current_version
    assert merged.scene == "Heavy rain on a grey harbour"
    assert merged.action == "A fisherman drops the rope into the water"

    # History shows the word-level differences.
    page.get_by_role("link", name="History and differences").click()
    expect(page.locator(".diff ins").first).to_be_visible()
    screenshot(page, "history")

    # At a phone's width the builder is one column, with nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/projects/{project.uuid}/prompts/{prompt.uuid}/")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    screenshot(page, "phone")


def test_the_preview_answers_from_the_first_keystroke_with_no_title_yet(
    browser, live_server, project, editor
):
    page = sign_in(browser, live_server, editor, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.uuid}/prompts/new/")
    expect(page.get_by_label("Title")).to_have_value("")
    page.get_by_label("Action").fill("A keeper climbs the stairs slowly")
    preview = page.locator("#preview")
    expect(preview).to_contain_text("A keeper climbs the stairs slowly")
    # Saving still needs the title: the browser asks for it, nothing is saved.
    page.get_by_role("button", name=re.compile("Save")).first.click()
    assert not Prompt.objects.exists()


# Each select's widest choice against the room its box gives the words (its padding holds
# the arrow): measured with the select's own font.
WIDEST_CHOICES = """() => {
  const pen = document.createElement('canvas').getContext('2d');
  return [...document.querySelectorAll('main select')].map((select) => {
    const style = getComputedStyle(select);
    pen.font = style.font;
    const words = Math.max(...[...select.options].map((o) => pen.measureText(o.text).width));
    const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
    const room = select.clientWidth - padding;
    return [select.name, Math.ceil(words), Math.floor(room)];
  });
}"""


@pytest.mark.parametrize("width", [360, 768, 1024, 1280])
def test_every_setting_shows_its_choices_whole_at_any_width(
    browser, live_server, project, editor, width
):
    """At a phone's width the camera motion's first choice was cut, and at 1024 px, beside
    the preview, the four settings' cells were narrower than "1920x1080"."""
    page = sign_in(browser, live_server, editor, PASSWORD)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/projects/{project.uuid}/prompts/new/?template=guide")
    measured = page.evaluate(WIDEST_CHOICES)
    assert {name for name, _, _ in measured} == {
        "model",
        "resolution",
        "fps",
        "duration",
        "camera_motion",
    }
    cut = [(name, words, room) for name, words, room in measured if words > room]
    assert not cut, cut
