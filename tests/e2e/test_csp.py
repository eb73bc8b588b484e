"""The Content-Security-Policy in a real browser: every main page loads, its htmx sections
swap in and its video plays, and Chromium reports no violation of the policy.

Violations are caught two ways: a `securitypolicyviolation` listener installed before any
page script runs, and Chromium's console errors ("Refused to ... because it violates the
following Content Security Policy directive"). The header itself is checked in
tests/test_security_headers.py.
"""

import pytest
from django.core.files import File
from playwright.sync_api import expect

from generations.jobs.models import Attempt, Generation, GenerationEvent, JobState
from generations.prompts import services as prompt_service
from generations.prompts.models import LibraryEntry
from tests import mediafiles
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} `
                    + `at ${e.sourceFile}:${e.lineNumber} ${e.sample || ""}`);
});
"""


@pytest.fixture
def stocked(project, owner, settings, tmp_path):
    """A project with a prompt, a library entry and a finished video with its poster."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }
    prompt = prompt_service.prompt_create(
        project=project,
        author=owner,
        title="Harbour at dawn",
        elements={"shot": "A wide shot of a harbour at dawn", "action": "Gulls lift off"},
        settings={"model": "ltx-2-fast", "duration": 6},
    )
    prompt_service.prompt_version_save(
        prompt=prompt,
        author=owner,
        based_on=prompt.current_version,
        elements={"shot": "A wide shot of a harbour at dusk", "action": "Gulls lift off"},
        text="",
        settings={"model": "ltx-2-fast", "duration": 6},
        note="dusk",
        title="Harbour at dawn",
    )
    prompt_service.prompt_comment_add(
        prompt=prompt, version=prompt.current_version, author=owner, body="Warmer light?"
    )
    entry = LibraryEntry.objects.create(
        project=project, kind="character", name="Mara", description="A fisherwoman in her 60s"
    )
    generation = Generation.objects.create(
        project=project,
        prompt_version=prompt.current_version,
        requested_by=owner,
        endpoint="text-to-video",
        params={"prompt": "A harbour", "model": "ltx-2-fast", "duration": 2, "fps": 25},
        estimated_cost="0.08",
        final_cost="0.08",
        state=JobState.SUCCEEDED,
        attempt_count=1,
        video_info={"width": 320, "height": 180, "fps": 25, "frames": 50, "duration": 2.0},
    )
    GenerationEvent.objects.create(generation=generation, to_state=JobState.SUCCEEDED)
    Attempt.objects.create(
        generation=generation, number=1, outcome=Attempt.Outcome.DELIVERED, http_status=200
    )
    video = mediafiles.make_video(tmp_path, frames=50, faststart=True)
    poster = mediafiles.make_image(tmp_path, "JPEG", size=(320, 180))
    with open(video, "rb") as v, open(poster, "rb") as p:
        generation.video.save("video.mp4", File(v), save=False)
        generation.poster.save("poster.jpg", File(p), save=False)
    generation.save()
    return {"prompt": prompt, "entry": entry, "generation": generation}


def violations(page) -> list[str]:
    return page.evaluate("window.__csp || []")


def test_main_pages_load_without_a_csp_violation(browser, live_server, project, owner, stocked):
    page = sign_in(browser, live_server, owner, PASSWORD)
    page.context.add_init_script(LISTEN)
    console: list[str] = []
    page.on(
        "console",
        lambda m: (
            console.append(m.text)
            if m.type == "error" and "Content Security Policy" in m.text
            else None
        ),
    )
    p = f"{live_server.url}/projects/{project.uuid}"
    prompt, entry, generation = stocked["prompt"], stocked["entry"], stocked["generation"]
    pages = [
        f"{live_server.url}/",
        f"{p}/",
        f"{p}/generations/",
        f"{p}/generations/new/?prompt={prompt.uuid}",
        f"{p}/generations/{generation.uuid}/",
        f"{p}/prompts/",
        f"{p}/prompts/new/?template=guide",
        f"{p}/prompts/{prompt.uuid}/",
        f"{p}/prompts/{prompt.uuid}/history/",
        f"{p}/library/",
        f"{p}/library/{entry.uuid}/",
        f"{p}/activity/",
        f"{p}/members/",
        f"{p}/settings/",
        f"{p}/spend/",
        f"{live_server.url}/spend/",
        f"{live_server.url}/account/api-tokens/",
        f"{live_server.url}/password/change/",
    ]
    found = {}
    for url in pages:
        response = page.goto(url)
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
        if problems := violations(page) + console:
            found[url] = problems
            console.clear()
    assert not found, f"CSP violations: {found}"

    # The htmx parts: the live preview as one types, the estimate as settings change.
    page.goto(f"{p}/prompts/{prompt.uuid}/")
    page.get_by_label("Action").fill("Gulls lift off and circle the mast")
    expect(page.locator("#preview, .composed").first).to_contain_text("circle the mast")
    page.goto(f"{p}/generations/new/?prompt={prompt.uuid}")
    page.get_by_label("Duration").select_option("10")
    expect(page.locator("#estimate")).to_have_text("0.40 USD")
    # The player: the video loads and plays under media-src.
    page.goto(f"{p}/generations/{generation.uuid}/")
    video = page.locator("video")
    duration = video.evaluate(
        """v => new Promise(done => {
             if (v.readyState >= 1) return done(v.duration);
             v.addEventListener('loadedmetadata', () => done(v.duration), {once: true});
           })"""
    )
    assert duration == pytest.approx(2, abs=0.1)
    page.wait_for_load_state("networkidle")
    assert not violations(page) and not console, violations(page) + console

    # Signed out: the sign-in and password reset pages.
    anonymous = browser.new_context()
    anonymous.add_init_script(LISTEN)
    guest = anonymous.new_page()
    for url in (f"{live_server.url}/login/", f"{live_server.url}/password/reset/"):
        guest.goto(url)
        guest.wait_for_load_state("networkidle")
        assert not violations(guest), (url, violations(guest))
    anonymous.close()


def test_the_policy_really_blocks_injected_script(browser, live_server, project, owner, stocked):
    """The listener works: markup that slipped through would be refused, and reported."""
    page = sign_in(browser, live_server, owner, PASSWORD)
    page.context.add_init_script(LISTEN)
    page.goto(f"{live_server.url}/projects/{project.uuid}/")
    page.evaluate(
        """() => {
             window.__ran = false;
             const s = document.createElement('script');
             s.textContent = 'window.__ran = true';
             document.body.appendChild(s);
             const d = document.createElement('div');
             d.setAttribute('style', 'color: red');
             document.body.appendChild(d);
           }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran") is False
    reported = " ".join(violations(page))
    assert "script-src" in reported and "style-src" in reported, reported


def test_the_admin_works_under_the_policy_too(browser, live_server, project):
    from tests.factories import UserFactory

    staff = UserFactory(is_staff=True, is_superuser=True)
    context = browser.new_context()
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    for url in (
        "/admin/",
        "/admin/generations/project/",
        f"/admin/generations/project/{project.pk}/change/",
        "/admin/auth/user/add/",
    ):
        response = page.goto(live_server.url + url)
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
        assert not violations(page), (url, violations(page))
    context.close()


def test_the_api_docs_run_from_our_own_files_under_the_policy(browser, live_server):
    """The JSON API's browsable docs: Swagger UI from static/vendor, started by a static
    script, lists every operation of the document, asks nothing of another origin and
    breaks no rule of the policy."""
    context = browser.new_context()
    context.add_init_script(LISTEN)
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    response = page.goto(f"{live_server.url}/api/v1/docs/")
    assert response.status == 200
    document = page.request.get(f"{live_server.url}/api/v1/openapi.json").json()
    operations = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    expect(page.locator(".opblock")).to_have_count(len(operations))
    for operation_id in operations:
        expect(page.locator(f"[id^='operations-'][id$='-{operation_id}']")).to_have_count(1)
    page.wait_for_load_state("networkidle")
    elsewhere = [url for url in asked if not url.startswith((live_server.url, "data:"))]
    assert not elsewhere, elsewhere
    assert any("/static/vendor/swagger-ui/" in url for url in asked), asked
    assert not violations(page) and not console, violations(page) + console
    context.close()
