"""A producer sets a budget; an editor watches the estimate, has an expensive job wait for
approval and a job refused by the budget; the producer approves and reads the dashboard."""

import re

import pytest
from playwright.sync_api import expect

from generations.jobs import queue as job_queue
from generations.jobs import run as job_run
from generations.jobs.models import Generation, JobState
from generations.prompts import services as prompt_service
from generations.review import services as reviews
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("small_renders")]


def run_waiting_jobs():
    """What a worker does, here in the test's process (the simulator answers)."""
    for generation in Generation.objects.filter(state=JobState.QUEUED):
        job_run.generation_execute(generation_id=generation.pk)


def test_budget_estimate_refusal_approval_and_dashboard(
    browser, live_server, project, producer, editor, simulator, settings, monkeypatch, screenshot
):
    settings.LTX_API_BASE_URL = simulator.url
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *a: None)
    monkeypatch.setattr(job_queue, "run_send", lambda *a, **k: None)
    prompt = prompt_service.prompt_create(
        project=project,
        author=editor,
        title="Harbour at dawn",
        elements={"shot": "A wide shot of a harbour at dawn", "action": "Gulls lift off"},
        settings={"model": "ltx-2-fast", "duration": 6},
    )
    prompt_service.prompt_version_approve(
        prompt=prompt, version=prompt.current_version, user=producer
    )

    # The producer sets a budget and an approval amount.
    boss = sign_in(browser, live_server, producer, PASSWORD)
    boss.goto(f"{live_server.url}/projects/{project.uuid}/")
    boss.get_by_role("link", name="Spend").click()
    boss.get_by_label("Budget (USD)").fill("1.00")
    boss.get_by_label("Per calendar month").check()
    boss.get_by_label("Producer approval above (USD)").fill("0.30")
    boss.get_by_role("button", name="Save the budget").click()
    expect(boss.get_by_text("Budget saved")).to_be_visible()
    expect(boss.locator(".spend-headline")).to_contain_text("0.00 USD of 1.00 USD")

    # The editor watches the estimate change with the settings.
    page = sign_in(browser, live_server, editor, PASSWORD)
    new = f"{live_server.url}/projects/{project.uuid}/generations/new/?prompt={prompt.uuid}"
    page.goto(new)
    page.get_by_label("Duration").select_option("6")
    expect(page.locator("#estimate")).to_have_text(re.compile(r"^0\.24 USD · 1\.00 USD left"))
    page.get_by_label("Duration").select_option("10")
    expect(page.locator("#estimate")).to_contain_text("0.40 USD")
    expect(page.locator("#estimate")).to_contain_text("a producer approves it before it is sent")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text("wait for a producer's approval")).to_be_visible()
    expect(page.locator(".card-video").first.locator(".badge")).to_have_text("Awaiting approval")
    page.goto(new)
    page.get_by_label("Duration").select_option("6")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text("Queued 1 × Text to video")).to_be_visible()
    run_waiting_jobs()

    # The producer approves the expensive job; it runs.
    boss.reload()
    waiting = boss.locator(".approvals")
    expect(waiting).to_contain_text("Harbour at dawn v1")
    expect(waiting).to_contain_text("0.40")
    screenshot(boss, "approval")
    waiting.get_by_role("button", name="Approve").click()
    expect(boss.get_by_text("Approved: queued")).to_be_visible()
    run_waiting_jobs()

    # 0.64 spent: one more 6 s job fits (0.88), the next does not.
    page.goto(new)
    page.get_by_label("Duration").select_option("6")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text("Queued 1 × Text to video")).to_be_visible()
    page.goto(new)
    page.get_by_label("Duration").select_option("6")
    page.get_by_role("button", name="Generate").click()
    refusal = page.get_by_role("alert").filter(has_text="Not enough budget")
    expect(refusal).to_contain_text("only 0.12 USD is left of this project's 1.00 USD budget")
    screenshot(page, "refused")
    run_waiting_jobs()

    # A reviewer approves the three videos (video review: the figures count decisions).
    reviewer = MembershipFactory(project=project, roles=["reviewer"]).user
    for generation in Generation.objects.filter(state=JobState.SUCCEEDED):
        reviews.review_decide(version=generation.version, reviewer=reviewer, state="approved")

    # The dashboard: spend by day, by member, per approved video.
    boss.goto(f"{live_server.url}/projects/{project.uuid}/spend/")
    expect(boss.locator(".spend-headline")).to_contain_text("0.88 USD of 1.00 USD (88 %)")
    chart = boss.locator("figure.spend-chart svg")
    expect(chart).to_be_visible()
    expect(chart.locator("rect[fill='#1565c0']")).to_have_count(1)  # one day of charges
    by_member = boss.locator("section.spend-table").filter(has_text="By member")
    expect(by_member.locator("tbody tr")).to_have_count(1)
    expect(by_member).to_contain_text(editor.username)
    expect(by_member).to_contain_text("0.88")
    expect(boss.locator(".approved-cost")).to_contain_text(
        "0.29 USD per approved video: 0.88 USD spent"
    )
    expect(boss.get_by_text("Producers were alerted at 80 %")).to_be_visible()
    screenshot(boss, "dashboard")
    # Another period: htmx swaps the section in, and the address says which.
    boss.locator("#id_period_choice").select_option("all")
    expect(boss.locator("#breakdown-heading")).to_have_text("Where it went: all time")
    expect(boss.locator(".spend-headline")).to_contain_text("0.88 USD of 1.00 USD (88 %)")
    expect(boss).to_have_url(re.compile(r"period=all"))
    boss.get_by_role("link", name="All your projects").click()
    expect(boss.locator("table.spend-overview")).to_contain_text(project.name)
    screenshot(boss, "overview")
