import pytest
from django.urls import reverse

from generations.core.models import Activity
from generations.prompts import services as prompt_service
from generations.prompts.models import Prompt, PromptVersion
from tests.factories import UserFactory

ELEMENTS = {
    "shot": "A wide establishing shot in the style of a documentary",
    "scene": "Warm morning light falls on a quiet harbour, mist over the water",
    "action": "A fisherman coils a rope, then looks up at the sky",
    "characters": "@Ana ties her yellow raincoat",
    "camera": "The camera slowly pushes in until the fisherman fills the frame",
    "audio": 'Gulls cry and the water laps; he says "Storm by noon."',
}
SETTINGS = {"model": "ltx-2-fast", "resolution": "1920x1080", "fps": 25, "duration": 8}


def form_data(version=None, **overrides):
    data = {"title": "Harbour", **ELEMENTS, **SETTINGS, "generate_audio": "on", "text": ""}
    if version is not None:
        data["based_on"] = version.pk
    data.update(overrides)
    return data


@pytest.fixture
def prompt(project, owner):
    return prompt_service.prompt_create(
        project=project, author=owner, title="Harbour", elements=ELEMENTS, settings=SETTINGS
    )


def url(name, project, prompt=None, **kwargs):
    args = [project.uuid] + ([prompt.uuid] if prompt else []) + list(kwargs.values())
    return reverse(name, args=args)


# -- who may do what -----------------------------------------------------------------------

ROLES = ["owner", "producer", "editor", "reviewer", "viewer", "outsider"]


def expected(allowed: set[str], ok=200):
    return {role: (ok if role in allowed else 403) for role in ROLES[:-1]} | {"outsider": 404}


ALL = set(ROLES[:-1])
WRITERS = {"owner", "editor"}
APPROVERS = {"owner", "reviewer", "producer"}
COMMENTERS = {"owner", "editor", "reviewer", "producer"}

MATRIX = [
    ("GET", "prompts", False, {}, expected(ALL)),
    ("GET", "prompt_new", False, {}, expected(WRITERS)),
    ("POST", "prompt_new", False, form_data(), expected(WRITERS, 302)),
    ("POST", "prompt_compose", False, ELEMENTS, expected(ALL)),
    ("GET", "prompt_settings", False, {}, expected(ALL)),
    ("GET", "prompt", True, {}, expected(ALL)),
    ("GET", "prompt_history", True, {}, expected(ALL)),
    ("POST", "prompt_duplicate", True, {}, expected(WRITERS, 302)),
    ("POST", "prompt_take_wording", True, {}, expected(WRITERS, 302)),
    ("POST", "prompt_comment", True, {"body": "Nice"}, expected(COMMENTERS, 302)),
    ("GET", "library", False, {}, expected(ALL)),
    (
        "POST",
        "library",
        False,
        {"kind": "character", "name": "Ana", "description": "x"},
        expected(WRITERS, 302),
    ),
    ("GET", "library_names", False, {}, expected(ALL)),
    ("GET", "activity", False, {}, expected(ALL)),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "name", "on_prompt", "data", "statuses"),
    MATRIX,
    ids=[f"{m} {n}" for m, n, *_ in MATRIX],
)
def test_role_matrix(
    request, client, project, prompt, role, method, name, on_prompt, data, statuses
):
    user = request.getfixturevalue(role)
    client.force_login(user)
    target = url(name, project, prompt if on_prompt else None)
    response = client.get(target) if method == "GET" else client.post(target, data)
    assert response.status_code == statuses[role]


@pytest.mark.parametrize("role", ROLES)
def test_save_restore_approve_by_role(request, client, project, prompt, role):
    client.force_login(request.getfixturevalue(role))
    version = prompt.current_version
    save = client.post(url("prompt", project, prompt), form_data(version, note="tweak"))
    restore = client.post(url("prompt_restore", project, prompt, number=1))
    approve = client.post(url("prompt_approve", project, prompt, number=1))
    assert save.status_code == expected(WRITERS, 302)[role]
    assert restore.status_code == expected(WRITERS, 302)[role]
    assert approve.status_code == expected(APPROVERS, 302)[role]


def test_anonymous_is_sent_to_sign_in(client, project, prompt):
    response = client.get(url("prompt", project, prompt))
    assert response.status_code == 302 and "/login/" in response["Location"]


# -- building and saving -------------------------------------------------------------------


def test_create_from_elements_composes_the_text(client, project, editor):
    client.force_login(editor)
    response = client.post(url("prompt_new", project), form_data(title="Dawn"))
    prompt = Prompt.objects.get(title="Dawn")
    assert response["Location"] == url("prompt", project, prompt)
    version = prompt.current_version
    assert version.number == 1 and version.author == editor
    assert version.text.startswith("A wide establishing shot in the style of a documentary.")
    assert '"Storm by noon."' in version.text
    assert version.text_edited is False
    assert version.settings == {**SETTINGS, "generate_audio": True, "camera_motion": ""}


def test_guide_template_prefills_the_structure(client, project, editor):
    client.force_login(editor)
    html = client.get(url("prompt_new", project) + "?template=guide").content.decode()
    assert "Helpful terms" in html
    assert 'data-element="shot"' in html


def test_invalid_settings_are_refused_next_to_the_field(client, project, editor):
    client.force_login(editor)
    response = client.post(
        url("prompt_new", project), form_data(model="ltx-2-pro", duration=20, title="Pro")
    )
    assert response.status_code == 400
    assert "supports durations of 6, 8, 10" in response.content.decode()
    assert not Prompt.objects.filter(title="Pro").exists()


def test_save_makes_a_new_immutable_version(client, project, prompt, editor):
    client.force_login(editor)
    v1 = prompt.current_version
    response = client.post(
        url("prompt", project, prompt),
        form_data(v1, action="A fisherman coils a rope", note="shorter action"),
    )
    assert response.status_code == 302
    prompt.refresh_from_db()
    v2 = prompt.current_version
    assert (v2.number, v2.based_on, v2.note) == (2, v1, "shorter action")
    v1.refresh_from_db()
    assert v1.action == ELEMENTS["action"]


def test_hand_edited_text_is_kept_and_marked(client, project, prompt, editor):
    client.force_login(editor)
    text = "A harbour at dawn. A fisherman coils a rope. Gulls cry. The camera pushes in."
    client.post(url("prompt", project, prompt), form_data(prompt.current_version, text=text))
    prompt.refresh_from_db()
    assert prompt.current_version.text == text
    assert prompt.current_version.text_edited is True


def test_a_stale_save_merges_what_each_changed_alone(client, project, prompt, editor, owner):
    v1 = prompt.current_version
    # The owner changes only the audio; the editor, from the same v1, only the action.
    prompt_service.prompt_version_save(
        prompt=prompt,
        author=owner,
        based_on=v1,
        elements={**v1.elements, "audio": "Distant gulls and a foghorn"},
        settings=SETTINGS,
    )
    client.force_login(editor)
    draft = form_data(v1, action="A fisherman drops the rope")
    response = client.post(url("prompt", project, prompt), draft, follow=True)
    prompt.refresh_from_db()
    merged = prompt.current_version
    assert (merged.number, merged.based_on.number) == (3, 2)
    assert merged.audio == "Distant gulls and a foghorn"  # theirs, kept
    assert merged.action == "A fisherman drops the rope"  # mine
    assert f"{owner.username} saved v2 while you edited" in response.content.decode()


def test_only_fields_both_changed_are_asked_about(client, project, prompt, editor, owner):
    v1 = prompt.current_version
    prompt_service.prompt_version_save(
        prompt=prompt,
        author=owner,
        based_on=v1,
        elements={**v1.elements, "scene": "Heavy rain on a grey harbour", "audio": "Foghorn"},
        settings=SETTINGS,
    )
    client.force_login(editor)
    draft = form_data(v1, scene="Snow on the harbour", action="A fisherman drops the rope")
    response = client.post(url("prompt", project, prompt), draft)
    assert response.status_code == 409
    html = response.content.decode()
    assert "You and" in html and "both changed this prompt" in html
    assert 'name="merge_scene"' in html and 'name="merge_action"' not in html
    assert 'name="merge_audio"' not in html
    assert "Heavy rain on a grey harbour" in html and "Snow on the harbour" in html
    assert "checked" not in html.split('id="conflict"')[1].split("</article>")[0]  # no default
    assert PromptVersion.objects.filter(prompt=prompt).count() == 2
    v2 = prompt.versions.get(number=2)
    panel = {**draft, "based_on": v2.pk, "audio": "Foghorn", "resolve": "merge"}
    panel["conflicts"] = "scene"
    undecided = client.post(url("prompt", project, prompt), panel)
    assert "Choose theirs or yours for: Scene" in undecided.content.decode()
    assert client.post(url("prompt", project, prompt), {**panel, "merge_scene": "theirs"})
    prompt.refresh_from_db()
    merged = prompt.current_version
    assert (merged.number, merged.scene, merged.audio, merged.action) == (
        3,
        "Heavy rain on a grey harbour",
        "Foghorn",
        "A fisherman drops the rope",
    )


def test_two_sessions_both_based_on_v1_only_one_wins(project, prompt, editor, owner):
    v1 = prompt.current_version
    prompt_service.prompt_version_save(
        prompt=prompt, author=owner, based_on=v1, elements=ELEMENTS, settings=SETTINGS
    )
    with pytest.raises(prompt_service.StaleSave) as caught:
        prompt_service.prompt_version_save(
            prompt=Prompt.objects.get(pk=prompt.pk),
            author=editor,
            based_on=v1,
            elements=ELEMENTS,
            settings=SETTINGS,
        )
    assert caught.value.current.number == 2


def test_restore_makes_a_new_version(client, project, prompt, editor):
    client.force_login(editor)
    client.post(url("prompt", project, prompt), form_data(prompt.current_version, shot="Close-up"))
    client.post(url("prompt_restore", project, prompt, number=1))
    prompt.refresh_from_db()
    assert prompt.current_version.number == 3
    assert prompt.current_version.shot == ELEMENTS["shot"]
    assert prompt.current_version.note == "Restored from v1"


def test_approved_label_moves_and_shows(client, project, prompt, editor, reviewer):
    client.force_login(editor)
    client.post(url("prompt", project, prompt), form_data(prompt.current_version, shot="Close-up"))
    client.force_login(reviewer)
    client.post(url("prompt_approve", project, prompt, number=1))
    prompt.refresh_from_db()
    assert prompt.approved_version.number == 1
    client.post(url("prompt_approve", project, prompt, number=2))
    prompt.refresh_from_db()
    assert prompt.approved_version.number == 2
    assert "Approved v2" in client.get(url("prompts", project)).content.decode()
    assert "Approved: v2" in client.get(url("prompt", project, prompt)).content.decode()


def test_history_shows_a_word_diff(client, project, prompt, editor):
    client.force_login(editor)
    client.post(
        url("prompt", project, prompt),
        form_data(prompt.current_version, scene="Cold evening light falls on a quiet harbour"),
    )
    html = client.get(url("prompt_history", project, prompt) + "?a=1&b=2").content.decode()
    assert "<del>Warm morning</del>" in html or "<del>Warm morning " in html
    assert "<ins>Cold evening</ins>" in html or "<ins>Cold evening " in html


def test_duplicate(client, project, prompt, editor):
    client.force_login(editor)
    client.post(url("prompt_duplicate", project, prompt))
    copy = Prompt.objects.get(title="Harbour (copy)")
    assert copy.current_version.elements == prompt.current_version.elements


# -- the live preview and settings ---------------------------------------------------------


def test_compose_partial_shows_paragraph_and_checks(client, project, editor):
    client.force_login(editor)
    response = client.post(
        url("prompt_compose", project),
        {**ELEMENTS, "characters": "A sad old man", "camera_motion": ""},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "A wide establishing shot in the style of a documentary." in html
    assert "<mark>sad</mark>" in html


def test_compose_marks_drift_from_hand_edits(client, project, editor):
    client.force_login(editor)
    html = client.post(
        url("prompt_compose", project), {**ELEMENTS, "text": "Something else entirely."}
    ).content.decode()
    assert "Edited by hand" in html


def test_settings_partial_offers_only_valid_choices(client, project, editor):
    client.force_login(editor)
    html = client.get(
        url("prompt_settings", project) + "?model=ltx-2-pro&resolution=1920x1080&fps=25&duration=20"
    ).content.decode()
    assert '<option value="20"' not in html
    assert '<option value="10"' in html
    html = client.get(
        url("prompt_settings", project) + "?model=ltx-2-fast&resolution=1920x1080&fps=25"
    ).content.decode()
    assert '<option value="20"' in html


# -- library -------------------------------------------------------------------------------


def test_library_wording_flows_into_prompts(client, project, editor, owner):
    client.force_login(editor)
    client.post(
        url("library", project),
        {
            "kind": "character",
            "name": "Ana",
            "description": "Ana, a woman of forty with grey hair,",
        },
    )
    prompt = prompt_service.prompt_create(
        project=project, author=editor, title="Shot 2", elements=ELEMENTS, settings=SETTINGS
    )
    assert "Ana, a woman of forty with grey hair, ties her yellow raincoat" in (
        prompt.current_version.text
    )
    entry = project.library.get(name="Ana")
    client.post(
        reverse("library_entry", args=[project.uuid, entry.uuid]),
        {
            "kind": "character",
            "name": "Ana",
            "description": "Ana, a woman of forty with a silver braid,",
        },
    )
    page = client.get(reverse("library_entry", args=[project.uuid, entry.uuid])).content.decode()
    assert "Shot 2" in page and "Uses older wording" in page
    client.post(url("prompt_take_wording", project, prompt), {"entry": entry.uuid})
    prompt.refresh_from_db()
    assert prompt.current_version.number == 2
    assert "silver braid" in prompt.current_version.text


def test_renaming_a_library_entry_in_use_is_refused_not_left_dangling(client, project, editor):
    """Issue #24: renaming @Ana to @Anna left every prompt naming @Ana pointing at nothing;
    the rename is refused at the name, the typed wording kept, until no prompt uses @Ana."""
    client.force_login(editor)
    client.post(
        url("library", project),
        {"kind": "character", "name": "Ana", "description": "Ana, forty, grey hair,"},
    )
    prompt_service.prompt_create(
        project=project, author=editor, title="Shot 2", elements=ELEMENTS, settings=SETTINGS
    )
    entry = project.library.get(name="Ana")
    address = reverse("library_entry", args=[project.uuid, entry.uuid])
    form = {"kind": "character", "name": "Anna", "description": "Anna, forty, a silver braid,"}
    response = client.post(address, form)
    html = response.content.decode()
    assert response.status_code == 400
    assert "@Ana is used by 1 prompt (Shot 2): change them first, or add @Anna" in html
    assert "Anna, forty, a silver braid," in html
    entry.refresh_from_db()
    assert entry.name == "Ana"
    # Its wording alone may change, and an entry nobody names may be renamed.
    assert client.post(address, {**form, "name": "Ana"}).status_code == 302
    unused = prompt_service.library_entry_save(
        project=project, user=editor, kind="location", name="Quay", description="the quay"
    )
    prompt_service.library_entry_save(
        project=project,
        user=editor,
        kind="location",
        name="OldQuay",
        description="the quay",
        entry=unused,
    )
    assert project.library.filter(name="OldQuay").exists()


def test_library_names_for_the_mention_menu(client, project, editor):
    client.force_login(editor)
    client.post(
        url("library", project),
        {"kind": "location", "name": "Harbour", "description": "the old harbour"},
    )
    data = client.get(url("library_names", project) + "?q=har").json()
    assert data["entries"][0]["name"] == "Harbour"


def test_library_names_are_unique(client, project, editor):
    client.force_login(editor)
    data = {"kind": "location", "name": "Harbour", "description": "x"}
    client.post(url("library", project), data)
    response = client.post(url("library", project), data)
    assert response.status_code == 400
    assert "@Harbour already exists" in response.content.decode()


# -- comments and activity -----------------------------------------------------------------


def test_comment_threads_and_resolve(client, project, prompt, reviewer, editor):
    client.force_login(reviewer)
    client.post(url("prompt_comment", project, prompt), {"body": "Less mist?"})
    comment = prompt.comments.get()
    assert comment.version == prompt.current_version
    client.force_login(editor)
    client.post(url("prompt_comment", project, prompt), {"body": "Done", "parent": comment.pk})
    client.post(
        url("prompt_comment_resolve", project, prompt, comment_id=comment.pk), {"resolved": "1"}
    )
    comment.refresh_from_db()
    assert comment.resolved_by == editor
    html = client.get(url("prompt", project, prompt)).content.decode()
    assert "Less mist?" in html and "Done" in html and "Resolved" in html


def test_comments_are_escaped(client, project, prompt, reviewer):
    client.force_login(reviewer)
    client.post(url("prompt_comment", project, prompt), {"body": "<script>alert(1)</script>"})
    html = client.get(url("prompt", project, prompt)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_activity_feed(client, project, prompt, viewer):
    client.force_login(viewer)
    html = client.get(url("activity", project)).content.decode()
    assert "created Harbour" in html
    assert f'<a href="{url("prompt", project, prompt)}">its prompt</a>' in html
    assert Activity.objects.filter(project=project).count() == 1


def test_prompt_list_query_count_does_not_grow(
    client, project, owner, django_assert_max_num_queries
):
    for n in range(12):
        prompt_service.prompt_create(
            project=project,
            author=UserFactory(),
            title=f"P{n}",
            elements=ELEMENTS,
            settings=SETTINGS,
        )
    client.force_login(owner)
    with django_assert_max_num_queries(6):
        response = client.get(url("prompts", project))
    assert response.status_code == 200
    assert response.content.decode().count("<tr>") == 13


def test_the_merge_reads_settings_and_the_written_text_too(project, prompt, owner):
    v1 = prompt.current_version
    theirs = prompt_service.prompt_version_save(
        prompt=prompt,
        author=owner,
        based_on=v1,
        elements=v1.elements,
        text="Their own paragraph.",
        settings={**SETTINGS, "duration": 10},
    )
    mine = {**prompt_service.version_fields(v1), "duration": 6, "camera_motion": "dolly_in"}
    merge = prompt_service.prompt_merge(base=v1, theirs=theirs, mine=mine)
    assert merge.conflicts == ("duration",)  # 8 s became 10 for them, 6 for me
    assert merge.fields["text"] == "Their own paragraph."  # only they wrote one
    assert merge.fields["camera_motion"] == "dolly_in"  # only I chose one
    assert "text" in merge.theirs_changed
    # Whitespace alone is no change.
    same = {**prompt_service.version_fields(v1), "action": f"  {v1.action}  "}
    assert prompt_service.prompt_merge(base=v1, theirs=theirs, mine=same).conflicts == ()


def test_the_history_names_every_setting_that_changed(client, project, owner, prompt):
    """Issue #24: a change of camera move or sound alone showed "ltx-2-fast 1920x1080 25 fps
    8 s → ltx-2-fast 1920x1080 25 fps 8 s", as if nothing had changed."""
    prompt_service.prompt_version_save(
        prompt=prompt,
        author=owner,
        based_on=prompt.current_version,
        elements=ELEMENTS,
        settings={**SETTINGS, "camera_motion": "dolly_in", "generate_audio": False},
    )
    client.force_login(owner)
    html = client.get(url("prompt_history", project, prompt)).content.decode()
    assert "Settings: Sound generated → none; Camera motion none → Dolly in</p>" in html
    assert "ltx-2-fast 1920x1080" not in html.split("Settings:")[1].split("</p>")[0]


def test_the_builder_names_camera_moves_as_the_generate_form_does(client, project, owner, prompt):
    client.force_login(owner)
    html = client.get(url("prompt", project, prompt)).content.decode()
    assert '<option value="dolly_in">Dolly in</option>' in html


def test_the_versions_link_offers_what_the_person_may_do(client, project, prompt, request):
    """Issue #24: "Compare, restore or approve versions" promised a viewer what it cannot do."""
    said = {
        "owner": "Compare, restore or approve versions",
        "editor": "Compare or restore versions",
        "reviewer": "Compare or approve versions",
        "viewer": "Compare its versions",
    }
    for role, words in said.items():
        client.force_login(request.getfixturevalue(role))
        assert f"{words}</a>" in client.get(url("prompt", project, prompt)).content.decode()


def test_a_reader_sees_the_builders_fields_as_read_only(client, project, prompt, viewer, editor):
    """Issue #24: a viewer could type into the builder's fields, with nothing to save them."""
    client.force_login(viewer)
    html = client.get(url("prompt", project, prompt)).content.decode()
    assert "disabled" in html.split('name="action"')[1].split(">")[0]
    assert "disabled" in html.split('name="title"')[1].split(">")[0]
    assert "You can read this prompt; editors of the project change it." in html
    client.force_login(editor)
    html = client.get(url("prompt", project, prompt)).content.decode()
    assert "disabled" not in html.split('name="action"')[1].split(">")[0]


def test_form_refusals_say_what_to_do(client, project, editor, prompt):
    """Issue #24: "This field is required." under a field said nothing a person could act on."""
    client.force_login(editor)
    saved = client.post(url("prompt", project, prompt), form_data(prompt.current_version, title=""))
    assert "Give the prompt a title" in saved.content.decode()
    added = client.post(url("library", project), {"kind": "character", "name": ""})
    html = added.content.decode()
    assert "Name it: it is typed as @Name in prompts" in html
    assert "Describe the character or location" in html
    for page in (saved, added):
        assert "This field is required" not in page.content.decode()
