"""Sequences and shots: the board, its order, the shot list in and out, the take chosen."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from generations.prompts.models import LibraryEntry, Prompt
from generations.review.models import ReviewState, Version
from generations.sequences import selectors
from generations.sequences import services as sequences
from generations.sequences.models import Shot
from generations.spend.models import LedgerEntry
from tests.factories import GenerationFactory, ReviewDecisionFactory, VersionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sequence(project, editor):
    return sequences.sequence_create(project=project, user=editor, title="Spring ad")


def _shots(sequence, editor, *titles, **fields):
    return [sequences.shot_add(sequence=sequence, user=editor, title=t, **fields) for t in titles]


def _order(sequence):
    return list(Shot.objects.filter(sequence=sequence).values_list("title", "position"))


def _take(shot, *, cost="0.24", approved=False):
    generation = GenerationFactory(
        succeeded=True, project=shot.sequence.project, prompt_version=shot.prompt.current_version
    )
    version = VersionFactory(generation=generation)
    LedgerEntry.objects.create(
        project=generation.project,
        generation=generation,
        kind=LedgerEntry.Kind.CHARGE,
        amount=Decimal(cost),
        period=dt.date.today().replace(day=1),
        reason="charged",
    )
    if approved:
        ReviewDecisionFactory(version=version, state=ReviewState.APPROVED)
    return version


def test_shots_keep_a_gapless_order_through_every_change(sequence, editor):
    one, two, three = _shots(sequence, editor, "One", "Two", "Three")
    sequences.shot_move(shot=three, to=0)
    assert _order(sequence) == [("Three", 0), ("One", 1), ("Two", 2)]
    sequences.shot_move(shot=three, to=99)  # beyond the end is last
    assert _order(sequence) == [("One", 0), ("Two", 1), ("Three", 2)]
    sequences.shot_add(sequence=sequence, user=editor, title="One and a half", after=one)
    assert [t for t, _ in _order(sequence)] == ["One", "One and a half", "Two", "Three"]
    sequences.shot_delete(shot=Shot.objects.get(title="Two"))
    assert _order(sequence) == [("One", 0), ("One and a half", 1), ("Three", 2)]


def test_duplicate_and_split_follow_the_shot_with_prompts_of_their_own(sequence, editor):
    first, last = _shots(sequence, editor, "Harbour", "Gulls", prompt_text="A harbour at dawn")
    sequences.shot_update(
        shot=first, user=editor, title="Harbour", notes="warm", target_seconds=9, prompt_text=""
    )
    copy = sequences.shot_duplicate(shot=first, user=editor)
    assert (copy.title, copy.position, copy.notes, copy.target_seconds) == (
        "Harbour (copy)",
        1,
        "warm",
        9,
    )
    assert copy.prompt_id != first.prompt_id
    assert copy.prompt.current_version.text == "A harbour at dawn"
    second = sequences.shot_split(shot=first, user=editor)
    first.refresh_from_db()
    assert (first.target_seconds, second.target_seconds, second.position) == (5, 4, 1)
    assert [t for t, _ in _order(sequence)] == ["Harbour", "Harbour (2)", "Harbour (copy)", "Gulls"]


def test_deleting_a_shot_keeps_its_prompt_takes_and_ledger(sequence, editor):
    (shot,) = _shots(sequence, editor, "Harbour", prompt_text="A harbour at dawn")
    take = _take(shot)
    sequences.shot_delete(shot=shot)
    assert not Shot.objects.exists()
    assert Prompt.objects.filter(pk=shot.prompt_id).exists()
    assert Version.objects.filter(pk=take.pk).exists()
    assert LedgerEntry.objects.filter(generation=take.generation).count() == 1


def test_editing_the_words_saves_the_prompts_next_version(sequence, editor):
    (shot,) = _shots(sequence, editor, "Harbour")
    assert shot.prompt is None  # no words yet, no prompt
    sequences.shot_update(
        shot=shot, user=editor, title="Harbour", notes="", target_seconds="", prompt_text="Dawn"
    )
    assert shot.prompt.current_version.number == 1
    sequences.shot_update(
        shot=shot, user=editor, title="Harbour", notes="", target_seconds="", prompt_text="Dusk"
    )
    shot.prompt.refresh_from_db()
    assert (shot.prompt.current_version.number, shot.prompt.current_version.text) == (2, "Dusk")


def test_saving_a_shot_from_an_old_page_never_reverts_a_teammates_prompt(client, sequence, editor):
    """Issue #24: the shot page's prompt box is saved against the version it showed. Notes
    saved from a page opened before a teammate's v2 leave v2 alone; changed words from that
    page are refused, the shot's page shown again with everything typed kept and v2's words
    beside them; saving again, having read them, is deliberate."""
    (shot,) = _shots(sequence, editor, "Harbour", prompt_text="Dawn on the quay")
    url = reverse("shot_edit", args=[sequence.project.uuid, sequence.uuid, shot.uuid])
    page = client.get(reverse("shot", args=[sequence.project.uuid, sequence.uuid, shot.uuid]))
    assert page.status_code == 302  # signed out; signed in below
    client.force_login(editor)
    page = client.get(reverse("shot", args=[sequence.project.uuid, sequence.uuid, shot.uuid]))
    assert '<input type="hidden" name="prompt_version" value="1">' in page.content.decode()
    teammate = sequences.shot_update(
        shot=Shot.objects.get(pk=shot.pk),
        user=editor,
        title="Harbour",
        notes="",
        target_seconds="",
        prompt_text="Dusk on the quay",
    )
    assert teammate.prompt.current_version.number == 2
    form = {"title": "Harbour", "target_seconds": "6", "prompt_version": "1"}
    # Only the notes changed on the old page: v2 stays the newest, its words untouched.
    response = client.post(url, {**form, "prompt_text": "Dawn on the quay", "notes": "warm"})
    assert response.status_code == 302
    shot.refresh_from_db()
    assert shot.notes == "warm" and shot.target_seconds == 6
    assert (shot.prompt.current_version.number, shot.prompt.current_version.text) == (
        2,
        "Dusk on the quay",
    )
    # Changed words on the old page: refused where they were typed, nothing lost.
    mine = {**form, "prompt_text": "Noon on the quay", "notes": "keep these notes"}
    response = client.post(url, mine)
    html = response.content.decode()
    assert response.status_code == 400
    assert "This prompt has changed since you opened it (now v2)" in html
    assert "Noon on the quay</textarea>" in html and "keep these notes</textarea>" in html
    assert "v2 reads “Dusk on the quay”" in html
    assert '<input type="hidden" name="prompt_version" value="2">' in html
    shot.refresh_from_db()
    assert shot.prompt.current_version.text == "Dusk on the quay" and shot.notes == "warm"
    response = client.post(url, {**mine, "prompt_version": "2"})
    assert response.status_code == 302
    shot.refresh_from_db()
    assert (shot.prompt.current_version.number, shot.prompt.current_version.text) == (
        3,
        "Noon on the quay",
    )


def test_a_refused_shot_edit_stays_on_the_shot_page_with_the_error_at_its_field(
    client, sequence, editor
):
    (shot,) = _shots(sequence, editor, "Harbour", prompt_text="Dawn on the quay")
    client.force_login(editor)
    url = reverse("shot_edit", args=[sequence.project.uuid, sequence.uuid, shot.uuid])
    response = client.post(
        url,
        {
            "title": "Harbour",
            "target_seconds": "999",
            "prompt_version": "1",
            "prompt_text": "Dusk, lamps on",
            "notes": "typed notes",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'value="999" aria-invalid="true"><small class="field-error">A duration is' in html
    assert "Dusk, lamps on</textarea>" in html and "typed notes</textarea>" in html
    shot.refresh_from_db()
    assert shot.notes == "" and shot.prompt.current_version.number == 1


@pytest.mark.parametrize("seconds", ["0", "601", "six", "2.5"])
def test_a_target_duration_is_whole_seconds(sequence, editor, seconds):
    with pytest.raises(ValidationError, match="whole seconds, 1 to 600"):
        sequences.shot_add(sequence=sequence, user=editor, title="x", target_seconds=seconds)
    assert not Shot.objects.exists()


def test_the_board_shows_the_selected_else_approved_else_newest_take(sequence, editor):
    newest, approved, chosen, bare = _shots(
        sequence, editor, "Newest", "Approved", "Chosen", "Bare", prompt_text="A harbour"
    )
    _take(newest, cost="0.24")
    _take(newest, cost="0.30")
    good = _take(approved, approved=True)
    _take(approved)  # a newer take, not approved
    pick = _take(chosen)
    _take(chosen)
    sequences.shot_take_select(shot=chosen, version=pick)
    cards = {card.shot.title: card for card in selectors.board(sequence=sequence)}
    assert (cards["Newest"].take.number, cards["Newest"].take_is) == (2, "newest")
    assert (cards["Approved"].take, cards["Approved"].take_is) == (good, "approved")
    assert (cards["Chosen"].take, cards["Chosen"].take_is) == (pick, "selected")
    assert (cards["Bare"].take, cards["Bare"].takes) == (None, 0)
    # Every take's cost counts, not only the one shown.
    assert (cards["Newest"].cost, cards["Newest"].takes) == (Decimal("0.54"), 2)


def test_a_take_of_another_shot_cannot_be_selected(sequence, editor):
    one, two = _shots(sequence, editor, "One", "Two", prompt_text="A harbour")
    with pytest.raises(ValidationError, match="not one of this shot's"):
        sequences.shot_take_select(shot=one, version=_take(two))


def test_the_cast_comes_from_the_prompts_references(sequence, editor, project):
    LibraryEntry.objects.create(project=project, kind="character", name="Mara", description="x")
    LibraryEntry.objects.create(project=project, kind="location", name="Pier", description="y")
    _shots(sequence, editor, "Meeting", prompt_text="@Mara walks along @Pier, @Nobody waits")
    (card,) = selectors.board(sequence=sequence)
    assert [entry.name for entry in card.cast] == ["Mara", "Pier"]


CSV = (
    "Title,Duration,Notes,Prompt\n"
    "Harbour,6,warm light,A wide shot of a harbour at dawn\n"
    "\n"
    "Gulls,,,\n"
    '"Formula",4,\'=1+1,"Quoted, with a comma"\n'
)


def test_a_shot_list_round_trips_through_csv(sequence, editor, client):
    added = sequences.shots_import(sequence=sequence, user=editor, text=CSV)
    assert [(s.title, s.target_seconds) for s in added] == [
        ("Harbour", 6),
        ("Gulls", None),
        ("Formula", 4),
    ]
    assert added[2].notes == "=1+1" and added[2].prompt.current_version.text == (
        "Quoted, with a comma"
    )
    client.force_login(editor)
    exported = client.get(reverse("shots_export", args=[sequence.project.uuid, sequence.uuid]))
    text = exported.content.decode()
    assert text.splitlines()[0] == "title,notes,duration,prompt"
    assert "'=1+1" in text  # a spreadsheet does not run it
    again = sequences.sequence_create(project=sequence.project, user=editor, title="Copy")
    copies = sequences.shots_import(sequence=again, user=editor, text=text)
    assert selectors.shot_list_rows(sequence=again) == selectors.shot_list_rows(sequence=sequence)
    assert len(copies) == 3


def test_a_bad_shot_list_adds_nothing_and_names_its_rows(sequence, editor, client):
    bad = "title,duration\nHarbour,6\n,4\nGulls,forever\n"
    with pytest.raises(ValidationError) as refused:
        sequences.shots_import(sequence=sequence, user=editor, text=bad)
    assert refused.value.messages == [
        "row 3: Give the shot a title",
        "row 4: A duration is whole seconds, 1 to 600",
    ]
    with pytest.raises(ValidationError, match="one is 'title'"):
        sequences.shots_import(sequence=sequence, user=editor, text="name,duration\nx,1\n")
    client.force_login(editor)
    url = reverse("shots_import", args=[sequence.project.uuid, sequence.uuid])
    latin = SimpleUploadedFile("shots.csv", "title\nCafé\n".encode("latin-1"), "text/csv")
    answer = client.post(url, {"shot_list": latin}, follow=True)
    assert "not UTF-8 text" in answer.content.decode()
    answer = client.post(
        url, {"shot_list": SimpleUploadedFile("s.csv", bad.encode(), "text/csv")}, follow=True
    )
    assert "Nothing added: row 3: Give the shot a title" in answer.content.decode()
    assert not Shot.objects.exists()


def test_the_board_for_each_role(sequence, editor, viewer, client):
    _shots(sequence, editor, "Harbour", prompt_text="A harbour")
    url = reverse("sequence", args=[sequence.project.uuid, sequence.uuid])
    client.force_login(viewer)
    page = client.get(url).content.decode()
    assert "Harbour" in page and "Add the shot" not in page and 'draggable="true"' not in page
    add = reverse("shot_add", args=[sequence.project.uuid, sequence.uuid])
    assert client.post(add, {"title": "Sneaky"}).status_code == 403
    client.force_login(editor)
    page = client.get(url).content.decode()
    assert "Add the shot" in page and 'draggable="true"' in page
    answer = client.post(add, {"title": "Gulls", "target_seconds": "4"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    board = answer.content.decode()
    assert board.lstrip().startswith('<section id="board"') and "Gulls" in board
    refused = client.post(add, {"title": " "}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422 and "Give the shot a title" in refused.content.decode()


def test_a_shot_refused_without_javascript_keeps_what_was_typed(sequence, editor, client):
    """Without htmx the form posts the whole page: a refusal shows the board again, the add
    form open and filled, the reason said, rather than a redirect that empties it."""
    client.force_login(editor)
    add = reverse("shot_add", args=[sequence.project.uuid, sequence.uuid])
    typed = {
        "title": "Gulls over the pier",
        "target_seconds": "2.5",
        "prompt_text": "Gulls wheel over the pier at dawn",
        "notes": "Match the harbour's light",
    }
    refused = client.post(add, typed)
    assert refused.status_code == 422
    page = refused.content.decode()
    assert "whole seconds, 1 to 600" in page
    assert "<details open>" in page
    assert 'value="Gulls over the pier"' in page and 'value="2.5"' in page
    assert ">Gulls wheel over the pier at dawn</textarea>" in page
    assert ">Match the harbour&#x27;s light</textarea>" in page
    assert not Shot.objects.exists()
    # Mended, it is added.
    added = client.post(add, {**typed, "target_seconds": "3"})
    assert added.status_code == 302 and Shot.objects.count() == 1


def test_a_drop_and_a_key_move_a_shot(sequence, editor, client):
    one, two, three = _shots(sequence, editor, "One", "Two", "Three")
    client.force_login(editor)
    move = reverse("shot_move", args=[sequence.project.uuid, sequence.uuid, three.uuid])
    client.post(move, {"to": "1"}, HTTP_HX_REQUEST="true")  # dropped on the first card
    assert [t for t, _ in _order(sequence)] == ["Three", "One", "Two"]
    client.post(move, {"step": "1"}, HTTP_HX_REQUEST="true")  # Alt+ArrowDown
    assert [t for t, _ in _order(sequence)] == ["One", "Three", "Two"]
    answer = client.post(move, {"step": "7"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 422 and "Say where the shot goes" in answer.content.decode()


def test_the_board_reads_in_the_same_queries_however_many_shots(
    sequence, editor, client, django_assert_num_queries
):
    url = reverse("sequence", args=[sequence.project.uuid, sequence.uuid])
    client.force_login(editor)
    (shot,) = _shots(sequence, editor, "First", prompt_text="@Mara at the pier")
    _take(shot, approved=True)
    client.get(url)  # warm the session
    with django_assert_num_queries(12) as few:
        client.get(url)
    for index in range(6):
        more = _shots(sequence, editor, f"Shot {index}", prompt_text="@Mara at the pier")
        _take(more[0], approved=index % 2 == 0)
        _take(more[0])
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_a_take_is_chosen_on_the_shot_page(sequence, editor, reviewer, client):
    (shot,) = _shots(sequence, editor, "Harbour", prompt_text="A harbour")
    first, second = _take(shot), _take(shot)
    url = reverse("shot_select", args=[sequence.project.uuid, sequence.uuid, shot.uuid])
    client.force_login(reviewer)
    assert client.post(url, {"take": "1"}).status_code == 403
    client.force_login(editor)
    page = client.get(reverse("shot", args=[sequence.project.uuid, sequence.uuid, shot.uuid]))
    assert "Select for the cut" in page.content.decode()
    client.post(url, {"take": "1"})
    shot.refresh_from_db()
    assert shot.selected == first
    client.post(url, {"take": ""})
    shot.refresh_from_db()
    assert shot.selected is None and second.number == 2
    answer = client.post(url, {"take": "9"}, follow=True)
    assert "That take is not one of this shot" in answer.content.decode()


def test_the_board_adds_up_what_was_spent_and_what_is_left(sequence, editor, client):
    done, waiting, unwritten = _shots(sequence, editor, "Done", "Waiting", "Unwritten")
    for shot in (done, waiting):
        sequences.shot_update(
            shot=shot, user=editor, title=shot.title, notes="", target_seconds="", prompt_text="A"
        )
    _take(done, cost="0.24", approved=True)
    _take(done, cost="0.30")  # a rejected or unreviewed take still cost money
    _take(waiting, cost="0.40")
    spend = selectors.sequence_spend(cards=selectors.board(sequence=sequence))
    # The prompt's default settings: ltx-2-fast, 1920x1080, 8 s at 0.04 USD a second.
    assert spend == selectors.SequenceSpend(
        spent=Decimal("0.94"), to_finish=Decimal("0.32"), shots_left=2, unpriced=1
    )
    client.force_login(editor)
    page = client.get(reverse("sequence", args=[sequence.project.uuid, sequence.uuid]))
    text = " ".join(page.content.decode().split())
    assert "spent <strong>0.94 USD</strong>" in text
    assert "to finish: 2 shots without a chosen or approved take, about <strong>0.32 USD" in text
    assert "(1 not counted: no prompt yet)" in text


def test_the_frame_pickers_tell_takes_of_one_shot_apart(client, sequence, editor):
    """Issue #24: two takes of one shot were both "Harbour (Dec 8, 02:34)" on the shot page and
    both "Harbour v1" (its prompt's version) on the generate form; each is now named by its
    version in its stack, as the gallery and the review page name it."""
    (shot,) = _shots(sequence, editor, "Harbour", prompt_text="Dawn on the quay")
    first, second = _take(shot), _take(shot)
    assert (first.number, second.number) == (1, 2)
    client.force_login(editor)
    project = sequence.project
    page = client.get(reverse("shot", args=[project.uuid, sequence.uuid, shot.uuid]))
    form = client.get(reverse("generation_new", args=[project.uuid]))
    for html in (page.content.decode(), form.content.decode()):
        for version in (first, second):
            assert f'<option value="{version.generation.uuid}">Harbour v{version.number} · ' in html


def test_the_shot_page_offers_retakes_only_to_those_who_may_make_them(
    client, sequence, editor, reviewer, viewer
):
    (shot,) = _shots(sequence, editor, "Harbour", prompt_text="Dawn on the quay")
    _take(shot)
    address = reverse("shot", args=[sequence.project.uuid, sequence.uuid, shot.uuid])
    for maker in (editor, reviewer):
        client.force_login(maker)
        assert ">Review, retake" in client.get(address).content.decode()
    client.force_login(viewer)
    page = client.get(address).content.decode()
    assert ">Watch and review</a>" in page and "retake" not in page.lower().split("<h2")[-1]
