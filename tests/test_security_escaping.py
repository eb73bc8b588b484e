"""Hostile text is shown as text, never run: every page that shows what people typed (project
names, prompts, elements, notes, comments, library descriptions, token names, ledger reasons,
the API's error messages, a file's name) is rendered with a payload in each field.

The payload of each field carries a <script>, an attribute break-out with an event handler,
a `javascript:` link, a Unicode right-to-left override and a Django template tag. Each page
is parsed like a browser would parse it and must contain no script without src, no event
handler attribute, no `javascript:` URL and no element the payload made; and the payload of
each field it shows must be there as text (or in an attribute value), so that the check is
not passed by a page that simply left the field out.

Right-to-left overrides in free text are kept as written (they are also how Arabic or Hebrew
text may be marked up by a keyboard); what they cannot do here is reach the markup. File
names are never shown to members (only the admin lists them), and stored keys never contain
them (tests/test_security_media.py).
"""

from __future__ import annotations

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from generations.jobs import queue as job_queue
from generations.jobs import services as jobs
from generations.jobs.models import Generation, JobState
from generations.projects import services as project_service
from generations.projects import tokens as token_service
from generations.prompts import services as prompt_service
from generations.prompts.models import LibraryEntry
from generations.spend import services as spend
from tests.factories import UserFactory

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "exe.png" shows as "gnp.exe"


def hostile(field: str) -> str:
    return (
        f'<script>alert("{field}")</script>{{{{ 7|add:7 }}}}{{% debug %}}'
        f'"><img src=x onerror=alert("{field}")>'
        f"'><svg onload=alert(1)><a href=\"javascript:alert('{field}')\">{field}</a>"
        f"{RLO}gnp.exe"
    )


def marker(field: str) -> str:
    """The part of a field's payload that must appear, as text, where the field is shown."""
    return f'<script>alert("{field}")</script>'


class Audit(HTMLParser):
    """What a browser would build from the page: anything live that the payload could make."""

    URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "data", "xlink:href"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self.attribute_values: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "script":
            self._in_script = True
            if not values.get("src"):
                self.problems.append("a <script> without src")
        if tag in ("iframe", "object", "embed", "base", "svg") and "viewbox" not in values:
            self.problems.append(f"an injected <{tag}>")
        if tag == "img" and values.get("src") == "x":
            self.problems.append("the payload's <img>")
        for name, value in attrs:
            self.attribute_values.append(value or "")
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name in self.URL_ATTRIBUTES and (value or "").strip().lower().startswith(
                ("javascript:", "vbscript:", "data:text/html")
            ):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name in ("style",):
                self.problems.append(f"<{tag} style=...>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.problems.append(f"script content {data[:40]!r}")
        self.text.append(data)

    def shows(self, text: str) -> bool:
        return text in "".join(self.text) or any(text in v for v in self.attribute_values)


def audit(response) -> Audit:
    assert response.status_code in (200, 400), response.status_code
    parser = Audit()
    parser.feed(response.content.decode())
    parser.close()
    return parser


@pytest.fixture
def hostile_project(project, owner, editor, producer, monkeypatch):
    """A project where every field people type carries its payload."""
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)
    project.name = hostile("project-name")[:200]
    project.description = hostile("project-description")
    project.save()
    LibraryEntry.objects.create(
        project=project, kind="character", name="Mara", description=hostile("library")
    )
    elements = {name: hostile(name) + " @Mara" for name in ("shot", "action", "camera")}
    prompt = prompt_service.prompt_create(
        project=project,
        author=editor,
        title=hostile("prompt-title")[:200],
        elements=elements,
        settings={"model": "ltx-2-fast", "duration": 6},
        note=hostile("note-1")[:300],
    )
    prompt_service.prompt_version_save(
        prompt=prompt,
        author=editor,
        based_on=prompt.current_version,
        elements={**elements, "scene": hostile("scene")},
        text="",
        settings={"model": "ltx-2-fast", "duration": 6},
        note=hostile("note-2")[:300],
        title=prompt.title,
    )
    prompt_service.prompt_comment_add(
        prompt=prompt, version=prompt.current_version, author=editor, body=hostile("comment")
    )
    generation = jobs.job_submit(
        project=project,
        user=editor,
        endpoint="text-to-video",
        prompt_version=prompt.current_version,
        params={
            "prompt": hostile("generation-prompt"),
            "model": "ltx-2-fast",
            "duration": 6,
            "resolution": "1920x1080",
        },
    )
    # As if the API had refused it, echoing the prompt in its message.
    Generation.objects.filter(pk=generation.pk).update(
        state=JobState.FAILED, error_type="invalid_request_error", error_message=hostile("error")
    )
    spend.ledger_adjust(
        project=project, user=producer, amount=Decimal("1.00"), reason=hostile("reason")[:250]
    )
    token_service.token_create(user=owner, name=hostile("token")[:100])
    return {"prompt": prompt, "generation": generation}


def pages(project, prompt, generation) -> dict[str, tuple[str, list[str]]]:
    """Each page: its URL, and the fields it shows."""
    p, q, g = project.uuid, prompt.uuid, generation.uuid
    return {
        "home": (reverse("home"), ["project-name"]),
        "project": (reverse("project", args=[p]), ["project-name", "project-description"]),
        "gallery": (reverse("gallery", args=[p]), ["prompt-title", "error"]),
        "card": (reverse("generation_card", args=[p, g]), ["prompt-title", "error"]),
        "generation": (
            reverse("generation", args=[p, g]),
            ["generation-prompt", "error", "prompt-title"],
        ),
        "prompts": (reverse("prompts", args=[p]), ["prompt-title"]),
        "prompt": (
            reverse("prompt", args=[p, q]),
            ["prompt-title", "shot", "scene", "action", "camera", "comment"],
        ),
        "history": (
            reverse("prompt_history", args=[p, q]),
            ["scene", "shot", "note-1", "note-2"],
        ),
        "library": (reverse("library", args=[p]), []),  # descriptions are cut to 140 chars
        "library entry": (
            reverse("library_entry", args=[p, LibraryEntry.objects.get().uuid]),
            ["library"],
        ),
        "activity": (reverse("activity", args=[p]), ["prompt-title"]),
        "members": (reverse("members", args=[p]), ["project-name"]),
        "spend": (reverse("spend", args=[p]), ["reason", "prompt-title"]),
        "spend overview": (reverse("spend_overview"), ["project-name"]),
        "api tokens": (reverse("api_tokens"), ["token"]),
        "settings": (reverse("project_settings", args=[p]), ["project-name"]),
        "new generation": (
            reverse("generation_new", args=[p]) + f"?prompt={q}",
            ["prompt-title"],
        ),
    }


def test_every_page_shows_hostile_text_as_text(client, owner, project, hostile_project):
    client.force_login(owner)
    found = {}
    for name, (url, fields) in pages(project, **hostile_project).items():
        page = audit(client.get(url))
        # Template syntax in the data is data too: it follows the marker, untouched.
        missing = [f for f in fields if not page.shows(marker(f) + "{{ 7|add:7 }}")]
        if page.problems or missing:
            found[name] = {"live markup": page.problems, "not shown": missing}
    assert not found, found


def test_the_live_preview_and_the_library_menu_escape(client, owner, project, hostile_project):
    client.force_login(owner)
    data = {name: hostile(name) + " @Mara" for name in ("shot", "action", "camera")}
    preview = audit(
        client.post(reverse("prompt_compose", args=[project.uuid]), data, HTTP_HX_REQUEST="true")
    )
    assert not preview.problems, preview.problems
    for field in ("shot", "action", "camera", "library"):  # @Mara expands to its description
        assert preview.shows(marker(field)), field
    menu = client.get(reverse("library_names", args=[project.uuid]), {"q": "Ma"})
    assert menu["Content-Type"] == "application/json"
    assert menu.json()["entries"][0]["description"] == hostile("library")


def test_form_errors_echo_hostile_input_as_text(client, owner, project, hostile_project):
    client.force_login(owner)
    url = reverse("generation_new", args=[project.uuid])
    bad_image = SimpleUploadedFile(
        f'"><img src=x onerror=alert(1)>{RLO}gnp.exe', b"MZ not an image", "image/png"
    )
    response = client.post(
        url,
        {
            "endpoint": "image-to-video",
            "prompt_text": hostile("typed-prompt"),
            "model": "ltx-2-fast",
            "resolution": "1920x1080",
            "duration": "6",
            "fps": "25",
            "image": bad_image,
        },
    )
    assert response.status_code == 400
    page = audit(response)
    assert not page.problems, page.problems
    assert page.shows(marker("typed-prompt"))
    # A refused library entry and token name come back in their forms, escaped.
    response = client.post(
        reverse("library", args=[project.uuid]),
        {"kind": "location", "name": "<b>bad</b>", "description": hostile("new-entry")},
    )
    page = audit(response)
    assert response.status_code == 400 and not page.problems
    assert page.shows(marker("new-entry"))
    response = client.post(reverse("api_token_create"), {"name": hostile("x") * 2})
    page = audit(response)
    assert response.status_code == 400 and not page.problems


def test_messages_carry_hostile_names_as_text(client, owner, project, hostile_project):
    """Flash messages quote titles ("Duplicated as ..."): escaped like everything else."""
    client.force_login(owner)
    prompt = hostile_project["prompt"]
    response = client.post(
        reverse("prompt_duplicate", args=[project.uuid, prompt.uuid]), follow=True
    )
    page = audit(response)
    assert not page.problems, page.problems
    assert page.shows("Duplicated as " + marker("prompt-title"))


def test_invitations_and_usernames_refuse_markup(client, owner, project):
    """Where a name is an identifier, markup is refused outright rather than escaped."""
    from django.contrib.auth.validators import UnicodeUsernameValidator
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        UnicodeUsernameValidator()("<script>alert(1)</script>")
    with pytest.raises(ValidationError):
        UnicodeUsernameValidator()(f"admin{RLO}nimda")
    client.force_login(owner)
    response = client.post(
        reverse("invitation_new", args=[project.uuid]),
        {"email": '"><img src=x onerror=alert(1)>@example.com', "roles": ["viewer"]},
    )
    assert response.status_code == 400
    assert not project_service.project_open_invitations(project=project).exists()
    assert not audit(response).problems


def test_the_json_api_is_never_sniffed_as_html(client, editor, project, hostile_project):
    _, raw = token_service.token_create(user=editor, name="script")
    generation = hostile_project["generation"]
    response = client.get(
        f"/api/v1/projects/{project.uuid}/generations/{generation.uuid}/",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.json()["params"]["prompt"] == hostile("generation-prompt")


def test_admin_lists_file_names_escaped(client, project, editor, tmp_path, settings):
    """The one place a file's own name is shown: the admin's list of inputs."""
    from generations.jobs.models import MediaAsset

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    MediaAsset.objects.create(
        project=project,
        kind="image",
        file="projects/x/inputs/y",
        original_name=hostile("file-name")[:255],
        mime="image/png",
        size_bytes=1,
        sha256="0" * 64,
    )
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get("/admin/generations/mediaasset/")
    assert response.status_code == 200
    content = response.content.decode()
    assert '<img src=x onerror=alert("file-name")>' not in content
    assert "&lt;script&gt;alert(&quot;file-name&quot;)&lt;/script&gt;" in content


def test_timeline_comments_and_guests_are_shown_as_text(
    client, owner, editor, reviewer, project, settings, tmp_path, monkeypatch
):
    """Review comments are plain text with http(s) links made clickable: never a live tag,
    never a javascript: link; a guest's name and comment on a share link likewise."""
    from generations.review import comments, shares
    from tests.reviewing import finished, private_media

    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)
    private_media(settings, tmp_path)
    generation = finished(project, editor, "Lighthouse at night")
    body = hostile("timeline") + " see https://example.com/ref?a=1&b=2 or javascript:alert(1)"
    comments.comment_add(version=generation.version, author=editor, body=body, start_seconds=1)
    link, token = shares.share_create(
        project=project, user=reviewer, stack=generation.version.stack
    )
    comments.comment_add(
        version=generation.version,
        body=hostile("guest-comment"),
        share_link=link,
        guest_name=hostile("guest-name")[:60],
        start_seconds=2,
    )
    client.force_login(owner)
    review = client.get(reverse("review", args=[project.uuid, generation.uuid]))
    page = audit(review)
    assert not page.problems, page.problems
    for field in ("timeline", "guest-comment"):
        assert page.shows(marker(field)), field
    assert '<a href="https://example.com/ref?a=1&amp;b=2"' in review.content.decode()
    client.logout()
    guest = audit(client.get(reverse("share_version", args=[token, generation.uuid])))
    assert not guest.problems, guest.problems
    assert guest.shows(marker("guest-comment"))
