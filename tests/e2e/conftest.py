"""Browser tests: Playwright driving Debian's Chromium (never a downloaded browser)."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Chromium is required in CI: `make test` installs it (apt-get)")
        pytest.skip("Chromium is not installed: run `make test` as root (it apt-get installs it)")
    # Playwright's sync API runs an event loop; Django must allow sync DB calls beside it.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


@pytest.fixture(autouse=True)
def _pages_of_a_failure(request):
    """A failed browser test leaves a screenshot of every page it had open
    (test-artifacts/screenshots/<test>-FAILED-<n>.png); each test's pages are closed after it."""
    if "browser" not in request.fixturenames:
        yield
        return
    browser = request.getfixturevalue("browser")
    before = set(browser.contexts)
    yield
    opened = [context for context in browser.contexts if context not in before]
    if getattr(request.node, "call_failed", False):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pages = [page for context in opened for page in context.pages]
        for number, page in enumerate(pages, 1):
            path = ARTIFACTS / f"{request.node.name}-FAILED-{number}.png"
            try:
                page.screenshot(path=str(path), full_page=True)
            except Exception as exc:  # a crashed page must not hide the test's own failure
                print(f"no screenshot of page {number}: {exc}")
            else:
                print(f"screenshot of the failure: {path}")
    for context in opened:
        context.close()


@pytest.fixture
def screenshot(request):
    """screenshot(page, "name") saves test-artifacts/screenshots/<test>-<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def sign_in(browser, live_server, user, password, **context_options):
    """A page signed in as `user`; `context_options` go to the browser context (a viewport,
    a color_scheme to emulate)."""
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **context_options})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    return page
