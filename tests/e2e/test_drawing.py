"""Drawing on the frame in Chromium: a reviewer pauses, draws a rectangle and posts it with a
comment; the drawing shows over the video on that frame and on no other, follows the player
when the window is resized, and covers a portrait take's picture (not its letterbox)."""

import json
import re

import pytest
from playwright.sync_api import expect

from generations.jobs import queue as job_queue
from generations.jobs import run as job_run
from generations.jobs import services as jobs
from generations.jobs.models import JobState
from generations.review import comments
from generations.review.models import TimelineComment
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("small_renders")]

RED = "#ff0000"
# A landscape take of 6 s at 25 fps: frame 5 is 0.2 s, frame 10 is 0.4 s.
LIGHTHOUSE = {
    "prompt": "A lighthouse beam sweeps over a stormy sea",
    "model": "ltx-2-fast",
    "duration": 6,
    "resolution": "1920x1080",
    "fps": 25,
}

# The most opaque red in a little square of the drawing layer around (fx, fy), fractions of
# the frame: a stroke a few pixels wide is found wherever rounding put it.
RED_NEAR = """(canvas, [fx, fy]) => {
  const ctx = canvas.getContext("2d"), r = 4;
  const x = Math.round(fx * canvas.width), y = Math.round(fy * canvas.height);
  const data = ctx.getImageData(Math.max(0, x - r), Math.max(0, y - r), 2 * r + 1, 2 * r + 1).data;
  let best = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] > 200 && data[i + 1] < 80 && data[i + 2] < 80) best = Math.max(best, data[i + 3]);
  }
  return best;
}"""


@pytest.fixture
def pipeline(settings, simulator, monkeypatch):
    settings.LTX_API_BASE_URL = simulator.url
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)
    monkeypatch.setattr(job_queue, "run_send", lambda *a, **k: None)


def made(project, editor, **params):
    generation = jobs.job_submit(
        project=project, user=editor, endpoint="text-to-video", params=params
    )
    job_run.generation_execute(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.state == JobState.SUCCEEDED, generation.error_message
    return generation


def open_review(page, live_server, generation):
    page.goto(
        f"{live_server.url}/projects/{generation.project.uuid}/generations/{generation.uuid}/review/"
    )
    video = page.locator("video[data-video]")
    video.evaluate(
        """v => new Promise(done => {
             if (v.readyState >= 1) return done();
             v.addEventListener('loadedmetadata', () => done(), {once: true});
           })"""
    )
    return video


def red_near(layer, fx, fy):
    return layer.evaluate(RED_NEAR, [fx, fy])


def test_a_rectangle_drawn_on_a_paused_frame_shows_there_and_nowhere_else(
    browser, live_server, project, editor, reviewer, pipeline, screenshot
):
    take = made(project, editor, **LIGHTHOUSE)
    page = sign_in(browser, live_server, reviewer, PASSWORD)
    video = open_review(page, live_server, take)
    timecode = page.locator("[data-timecode]")
    layer = page.locator("[data-drawing-layer]")
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    expect(timecode).to_have_text("00:00:00:10")

    # Rectangle: the tool is pressed, and the layer takes the pointer over the picture.
    rectangle = page.get_by_role("button", name="Rectangle")
    rectangle.click()
    expect(rectangle).to_have_attribute("aria-pressed", "true")
    page.get_by_label("Colour").fill(RED)
    video.scroll_into_view_if_needed()
    box = layer.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.7, steps=6)
    page.mouse.up()
    expect(page.locator("[data-draw-status]")).to_have_text("1 shape at 00:00:00:10")
    shapes = json.loads(page.locator("[data-drawing-input]").input_value())
    assert [s["tool"] for s in shapes] == ["rect"]
    assert red_near(layer, 0.2, 0.5) > 200  # the drawing being made shows as it is drawn
    # Undo, and draw again: the tools answer the keyboard too (D for the pen, Esc to stop).
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("[data-draw-status]")).to_have_text("No drawing")
    assert red_near(layer, 0.2, 0.5) == 0
    pen = page.get_by_role("button", name="Pen (D)")
    page.keyboard.press("d")
    expect(pen).to_have_attribute("aria-pressed", "true")
    expect(rectangle).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("Escape")
    expect(pen).to_have_attribute("aria-pressed", "false")
    rectangle.focus()
    page.keyboard.press("Enter")
    expect(rectangle).to_have_attribute("aria-pressed", "true")
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.7, steps=6)
    page.mouse.up()

    # Post it with the comment, at the frame it was drawn on.
    page.locator("#comment-body").fill("Frame the keeper here")
    page.get_by_role("button", name="Comment", exact=True).click()
    posted = page.locator("#comments [data-comment][data-drawing]")
    expect(posted).to_have_count(1)
    stored = TimelineComment.objects.get()
    assert stored.start_seconds == pytest.approx(0.4)
    (rect,) = stored.drawing
    assert (rect["tool"], rect["color"]) == ("rect", RED)
    assert rect["x"] == pytest.approx(0.2, abs=0.01) and rect["w"] == pytest.approx(0.4, abs=0.01)
    assert rect["y"] == pytest.approx(0.3, abs=0.01) and rect["h"] == pytest.approx(0.4, abs=0.01)
    expect(page.locator("[data-draw-status]")).to_have_text("No drawing")  # the form is empty
    expect(rectangle).to_have_attribute("aria-pressed", "false")
    # On its frame, the posted comment's drawing is shown.
    expect(layer).to_have_attribute("data-showing", f"comment-{stored.pk}")
    assert red_near(layer, 0.2, 0.5) > 200
    screenshot(page, "drawn")

    # A frame on, and a second on: nothing. Back on its frame (its timecode): shown again.
    page.locator("h1").click()
    page.keyboard.press("ArrowRight")
    expect(timecode).to_have_text("00:00:00:11")
    expect(layer).to_have_attribute("data-showing", "")
    assert red_near(layer, 0.2, 0.5) == 0
    page.keyboard.press("Shift+ArrowRight")
    expect(timecode).to_have_text("00:00:01:11")
    expect(layer).to_have_attribute("data-showing", "")
    posted.locator(".timecode").click()
    expect(timecode).to_have_text("00:00:00:10")
    expect(layer).to_have_attribute("data-showing", f"comment-{stored.pk}")
    assert red_near(layer, 0.2, 0.5) > 200
    page.keyboard.press("ArrowLeft")
    expect(layer).to_have_attribute("data-showing", "")

    # The layer follows the player when the window narrows.
    page.keyboard.press("ArrowRight")
    page.set_viewport_size({"width": 760, "height": 900})
    page.wait_for_function(
        "([c, v]) => Math.abs(c.getBoundingClientRect().width - v.clientWidth) < 1",
        arg=[layer.element_handle(), video.element_handle()],
    )
    small, player = layer.bounding_box(), video.bounding_box()
    assert small["width"] < box["width"]
    for key in ("x", "y", "width", "height"):
        assert small[key] == pytest.approx(player[key], abs=1), key
    assert red_near(layer, 0.2, 0.5) > 200
    # The PNG of the drawing opens from the comment.
    href = posted.locator("[data-drawing-png]").get_attribute("href")
    png = page.request.get(live_server.url + href)
    assert png.ok and png.headers["content-type"] == "image/png"


def test_a_drawing_covers_a_portrait_takes_picture_not_its_letterbox(
    browser, live_server, project, editor, reviewer, pipeline, settings, screenshot
):
    settings.LTX_CAPABILITIES = "current"
    take = made(
        project,
        editor,
        prompt="A skateboarder drops into a bowl",
        model="ltx-2-3-fast",
        resolution="1080x1920",
        fps=24,
        duration=2,
    )
    rect = {"tool": "rect", "x": 0.1, "y": 0.1, "w": 0.8, "h": 0.8, "color": RED, "width": 0.02}
    drawn = comments.comment_add(
        version=take.version,
        author=reviewer,
        body="Keep him in",
        start_seconds=5 / 24,
        drawing=[rect],
    )
    page = sign_in(browser, live_server, reviewer, PASSWORD)
    page.set_viewport_size({"width": 320, "height": 900})  # narrower than the portrait player
    video = open_review(page, live_server, take)
    layer = page.locator("[data-drawing-layer]")
    page.locator(f"#comment-{drawn.pk} .timecode").click()
    expect(page.locator("[data-timecode]")).to_have_text(re.compile(r"00:00:00:05"))
    expect(layer).to_have_attribute("data-showing", f"comment-{drawn.pk}")
    canvas, element = layer.bounding_box(), video.bounding_box()
    # However the page shapes the element (held to the width, or to the sticky player's
    # height), the picture is boxed inside it, and the layer covers the picture alone: 9:16,
    # centred, as wide or as tall as the element (or both, when it has no bars).
    assert canvas["height"] / canvas["width"] == pytest.approx(16 / 9, rel=0.02)
    assert canvas["width"] <= element["width"] + 1 and canvas["height"] <= element["height"] + 1
    fills_width = canvas["width"] == pytest.approx(element["width"], abs=1)
    fills_height = canvas["height"] == pytest.approx(element["height"], abs=1)
    assert fills_width or fills_height, (canvas, element)
    for start, size in (("x", "width"), ("y", "height")):
        middle = element[start] + element[size] / 2
        assert canvas[start] + canvas[size] / 2 == pytest.approx(middle, abs=1)
    assert red_near(layer, 0.1, 0.5) > 200
    screenshot(page, "portrait-drawn")

    # Text without a pointer: Text, type it, Enter puts it in the middle of the frame.
    page.get_by_role("button", name="Text", exact=True).click()
    text = page.get_by_label("Text to place")
    expect(text).to_be_focused()
    text.fill("Too dark")
    text.press("Enter")
    (placed,) = json.loads(page.locator("[data-drawing-input]").input_value())
    assert (placed["tool"], placed["text"]) == ("text", "Too dark")
    assert 0.2 < placed["x"] < 0.5 and placed["y"] == pytest.approx(0.5, abs=0.05)
    expect(text).to_have_value("")
    page.get_by_role("button", name="Clear").click()
    expect(page.locator("[data-draw-status]")).to_have_text("Drawing cleared")
    assert page.locator("[data-drawing-input]").input_value() == ""


def test_a_rectangle_and_an_arrow_are_drawn_with_the_keyboard_alone(
    browser, live_server, project, editor, reviewer, pipeline
):
    """A tool chosen from the keyboard hands the keys to the frame: the arrows move a cursor
    (not the playhead), Enter starts and ends the shape, Escape stops and gives the focus back
    to the tool."""
    take = made(project, editor, **LIGHTHOUSE)
    page = sign_in(browser, live_server, reviewer, PASSWORD)
    open_review(page, live_server, take)
    timecode = page.locator("[data-timecode]")
    layer = page.locator("[data-drawing-layer]")
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    expect(timecode).to_have_text("00:00:00:05")
    expect(layer).not_to_have_attribute("tabindex", "0")  # no tool: not a stop for Tab

    page.get_by_label("Colour").fill(RED)
    rectangle = page.get_by_role("button", name="Rectangle")
    rectangle.focus()
    page.keyboard.press("Enter")
    expect(rectangle).to_have_attribute("aria-pressed", "true")
    expect(layer).to_be_focused()
    expect(layer).to_have_attribute("role", "application")
    expect(layer).to_have_attribute("aria-label", re.compile("rectangle: arrow keys move"))
    # From the middle: Enter, then right 0.2 and down 0.1, then Enter.
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    for _ in range(10):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("[data-draw-status]")).to_have_text("1 shape at 00:00:00:05")
    expect(timecode).to_have_text("00:00:00:05")  # the arrows drew; the playhead stayed
    (rect,) = json.loads(page.locator("[data-drawing-input]").input_value())
    assert rect["tool"] == "rect" and rect["color"] == RED
    assert (rect["x"], rect["y"]) == pytest.approx((0.5, 0.5))
    assert (rect["w"], rect["h"]) == pytest.approx((0.2, 0.1))
    assert red_near(layer, 0.7, 0.55) > 200  # its right side

    # Escape stops drawing: the focus is back on the tool, the arrows step frames again.
    page.keyboard.press("Escape")
    expect(rectangle).to_be_focused()
    expect(rectangle).to_have_attribute("aria-pressed", "false")
    expect(layer).to_have_attribute("role", "img")

    # An arrow from where the cursor was left, pointing left and up.
    arrow = page.get_by_role("button", name="Arrow")
    arrow.focus()
    page.keyboard.press("Space")
    expect(layer).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+ArrowLeft")
    page.keyboard.press("Shift+ArrowUp")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.locator("#comment-body").fill("Box the keeper, point at the lamp")
    page.get_by_role("button", name="Comment", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.locator("#comments [data-comment][data-drawing]")).to_have_count(1)
    stored = TimelineComment.objects.get()
    assert stored.start_seconds == pytest.approx(0.2)
    assert [s["tool"] for s in stored.drawing] == ["rect", "arrow"]
    assert stored.drawing[1]["points"] == [
        pytest.approx([0.7, 0.6]),
        pytest.approx([0.6, 0.5]),
    ]
