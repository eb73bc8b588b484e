import pytest
from django.urls import reverse

from generations.projects.models import Membership, Project


@pytest.mark.django_db
def test_sign_in_page_and_redirect_for_anonymous(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b"Sign in" in page.content


def test_home_lists_only_my_projects(
    client, owner, outsider, project, django_assert_max_num_queries
):
    client.force_login(owner)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    names = [p.name for p in response.context["projects"]]
    assert names == [project.name]
    # htmx, CSRF header on <body>, vendored files only
    html = response.content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert "vendor/htmx/htmx-2.0.11.min.js" in html
    assert "https://" not in html.split("<body")[0]


def test_project_page_for_members_404_for_outsiders(client, project, reviewer, outsider):
    client.force_login(reviewer)
    response = client.get(reverse("project", args=[project.uuid]))
    assert response.status_code == 200
    assert b"Reviewer" in response.content
    client.force_login(outsider)
    assert client.get(reverse("project", args=[project.uuid])).status_code == 404


def test_create_project_makes_me_owner(client, outsider):
    client.force_login(outsider)
    response = client.post(reverse("project_new"), {"name": "  Launch film  "})
    project = Project.objects.get(name="Launch film")
    assert response.status_code == 302
    assert response["Location"] == reverse("project", args=[project.uuid])
    assert Membership.objects.get(project=project).roles == ["owner"]


def test_create_project_needs_a_name(client, outsider):
    client.force_login(outsider)
    before = Project.objects.count()
    response = client.post(reverse("project_new"), {"name": "   "})
    assert Project.objects.count() == before
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_name_error" role="alert">A project needs a name</small>' in page
    assert 'aria-invalid="true" aria-describedby="id_name_error"' in page


def test_a_refused_project_name_is_kept_to_be_mended(client, outsider):
    client.force_login(outsider)
    response = client.post(reverse("project_new"), {"name": "Launch film " + "n" * 200})
    assert response.status_code == 422
    assert f'value="Launch film {"n" * 200}"' in response.content.decode()
    assert not Project.objects.filter(name__startswith="Launch film").exists()


def test_the_new_project_address_shows_the_form_ready_to_type(client, owner, project):
    # Where a sign-in that asked for /projects/new/ lands: not an empty 405.
    client.force_login(owner)
    response = client.get("/projects/new/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'placeholder="Project name" value="" autofocus>' in page
    assert f">{project.name}</a>" in page


def test_api_status_partial_reports_the_simulator(client, owner, simulator, settings):
    settings.LTX_API_BASE_URL = simulator.url
    client.force_login(owner)
    response = client.get(reverse("api_status"), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html  # only the partial
    assert "Answering" in html and simulator.url in html
    assert "its root answered with HTTP 404, as expected; request id" in html


def test_only_staff_and_owners_see_where_the_api_is(client, owner, viewer, simulator, settings):
    settings.LTX_API_BASE_URL = simulator.url
    client.force_login(viewer)
    html = client.get(reverse("api_status")).content.decode()
    assert "Answering" in html and simulator.url not in html
    viewer.is_staff = True
    viewer.save()
    assert simulator.url in client.get(reverse("api_status")).content.decode()


def test_api_status_partial_reports_unreachable(client, owner, settings):
    settings.LTX_API_BASE_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    client.force_login(owner)
    html = client.get(reverse("api_status")).content.decode()
    assert "Not answering" in html
    # In words, not an exception's class name (issue #24).
    assert "the connection could not be made" in html and "ConnectionError" not in html


def test_a_new_project_says_what_to_do_first(client, project, owner, viewer, editor):
    from generations.prompts import services as prompts
    from tests.factories import GenerationFactory, VersionFactory

    url = reverse("project", args=[project.uuid])
    client.force_login(owner)
    page = client.get(url).content.decode()
    assert "Start here" in page and "Write the first prompt" in page
    assert "Plan it as a sequence" in page
    client.force_login(viewer)
    page = client.get(url).content.decode()
    assert "the project's editors write them" in page and "invite your team" not in page
    prompt = prompts.prompt_create(project=project, author=editor, title="Dawn", text="A harbour.")
    client.force_login(editor)
    assert "open one and press Generate" in client.get(url).content.decode()
    VersionFactory(
        generation=GenerationFactory(
            succeeded=True, project=project, prompt_version=prompt.current_version
        )
    )
    page = client.get(url).content.decode()
    assert "1 finished video" in page and "1 video waiting for review" in page


def test_the_waiting_for_review_count_is_what_the_review_queue_lists(
    client, project, owner, editor
):
    """Issue #24: a take superseded by a newer finished take of its shot is not in the review
    queue, so the project page's count, which links to the queue, leaves it out too."""
    from generations.prompts import services as prompts
    from tests.factories import GenerationFactory, VersionFactory

    prompt = prompts.prompt_create(project=project, author=editor, title="Dawn", text="A harbour.")
    for _ in range(2):  # two takes of one shot, neither decided
        VersionFactory(
            generation=GenerationFactory(
                succeeded=True, project=project, prompt_version=prompt.current_version
            )
        )
    client.force_login(owner)
    page = client.get(reverse("project", args=[project.uuid])).content.decode()
    assert "2 finished videos" in page and "1 video waiting for review" in page
    # Two videos of one stack are one card in the gallery: the page says so.
    assert "in the gallery, on 1 card: each shows its stack's newest version." in page
    queue = client.get(reverse("review_queue"), {"project": str(project.uuid)})
    assert len(queue.context["versions"]) == 1


def test_the_activity_feed_reads_as_sentences(client, project, editor, reviewer):
    """Issue #24: "ana asked for changes to Dawn v1", not "changes requested Dawn v1"; "a text
    to video job", not "a text-to-video generation"; and what the app noticed itself (an
    alert) is its own sentence, not "someone The LTX API account is…"."""
    from generations.core.activity import activity_record
    from generations.jobs import services as jobs
    from generations.review import services as reviews
    from tests.factories import GenerationFactory, VersionFactory

    jobs.job_submit(
        project=project,
        user=editor,
        endpoint="text-to-video",
        params={"prompt": "Dawn", "model": "ltx-2-fast", "duration": 6, "resolution": "1920x1080"},
    )
    version = VersionFactory(generation=GenerationFactory(succeeded=True, project=project))
    reviews.review_decide(
        version=version, reviewer=reviewer, state="changes_requested", comment="Warmer light"
    )
    activity_record(
        project=project, actor=None, verb="budget_alert", summary="spend passed 80 % of it"
    )
    client.force_login(editor)
    page = client.get(reverse("activity", args=[project.uuid])).content.decode()
    assert f"<strong>{editor.username}</strong> submitted a text to video job (" in page
    assert f"<strong>{reviewer.username}</strong> asked for changes to " in page
    assert f"{version.stack.title} v1: Warmer light" in page
    assert "<li>Spend passed 80 % of it" in page
    assert "someone" not in page and "text-to-video" not in page
    assert ">open</a>" not in page  # a link says what it opens: "its prompt"


def test_the_activity_feed_links_to_the_video_an_event_is_about(
    client, project, editor, reviewer, django_assert_max_num_queries
):
    """A job submitted opens the job's page; a decision or a comment opens the review where it
    was made; an event about no video (a budget alert) has no such link. The feed's queries
    do not grow with its events."""
    from generations.core.activity import activity_record
    from generations.jobs import services as jobs
    from generations.review import comments
    from generations.review import services as reviews
    from tests.factories import GenerationFactory, VersionFactory

    submitted = jobs.job_submit(
        project=project,
        user=editor,
        endpoint="text-to-video",
        params={"prompt": "Dawn", "model": "ltx-2-fast", "duration": 6, "resolution": "1920x1080"},
    )
    versions = [
        VersionFactory(generation=GenerationFactory(succeeded=True, project=project))
        for _ in range(3)
    ]
    for version in versions:
        reviews.review_decide(version=version, reviewer=reviewer, state="approved", comment="")
    comments.comment_add(version=versions[0], author=reviewer, body="Hold here", start_seconds=0.5)
    activity_record(project=project, actor=None, verb="budget_alert", summary="spend passed 80 %")
    client.force_login(editor)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("activity", args=[project.uuid])).content.decode()
    job_link = reverse("generation", args=[project.uuid, submitted.uuid])
    assert f'USD estimated) — <a href="{job_link}">the job</a>' in page
    for version in versions:
        review_link = reverse("review", args=[project.uuid, version.generation.uuid])
        assert page.count(f'<a href="{review_link}">the review</a>') == (
            2 if version == versions[0] else 1
        )
    assert "<li>Spend passed 80 % <small" in page


def test_the_settings_page_leads_to_the_budget_and_policy(client, project, owner):
    """Issue #24: an owner looking for the budget in the project's settings finds the way."""
    client.force_login(owner)
    page = client.get(reverse("project_settings", args=[project.uuid])).content.decode()
    spend_url = reverse("spend", args=[project.uuid])
    assert f'<a href="{spend_url}#budget-heading">Spend page</a>' in page
    spend = client.get(reverse("spend", args=[project.uuid])).content.decode()
    assert 'id="budget-heading"' in spend
