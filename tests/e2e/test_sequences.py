"""An editor orders a sequence's shots in a real browser: by dragging, and by keyboard."""

import re

import pytest
from playwright.sync_api import expect

from generations.sequences import services as sequences
from generations.sequences.models import Shot
from tests.e2e.conftest import sign_in
from tests.e2e.test_csp import LISTEN
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


def test_the_sequence_plays_as_one_timeline_and_a_comment_lands_on_its_take(
    browser, live_server, project, editor, tmp_path, screenshot
):
    from django.core.files import File

    from generations import media
    from tests import mediafiles
    from tests.factories import GenerationFactory, VersionFactory

    sequence = sequences.sequence_create(project=project, user=editor, title="Spring ad")
    takes = []
    for title, frames in (("Harbour", 50), ("Gulls", 50)):
        shot = sequences.shot_add(sequence=sequence, user=editor, title=title, prompt_text=title)
        generation = GenerationFactory(
            succeeded=True, project=project, prompt_version=shot.prompt.current_version
        )
        path = mediafiles.make_video(tmp_path, frames=frames, name=title)
        info = media.probe(path)
        with open(path, "rb") as fh:
            generation.video.save("video.mp4", File(fh), save=False)
        generation.video_info = {"duration": info.duration, "fps": info.fps, "frames": frames}
        generation.save()
        takes.append(VersionFactory(generation=generation))
    page = sign_in(browser, live_server, editor, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.uuid}/sequences/{sequence.uuid}/play/")
    video = page.locator("[data-video]")
    expect(video).to_have_attribute("src", re.compile(str(takes[0].generation.uuid)))
    # A click three quarters along the 4 s timeline: the second take, 1 s into it.
    timeline = page.locator("[data-timeline]")
    box = timeline.bounding_box()
    timeline.click(position={"x": box["width"] * 0.75, "y": box["height"] / 2})
    expect(video).to_have_attribute("src", re.compile(str(takes[1].generation.uuid)))
    expect(page.locator("[data-now-shot]")).to_have_text("shot 2, v1")
    expect(page.get_by_label("At (seconds into the sequence)")).to_have_value(re.compile(r"^3\.0"))
    page.get_by_label("Comment").fill("Gulls leave too early")
    page.get_by_role("button", name="Comment here").click()
    expect(page.get_by_text("Shot 2, v1 at 00:00:01:00")).to_be_visible()
    expect(page.locator(".comment-mark")).to_have_count(1)
    expect(page.get_by_label("At (seconds into the sequence)")).to_have_value(re.compile(r"^3\.0"))
    comment = takes[1].comments.get()
    assert comment.start_seconds == pytest.approx(1.0, abs=0.05)
    screenshot(page, "player")


def test_a_guest_plays_a_shared_sequence_across_a_shot_boundary(
    browser, live_server, project, editor, reviewer, tmp_path, screenshot
):
    from django.core.files import File

    from generations import media
    from generations.review import shares
    from tests import mediafiles
    from tests.factories import GenerationFactory, VersionFactory

    sequence = sequences.sequence_create(project=project, user=editor, title="Spring ad")
    takes = []
    for title in ("Harbour", "Gulls"):
        shot = sequences.shot_add(sequence=sequence, user=editor, title=title, prompt_text=title)
        generation = GenerationFactory(
            succeeded=True, project=project, prompt_version=shot.prompt.current_version
        )
        path = mediafiles.make_video(tmp_path, frames=25, name=title)
        info = media.probe(path)
        with open(path, "rb") as fh:
            generation.video.save("video.mp4", File(fh), save=False)
        generation.video_info = {"duration": info.duration, "fps": info.fps, "frames": 25}
        generation.save()
        takes.append(VersionFactory(generation=generation))
    _, token = shares.share_create(
        project=project, user=reviewer, sequence=sequence, label="Acme: the ad"
    )
    # The guest has no account: a fresh browser, the link alone.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    context.add_init_script(LISTEN)  # any breach of the Content-Security-Policy, recorded
    page = context.new_page()
    page.goto(f"{live_server.url}/share/{token}/")
    expect(page.get_by_role("heading", name="Acme: the ad")).to_be_visible()
    video = page.locator("[data-video]")
    expect(video).to_have_attribute("src", re.compile(str(takes[0].generation.uuid)))
    page.get_by_role("button", name="Play").click()
    # The first take ends after a second; the player goes on into the second shot's take.
    expect(page.locator("[data-now-shot]")).to_have_text("shot 2, v1")
    expect(video).to_have_attribute("src", re.compile(f"/share/{token}/sequence/"))
    expect(video).to_have_attribute("src", re.compile(str(takes[1].generation.uuid)))
    page.wait_for_function(
        "() => { const v = document.querySelector('[data-video]'); "
        "return !v.paused && v.currentTime > 0.2; }"
    )
    page.get_by_role("button", name="Pause").click()
    # Paused, the player says Play again and has put the comment's moment at the playhead.
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    at = float(page.get_by_label("At (seconds into the sequence)").input_value())
    assert at > 1.2
    page.get_by_label("Your name").fill("Dana at Acme")
    page.get_by_label("Comment", exact=True).fill("Gulls leave too early")
    page.get_by_role("button", name="Comment here").click()
    expect(page.get_by_text("Gulls leave too early")).to_be_visible()
    # Its mark sits on the timeline where it was written, a fraction of a second included.
    mark = page.locator(".comment-mark").evaluate("m => parseFloat(m.style.left)")
    assert mark == pytest.approx(100 * at / 2, abs=2)
    comment = takes[1].comments.get()
    assert comment.guest_name == "Dana at Acme" and comment.share_link.sequence == sequence
    assert comment.start_seconds == pytest.approx(at - 1.0, abs=0.05)
    assert page.evaluate("window.__csp") == []
    screenshot(page, "guest-player")


def test_a_refused_change_on_the_board_says_why(browser, live_server, project, editor):
    """A 422 from an htmx form is the section drawn again with its error: htmx swaps it
    (the page's htmx-config), rather than leave the click without an answer."""
    sequence = sequences.sequence_create(project=project, user=editor, title="Spring ad")
    for title in ("Harbour", "Gulls"):
        sequences.shot_add(sequence=sequence, user=editor, title=title, target_seconds=4)
    page = sign_in(browser, live_server, editor, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.uuid}/sequences/{sequence.uuid}/")
    expect(page.locator("[data-shot] .card-title")).to_have_text(["1 Harbour", "2 Gulls"])
    page.get_by_text("Add a shot, import a shot list, rename").click()
    page.locator("#new-notes").fill("Low sun, long shadows")
    page.locator("#new-title").fill("   ")  # past the browser's `required`, not the server
    page.locator("#new-title").press("Enter")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("[data-shot] .card-title")).to_have_text(["1 Harbour", "2 Gulls"])
    # Refused, what was typed stays; added, the form empties for the next shot (issue #24:
    # left filled, it read as not added, and a second press added it twice).
    expect(page.locator("#new-notes")).to_have_value("Low sun, long shadows")
    page.locator("#new-title").fill("Quay")
    page.get_by_role("button", name="Add the shot").click()
    expect(page.locator("[data-shot] .card-title")).to_have_text(["1 Harbour", "2 Gulls", "3 Quay"])
    expect(page.locator("#new-title")).to_have_value("")
    expect(page.locator("#new-notes")).to_have_value("")
    expect(page.locator("#new-title")).to_be_focused()
