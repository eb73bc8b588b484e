"""Keyboard and access (#24): axe-core, vendored in static/vendor/axe-core and injected by the
tests only, finds no serious or critical WCAG 2 A/AA violation on the main pages with real
content; every control the keyboard reaches shows a focus ring, and the main actions work
from the keyboard alone."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files import File
from playwright.sync_api import expect

from generations import media
from generations.jobs import queue as job_queue
from generations.jobs.models import Generation
from generations.prompts import services as prompt_service
from generations.review import shares
from generations.review.models import ReviewDecision, TimelineComment
from generations.sequences import services as sequences
from tests import mediafiles
from tests.e2e.conftest import sign_in
from tests.factories import (
    PASSWORD,
    BudgetFactory,
    GenerationFactory,
    LedgerEntryFactory,
    ReviewDecisionFactory,
    TimelineCommentFactory,
    VersionFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).resolve().parents[2] / "static" / "vendor" / "axe-core" / "axe.min.js"
# The pages keep their Content-Security-Policy, which refuses an inline <script>: the tests
# hand axe to the browser as an init script, which the policy does not govern.
# Colours are read once Pico's transitions (a button's hover or focus fading out) are over.
RUN_AXE = """async () => {
  await Promise.all(document.getAnimations()
    .filter(a => a instanceof CSSTransition).map(a => a.finished.catch(() => null)));
  return axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']},
    resultTypes: ['violations'],
  });
}"""


def with_axe(page):
    page.context.add_init_script(path=str(AXE))
    return page


def serious_violations(page, name):
    """The serious and critical violations on the page as it is now, one line each with its
    nodes (printed too, so a failure shows them all, page by page)."""
    expect(page.locator("body")).to_be_visible()
    result = page.evaluate(RUN_AXE)
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    report = []
    for violation in bad:
        report.append(f"[{name}] {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            report.append(f"    {node['target']}: {node['html'][:200]}")
            if node.get("failureSummary"):
                report.append("      " + node["failureSummary"].replace("\n", "\n      "))
    if report:
        print("\n".join(report))
    return report


def take(project, prompt_version, directory, name, frames=50):
    """A finished job with a real stored video, placed in its prompt's stack."""
    generation = GenerationFactory(succeeded=True, project=project, prompt_version=prompt_version)
    path = mediafiles.make_video(directory, frames=frames, name=name)
    info = media.probe(path)
    with open(path, "rb") as fh:
        generation.video.save("video.mp4", File(fh), save=False)
    generation.video_info = {
        "duration": info.duration,
        "fps": info.fps,
        "frames": frames,
        "width": 320,
        "height": 180,
    }
    generation.save()
    return VersionFactory(generation=generation)


@pytest.fixture
def content(project, owner, producer, editor, reviewer, tmp_path):
    """A project as a team has it after a week: a prompt with two takes, comments and a
    decision, a sequence of two shots, a budget with spending, and share links."""
    prompt = prompt_service.prompt_create(
        project=project,
        author=editor,
        title="Harbour at dawn",
        elements={"shot": "A wide shot of a harbour at dawn", "action": "Gulls lift off"},
        settings={"model": "ltx-2-fast", "duration": 6},
    )
    v1 = take(project, prompt.current_version, tmp_path, "v1")
    v2 = take(project, prompt.current_version, tmp_path, "v2")
    TimelineCommentFactory(version=v2, author=reviewer, body="The gulls leave too early")
    TimelineCommentFactory(
        version=v2, author=editor, body="A range here", start_seconds=0.4, end_seconds=1.2
    )
    ReviewDecisionFactory(version=v1, reviewer=reviewer, state="changes_requested")
    sequence = sequences.sequence_create(project=project, user=editor, title="Spring ad")
    for title in ("Harbour", "Gulls"):
        shot = sequences.shot_add(sequence=sequence, user=editor, title=title, prompt_text=title)
        take(project, shot.prompt.current_version, tmp_path, title, frames=25)
    BudgetFactory(project=project, user=producer, amount=Decimal("20.00"))
    LedgerEntryFactory(project=project, user=producer)
    _, stack_token = shares.share_create(
        project=project, user=reviewer, stack=v2.stack, label="Acme: the harbour"
    )
    _, sequence_token = shares.share_create(
        project=project, user=reviewer, sequence=sequence, label="Acme: the ad"
    )
    return {
        "prompt": prompt,
        "v1": v1,
        "v2": v2,
        "sequence": sequence,
        "stack_token": stack_token,
        "sequence_token": sequence_token,
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_main_pages_have_no_serious_violation(
    browser, live_server, project, owner, content, scheme
):
    """In both themes: the page follows the system's colour scheme, emulated here."""
    home = f"{live_server.url}/projects/{project.uuid}"
    v2 = content["v2"]
    sequence = content["sequence"]
    pages = {
        "project list": f"{live_server.url}/",
        "project": f"{home}/",
        "gallery": f"{home}/generations/",
        "generate": f"{home}/generations/new/?prompt={content['prompt'].uuid}",
        "prompts": f"{home}/prompts/",
        "builder": f"{home}/prompts/{content['prompt'].uuid}/",
        "take": f"{home}/generations/{v2.generation.uuid}/",
        "review": f"{home}/generations/{v2.generation.uuid}/review/",
        "review queue": f"{live_server.url}/review/",
        "stack": f"{home}/stacks/{v2.stack.uuid}/",
        "compare": f"{home}/stacks/{v2.stack.uuid}/compare/",
        "sequences": f"{home}/sequences/",
        "board": f"{home}/sequences/{sequence.uuid}/",
        "player": f"{home}/sequences/{sequence.uuid}/play/",
        "spend": f"{home}/spend/",
        "shares": f"{home}/shares/",
    }
    report = []
    page = with_axe(sign_in(browser, live_server, owner, PASSWORD, color_scheme=scheme))
    for name, url in pages.items():
        page.goto(url)
        report += serious_violations(page, f"{name} ({scheme})")

    # The guests' pages and sign-in, with no account.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    context.set_default_timeout(10_000)
    guest = with_axe(context.new_page())
    guest.goto(f"{live_server.url}/share/{content['stack_token']}/")
    report += serious_violations(guest, "guest share")
    guest.get_by_role("link", name=re.compile("v2")).first.click()
    expect(guest.locator("video[data-video]")).to_be_visible()
    report += serious_violations(guest, "guest take")
    guest.goto(f"{live_server.url}/share/{content['sequence_token']}/")
    report += serious_violations(guest, "guest sequence")
    guest.goto(f"{live_server.url}/login/")
    report += serious_violations(guest, "sign-in")
    assert not report, "\n".join(report)


def test_the_pages_in_their_other_states_have_no_serious_violation(
    browser, live_server, project, owner, content
):
    """What a page shows after a step: a reason asked for, a decision counting down, the
    drawing tools in use, forms sent back with their errors, a share behind its password."""
    home = f"{live_server.url}/projects/{project.uuid}"
    report = []
    page = with_axe(sign_in(browser, live_server, owner, PASSWORD))
    page.goto(f"{home}/generations/{content['v2'].generation.uuid}/review/")
    expect(page.locator("[data-timeline]")).to_be_visible()
    page.locator("h1").click()
    page.keyboard.press("c")
    expect(page.locator("[data-reason-hint]")).to_be_visible()
    # Time enough to look at the toast before the approval it counts down to is sent.
    page.locator("form[data-undo-seconds]").evaluate("f => f.dataset.undoSeconds = '300'")
    page.locator("h1").click()
    page.keyboard.press("a")
    expect(page.locator("[data-decision-toast]")).to_contain_text("Approving in 300 s")
    page.get_by_role("button", name="Text").click()
    expect(page.locator("[data-draw-text]")).to_be_visible()
    page.get_by_role("button", name="Comment", exact=True).click()  # no text: the browser asks
    report += serious_violations(page, "review, deciding and drawing")
    page.keyboard.press("u")

    page.goto(f"{home}/generations/new/")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator(".field-error, .message.error").first).to_be_visible()
    report += serious_violations(page, "generate, with errors")
    page.goto(f"{home}/spend/")
    page.get_by_label("Alert producers at").fill("5000")
    page.get_by_role("button", name="Save the budget").click()
    expect(page.locator(".field-error").first).to_be_visible()
    report += serious_violations(page, "spend, with errors")
    page.goto(f"{home}/sequences/{content['sequence'].uuid}/")
    page.locator("details summary").first.click()
    report += serious_violations(page, "board, forms open")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    guest = with_axe(context.new_page())
    guest.goto(f"{live_server.url}/login/")
    guest.get_by_label("Username").fill("nobody")
    guest.get_by_label("Password").fill("wrong")
    guest.get_by_role("button", name="Sign in").click()
    expect(guest.locator(".message.error, .errorlist, [role=alert]").first).to_be_visible()
    report += serious_violations(guest, "sign-in, refused")
    _, token = shares.share_create(
        project=project, user=owner, stack=content["v1"].stack, password="harbour-lights"
    )
    guest.goto(f"{live_server.url}/share/{token}/")
    report += serious_violations(guest, "guest share, its password asked")
    assert not report, "\n".join(report)


# -- the keyboard ---------------------------------------------------------------------------

# Where the focus is, and whether it shows: an outline (of 3:1 or more against what is
# behind the control, WCAG 1.4.11) or a box-shadow that is there while the control has the
# focus and not without it (Pico's forms keep a shadow of their own, so a shadow alone
# proves nothing).
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const rgba = c => (c.match(/[\\d.]+/g) || []).map(Number).concat([1]).slice(0, 4);
  const luminance = ([r, g, b]) => {
    const f = v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let behind = [255, 255, 255, 1];
  for (let node = el.parentElement; node; node = node.parentElement) {
    const c = rgba(getComputedStyle(node).backgroundColor);
    if (c[3] > 0) { behind = c; break; }
  }
  const ring = getComputedStyle(el);
  const line = rgba(ring.outlineColor);
  const seen = line.slice(0, 3).map((v, i) => v * line[3] + behind[i] * (1 - line[3]));
  const [hi, lo] = [luminance(seen), luminance(behind)].sort((a, b) => b - a);
  const outline = ring.outlineStyle !== 'none' && parseFloat(ring.outlineWidth) >= 2;
  const clone = el.cloneNode(false);
  clone.removeAttribute('id');
  clone.setAttribute('tabindex', '-1');
  el.after(clone);
  const unfocused = getComputedStyle(clone).boxShadow;
  clone.remove();
  const box = el.getBoundingClientRect();
  if (!window.__seen) window.__seen = new WeakSet();
  const first = !window.__seen.has(el);
  window.__seen.add(el);
  return {
    html: el.outerHTML.slice(0, 160),
    first: first,
    visibleFocus: el.matches(':focus-visible'),
    shown: box.width > 0 && box.height > 0,
    outline: outline ? ring.outlineStyle + ' ' + ring.outlineWidth + ' ' + ring.outlineColor : '',
    contrast: (hi + 0.05) / (lo + 0.05),
    shadow: ring.boxShadow !== 'none' && ring.boxShadow !== unfocused ? ring.boxShadow : '',
  };
}"""


def ring_of(focus):
    return (focus["outline"] and focus["contrast"] >= 3) or bool(focus["shadow"])


def tab_through(page, limit=250):
    """Tab from the top of the page to its end; every control reached, with its ring."""
    page.locator("body").focus()
    page.evaluate("() => { document.activeElement.blur(); window.__seen = new WeakSet(); }")
    reached = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUSED)
        if focus is None or not focus["first"]:
            break
        reached.append(focus)
    return reached


def assert_rings(reached, name):
    missing = [
        f"  {f['html']}\n    outline: {f['outline']} (contrast {f['contrast']:.1f}),"
        f" shadow: {f['shadow']}, focus-visible: {f['visibleFocus']}, on screen: {f['shown']}"
        for f in reached
        if not (f["visibleFocus"] and f["shown"] and ring_of(f))
    ]
    assert not missing, f"{name}: {len(missing)} of {len(reached)} without a visible focus:\n" + (
        "\n".join(missing)
    )


def tab_to(page, selector, limit=250):
    """Tab (never click) until the focused element matches `selector`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return page.locator(selector)
    raise AssertionError(f"{selector} is not reached with Tab")


def test_every_control_shows_its_focus(browser, live_server, project, reviewer, editor, content):
    home = f"{live_server.url}/projects/{project.uuid}"
    page = sign_in(browser, live_server, reviewer, PASSWORD)
    page.goto(f"{home}/generations/{content['v2'].generation.uuid}/review/")
    expect(page.locator("[data-timeline]")).to_be_visible()
    reached = tab_through(page)
    assert len(reached) > 20
    assert_rings(reached, "review")

    page = sign_in(browser, live_server, editor, PASSWORD)
    page.goto(f"{home}/prompts/{content['prompt'].uuid}/")
    expect(page.locator("#preview")).to_contain_text("harbour")
    for summary in page.locator("details.chips summary").all():
        summary.evaluate("s => s.parentElement.open = true")  # the chips too
    reached = tab_through(page)
    assert len(reached) > 20
    assert_rings(reached, "builder")


def test_the_other_main_pages_show_the_focus_too(browser, live_server, project, owner, content):
    home = f"{live_server.url}/projects/{project.uuid}"
    sequence = content["sequence"]
    page = sign_in(browser, live_server, owner, PASSWORD)
    failures = []
    for name, url in {
        "project list": f"{live_server.url}/",
        "gallery": f"{home}/generations/",
        "generate": f"{home}/generations/new/?prompt={content['prompt'].uuid}",
        "stack": f"{home}/stacks/{content['v2'].stack.uuid}/",
        "board": f"{home}/sequences/{sequence.uuid}/",
        "player": f"{home}/sequences/{sequence.uuid}/play/",
        "spend": f"{home}/spend/",
        "shares": f"{home}/shares/",
    }.items():
        page.goto(url)
        try:
            reached = tab_through(page)
            assert len(reached) > 5, f"{name}: only {len(reached)} controls reached with Tab"
            assert_rings(reached, name)
        except AssertionError as failure:
            failures.append(str(failure))
    guest = browser.new_context().new_page()
    for name, url in {
        "guest share": f"{live_server.url}/share/{content['stack_token']}/",
        "sign-in": f"{live_server.url}/login/",
    }.items():
        guest.goto(url)
        try:
            assert_rings(tab_through(guest), name)
        except AssertionError as failure:
            failures.append(str(failure))
    assert not failures, "\n".join(failures)


def test_the_main_actions_work_from_the_keyboard_alone(
    browser, live_server, project, reviewer, editor, content, monkeypatch
):
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)
    monkeypatch.setattr(job_queue, "run_send", lambda *a, **k: None)
    home = f"{live_server.url}/projects/{project.uuid}"
    v1, v2 = content["v1"], content["v2"]
    page = sign_in(browser, live_server, reviewer, PASSWORD)
    page.goto(f"{home}/generations/{v2.generation.uuid}/review/")
    video = page.locator("video[data-video]")
    video.evaluate("v => v.readyState >= 1 || new Promise(r => v.onloadedmetadata = r)")
    page.locator("body").focus()

    # The first Tab offers to skip the header's links.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the content")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")

    # Play and pause: the Play button, with Enter and with Space.
    play = tab_to(page, "[data-action=play]")
    page.keyboard.press("Enter")
    page.wait_for_function("() => !document.querySelector('video[data-video]').paused")
    expect(play).to_have_text("Pause")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('video[data-video]').paused")
    page.keyboard.press("Space")
    page.wait_for_function("() => !document.querySelector('video[data-video]').paused")
    page.keyboard.press("Space")
    page.wait_for_function("() => document.querySelector('video[data-video]').paused")
    expect(play).to_have_text("Play")

    # Seek by frame: the frame buttons, and the arrows on the timeline (a slider).
    timecode = page.locator("[data-timecode]")
    tab_to(page, "[data-timeline]")
    page.keyboard.press("Home")
    expect(timecode).to_have_text("00:00:00:00")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(timecode).to_have_text("00:00:00:03")
    page.keyboard.press("ArrowLeft")
    expect(timecode).to_have_text("00:00:00:02")
    expect(page.locator("[data-timeline]")).to_have_attribute("aria-valuetext", "00:00:00:02")
    page.keyboard.press("Shift+Tab")
    expect(page.locator("[data-action=frame-forward]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(timecode).to_have_text("00:00:00:03")

    # A comment at the playhead: M, write it, Tab to Comment, Enter.
    page.locator("[data-action=frame-forward]").press("m")
    expect(page.locator("#comment-body")).to_be_focused()
    page.keyboard.type("Said with the keyboard alone")
    tab_to(page, "form[data-comment-form] button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#comments [data-comment]")).to_have_count(3)
    expect(page.locator("[data-comment-status]")).to_have_text("Comment added at 00:00:00:03")
    note = TimelineComment.objects.get(body="Said with the keyboard alone")
    assert note.start_seconds == pytest.approx(3 / 25, abs=0.01)
    # Resolve it: the list is redrawn, and the focus stays on its button, now Reopen.
    resolve = tab_to(page, f"#resolve-{note.pk}")
    page.keyboard.press("Enter")
    expect(resolve).to_have_text("Reopen")
    expect(resolve).to_be_focused()
    note.refresh_from_db()
    assert note.is_resolved

    # Request changes with the reason: Tab to the reason box, write, Tab to the button.
    tab_to(page, "#decision-comment")
    page.keyboard.type("Hold the gulls a second longer")
    tab_to(page, "button[value=changes_requested]")
    page.keyboard.press("Enter")
    expect(page.locator(".decisions")).to_contain_text("Hold the gulls a second longer")
    decision = ReviewDecision.objects.filter(version=v2).get()
    assert decision.state == "changes_requested"

    # Approve v1 the same way.
    page.goto(f"{home}/generations/{v1.generation.uuid}/review/")
    page.locator("body").focus()
    tab_to(page, "button[value=approved]")
    page.keyboard.press("Enter")
    expect(page.locator(".decisions")).to_contain_text("Approved")
    assert ReviewDecision.objects.filter(version=v1).latest("created_at").state == "approved"

    # The prompt builder: a helpful term, then the save, all from the keyboard.
    page = sign_in(browser, live_server, editor, PASSWORD)
    page.goto(f"{home}/prompts/{content['prompt'].uuid}/")
    page.locator("body").focus()
    tab_to(page, "#id_camera + details summary, .element-field:has(#id_camera) summary")
    page.keyboard.press("Enter")
    tab_to(page, "button.chip[data-target=id_camera]")
    page.keyboard.press("Enter")
    expect(page.locator("#id_camera")).not_to_have_value("")
    tab_to(page, "#prompt-form button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Saved Harbour at dawn v2")).to_be_visible()

    # Generate: Tab to the button, Enter.
    page.goto(f"{home}/generations/new/?prompt={content['prompt'].uuid}")
    page.locator("body").focus()
    before = Generation.objects.count()
    tab_to(page, ".generate-form button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile(r"Queued 1 ×"))).to_be_visible()
    assert Generation.objects.count() == before + 1

    # The board: a shot moved by its button, and the focus stays on that shot's button.
    sequences.shot_add(sequence=content["sequence"], user=editor, title="Boat")
    page.goto(f"{home}/sequences/{content['sequence'].uuid}/")
    page.locator("body").focus()
    tab_to(page, "button[aria-label='Move shot 1 later']")
    page.keyboard.press("Enter")
    expect(page.locator("[data-shot] .card-title")).to_have_text(["1 Gulls", "2 Harbour", "3 Boat"])
    expect(page.get_by_role("button", name="Move shot 2 later")).to_be_focused()

    # The sequence player: play, pause and step through the cut from its timeline.
    page.goto(f"{home}/sequences/{content['sequence'].uuid}/play/")
    page.locator("body").focus()
    tab_to(page, "[data-action=play]")
    page.keyboard.press("Enter")
    page.wait_for_function("() => !document.querySelector('video[data-video]').paused")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('video[data-video]').paused")
    tab_to(page, "[data-timeline]")
    page.keyboard.press("Shift+ArrowLeft")  # back to the start, however long it played
    page.keyboard.press("Shift+ArrowLeft")
    expect(page.locator("[data-now-shot]")).to_have_text("shot 1, v1")
    page.keyboard.press("Shift+ArrowRight")
    expect(page.locator("[data-now-shot]")).to_have_text("shot 2, v1")
    # A comment there, then back to the start, and the comment's moment again by its button.
    tab_to(page, "#comment-body")
    page.keyboard.type("Gulls leave too early")
    tab_to(page, "form[data-sequence-comment] button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("[data-comment-at]")).to_have_count(1)
    page.locator("body").focus()
    tab_to(page, "[data-timeline]")
    page.keyboard.press("Shift+ArrowLeft")
    expect(page.locator("[data-now-shot]")).to_have_text("shot 1, v1")
    tab_to(page, "[data-comment-at] button")
    page.keyboard.press("Enter")
    expect(page.locator("[data-now-shot]")).to_have_text("shot 2, v1")
