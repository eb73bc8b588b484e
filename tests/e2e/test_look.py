"""The look (issue #24) in Chromium: dark by default and light when the system asks, or as
each person chooses; readable in both (text, badges, focus rings, the spend chart); posters
scrubbed by their sprite strips under the pointer, portrait ones upright; the review page's
player in view while its comments scroll. And a screenshot of each main page in both themes
(test-artifacts/screenshots/, kept by CI)."""

import re

import pytest
from playwright.sync_api import expect

from generations.jobs import queue as job_queue
from generations.jobs import run as job_run
from generations.jobs import services as jobs
from generations.jobs.models import Generation, JobState
from generations.review import comments
from generations.sequences import services as sequences
from tests.e2e.conftest import sign_in
from tests.e2e.test_csp import LISTEN
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("small_renders")]

TAKE = {"model": "ltx-2-3-fast", "duration": 2, "fps": 24}
WIDE, TALL = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


def made(project, user, version, resolution):
    generation = jobs.job_submit(
        project=project,
        user=user,
        endpoint="text-to-video",
        params={"prompt": version.text, "resolution": resolution, **TAKE},
        prompt_version=version,
    )
    job_run.generation_execute(generation_id=generation.pk)  # the simulator answers
    generation.refresh_from_db()
    assert generation.state == JobState.SUCCEEDED, generation.error_message
    return generation


@pytest.fixture
def world(project, owner, simulator, settings, monkeypatch):
    """A sequence of three shots: a landscape take with many comments, a portrait take, and
    a take stored before sprites existed (its sprite taken away); a third shot has none."""
    settings.LTX_API_BASE_URL = simulator.url
    settings.LTX_CAPABILITIES = "current"  # portrait sizes
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)
    monkeypatch.setattr(job_queue, "run_send", lambda *a, **k: None)
    sequence = sequences.sequence_create(project=project, user=owner, title="Spring ad")

    def shot(title, text):
        return sequences.shot_add(sequence=sequence, user=owner, title=title, prompt_text=text)

    harbour = shot("Harbour", "A wide shot of a harbour at dawn, gulls lift off the water")
    skater = shot("Skater", "A skateboarder drops into a concrete bowl, low angle")
    bay = shot("Bay", "A slow pan across a quiet bay at noon")
    sequences.shot_add(sequence=sequence, user=owner, title="Boat", target_seconds=4)
    wide = made(project, owner, harbour.prompt.current_version, "1920x1080")
    tall = made(project, owner, skater.prompt.current_version, "1080x1920")
    older = made(project, owner, bay.prompt.current_version, "1920x1080")
    assert wide.sprite and tall.sprite
    Generation.objects.filter(pk=older.pk).update(sprite="")
    for number in range(14):
        comments.comment_add(
            version=wide.version,
            author=owner,
            body=f"Note {number + 1}: the gulls lift a little early, hold the frame longer",
            start_seconds=number / 8,
        )
    base = f"/projects/{project.uuid}"
    return {
        "wide": wide,
        "tall": tall,
        "older": older,
        "pages": {
            "gallery": f"{base}/generations/",
            "prompt-builder": f"{base}/prompts/{harbour.prompt.uuid}/",
            "review": f"{base}/generations/{wide.uuid}/review/",
            "sequence-board": f"{base}/sequences/{sequence.uuid}/",
            "spend": f"{base}/spend/",
        },
    }


# -- colours -----------------------------------------------------------------------------------

# Each visible element's colour (or an SVG mark's fill or stroke) and the colour behind it: the
# nearest ancestor's background that is not transparent (the page's own at the top).
COLOURS = """([selector, property]) => {
  const opaque = (colour) =>
    colour && colour !== "transparent" && !/rgba\\(.*,\\s*0\\)$/.test(colour);
  const behind = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const bg = getComputedStyle(node).backgroundColor;
      if (opaque(bg)) return bg;
    }
    return getComputedStyle(document.documentElement).backgroundColor;
  };
  return [...document.querySelectorAll(selector)]
    .filter((el) => el.getClientRects().length)
    .map((el) => [
      getComputedStyle(el)[property], behind(el.closest("svg") || el), el.outerHTML.slice(0, 80)
    ]);
}"""


def rgb(colour: str) -> tuple[float, ...]:
    values = [float(v) for v in re.findall(r"[\d.]+", colour)[:3]]
    assert len(values) == 3, colour
    return tuple(values)


def luminance(colour: str) -> float:
    def channel(value):
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def page_background(page) -> str:
    return page.evaluate("getComputedStyle(document.documentElement).backgroundColor")


def assert_readable(page, selector, *, property="color", least=4.5, at_least_one=True):
    found = page.evaluate(COLOURS, [selector, property])
    if at_least_one:
        assert found, f"nothing matches {selector} on {page.url}"
    for colour, behind, element in found:
        ratio = contrast(colour, behind)
        assert ratio >= least, f"{element}: {colour} on {behind} is {ratio:.2f}:1 ({page.url})"


# -- the tests ---------------------------------------------------------------------------------


def test_the_theme_follows_the_system_until_a_person_chooses(browser, live_server, owner, world):
    gallery = live_server.url + world["pages"]["gallery"]
    dark = sign_in(browser, live_server, owner, PASSWORD, color_scheme="dark")
    dark.goto(gallery)
    assert luminance(page_background(dark)) < 0.05
    light = sign_in(browser, live_server, owner, PASSWORD, color_scheme="light")
    light.goto(gallery)
    assert luminance(page_background(light)) > 0.9
    expect(light.get_by_role("button", name="System")).to_have_attribute("aria-pressed", "true")

    # The switch: dark on a light system, remembered on the next page, then the system again.
    light.get_by_role("button", name="Dark", exact=True).click()
    expect(light.locator("html")).to_have_attribute("data-theme", "dark")
    expect(light).to_have_url(gallery)
    assert luminance(page_background(light)) < 0.05
    expect(light.get_by_role("button", name="Dark", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    light.goto(live_server.url + world["pages"]["spend"])
    assert luminance(page_background(light)) < 0.05
    light.get_by_role("button", name="Light", exact=True).click()
    assert luminance(page_background(light)) > 0.9
    light.get_by_role("button", name="System", exact=True).click()
    expect(light.locator("html")).not_to_have_attribute("data-theme", re.compile("."))
    assert luminance(page_background(light)) > 0.9  # the system's light, once more


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_text_badges_focus_rings_and_the_chart_are_readable(
    browser, live_server, owner, world, scheme
):
    page = sign_in(browser, live_server, owner, PASSWORD, color_scheme=scheme)
    pages = world["pages"]
    for name in ("gallery", "review", "spend", "sequence-board"):
        page.goto(live_server.url + pages[name])
        assert_readable(page, "body")
        assert_readable(page, "main p, main li, main td, main th, main h1, main h2")
        assert_readable(page, ".muted, small", at_least_one=False)
        assert_readable(page, ".badge, .review-state", at_least_one=name != "spend")
        assert_readable(page, "main a", at_least_one=False)
        # A focus ring stands out from what is behind it (3:1, as for any control's edge).
        page.locator("main a").first.focus()
        page.keyboard.press("Tab")
        assert_readable(page, ":focus-visible", property="outlineColor", least=3)
    page.goto(live_server.url + pages["spend"])
    chart = ".spend-chart svg"
    assert_readable(page, f"{chart} text")
    assert_readable(page, f"{chart} rect.charged", property="fill", least=3)
    assert_readable(page, ".legend", least=3)
    assert_readable(page, f"{chart} .axis", property="stroke", least=3)


def test_hovering_a_poster_scrubs_through_its_sprite(browser, live_server, owner, world):
    page = sign_in(browser, live_server, owner, PASSWORD)
    page.add_init_script(LISTEN)  # the strip is set through the CSSOM, which the CSP allows
    page.goto(live_server.url + world["pages"]["gallery"])
    card = page.locator(f"#card-{world['wide'].uuid}")
    scrub = card.locator(".scrub")
    expect(scrub).to_have_attribute("data-sprite", re.compile(r"/sprite\.jpg$"))
    box = card.locator(".frame").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.03, box["y"] + box["height"] / 2)
    page.mouse.move(box["x"] + box["width"] * 0.05, box["y"] + box["height"] / 2)
    expect(scrub).to_have_class(re.compile(r"\bshowing\b"))
    expect(scrub).to_have_css("background-position", "0% 0%")
    expect(scrub).to_have_css("background-size", "1000% 100%")  # ten frames
    page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] / 2)
    expect(scrub).to_have_css("background-position", re.compile(r"^55\.5+\d*% 0%$"))
    page.mouse.move(box["x"] + box["width"] * 0.97, box["y"] + box["height"] / 2)
    expect(scrub).to_have_css("background-position", "100% 0%")
    page.mouse.move(5, 5)  # off the card: the poster again
    expect(scrub).not_to_have_class(re.compile(r"\bshowing\b"))
    assert page.evaluate("window.__csp") == []

    # The portrait take stands upright, its strip laid over the poster exactly.
    tall = page.locator(f"#card-{world['tall'].uuid} .frame")
    poster, strip = tall.locator("img").bounding_box(), tall.locator(".scrub").bounding_box()
    assert poster["height"] > 1.5 * poster["width"]
    assert strip == pytest.approx(poster, abs=1)
    tall.hover(position={"x": poster["width"] - 2, "y": poster["height"] / 2})
    expect(tall.locator(".scrub")).to_have_css("background-position", "100% 0%")

    # A job stored before sprites existed: its poster, and nothing to scrub.
    older = page.locator(f"#card-{world['older'].uuid}")
    expect(older.locator("img")).to_be_visible()
    expect(older.locator(".scrub")).to_have_count(0)

    # The board's cards scrub too, and keep the portrait take upright.
    page.goto(live_server.url + world["pages"]["sequence-board"])
    board_tall = page.locator("[data-shot]", has_text="Skater").locator(".frame img")
    size = board_tall.bounding_box()
    assert size["height"] > 1.5 * size["width"]
    harbour = page.locator("[data-shot]", has_text="Harbour").locator(".frame")
    harbour.hover(position={"x": 2, "y": 10})
    expect(harbour.locator(".scrub")).to_have_css("background-position", "0% 0%")


@pytest.mark.parametrize("viewport", [WIDE, TALL], ids=["wide", "narrow"])
def test_the_player_stays_in_view_while_the_comments_scroll(
    browser, live_server, owner, world, viewport
):
    page = sign_in(browser, live_server, owner, PASSWORD, viewport=viewport)
    page.goto(live_server.url + world["pages"]["review"])
    player = page.locator(".review-main > .player")
    expect(page.locator("[data-comment]")).to_have_count(14)
    last = page.locator("[data-comment]").last
    last.scroll_into_view_if_needed()
    assert page.evaluate("window.scrollY") > 300
    box = player.bounding_box()
    assert box["y"] >= -1 and box["y"] + box["height"] <= viewport["height"] + 1, box
    comment = last.bounding_box()
    assert comment["y"] >= box["y"] + box["height"] - 1, (comment, box)  # not hidden under it
    # A marker's comment scrolled to from the timeline stops below the player.
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("[data-comment]").nth(10).evaluate("el => el.scrollIntoView({block: 'start'})")
    landed = page.locator("[data-comment]").nth(10).bounding_box()
    assert landed["y"] >= player.bounding_box()["y"] + player.bounding_box()["height"] - 1


def test_the_main_pages_in_both_themes(browser, live_server, owner, world, screenshot):
    """Screenshots for people to look at (CI keeps them); the test checks each was taken in
    the theme it names."""
    for scheme in ("dark", "light"):
        page = sign_in(browser, live_server, owner, PASSWORD, color_scheme=scheme)
        for name, path in world["pages"].items():
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            background = luminance(page_background(page))
            assert background < 0.05 if scheme == "dark" else background > 0.9
            assert "{#" not in page.inner_text("body")  # no template comment shown as text
            assert screenshot(page, f"{name}-{scheme}").stat().st_size > 0
