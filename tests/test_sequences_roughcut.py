"""The rough cut and the editor's timeline: takes joined by a real worker into one MP4,
decoded to check; OpenTimelineIO and CMX 3600 from the same takes, with comments as markers."""

import av
import opentimelineio as otio
import pytest
from django.core.exceptions import ValidationError
from django.core.files import File
from django.urls import reverse

from generations import media
from generations.review import comments
from generations.sequences import roughcut
from generations.sequences import services as sequences
from generations.sequences.models import RoughCut
from tests import mediafiles
from tests.conftest import wait_until
from tests.factories import GenerationFactory, VersionFactory


@pytest.fixture
def sequence(project, editor):
    return sequences.sequence_create(project=project, user=editor, title="Spring ad")


def _shot_with_take(sequence, editor, tmp_path, title, *, frames=50, size=(320, 180)):
    shot = sequences.shot_add(sequence=sequence, user=editor, title=title, prompt_text=title)
    generation = GenerationFactory(
        succeeded=True, project=sequence.project, prompt_version=shot.prompt.current_version
    )
    path = mediafiles.make_video(tmp_path, frames=frames, size=size, name=title)
    info = media.probe(path)
    with open(path, "rb") as fh:
        generation.video.save("video.mp4", File(fh), save=False)
    generation.video_info = {"duration": info.duration, "fps": info.fps, "frames": info.frames}
    generation.save()
    return shot, VersionFactory(generation=generation)


@pytest.mark.django_db
def test_a_rough_cut_waits_for_every_shot_to_have_a_finished_take(sequence, editor, tmp_path):
    _shot_with_take(sequence, editor, tmp_path, "Harbour")
    sequences.shot_add(sequence=sequence, user=editor, title="Gulls")
    with pytest.raises(ValidationError, match="Shot 2 has no finished take"):
        roughcut.roughcut_request(sequence=sequence, user=editor)
    assert not RoughCut.objects.exists()


@pytest.mark.django_db
def test_the_rough_cut_joins_the_takes_with_their_provenance(
    sequence, editor, tmp_path, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(roughcut.current_app, "send_task", lambda name, args: sent.append(args))
    _shot_with_take(sequence, editor, tmp_path, "Harbour", frames=50)
    _shot_with_take(sequence, editor, tmp_path, "Gulls", frames=25)
    with django_capture_on_commit_callbacks(execute=True):
        cut = roughcut.roughcut_request(sequence=sequence, user=editor)
    assert sent == [(cut.pk,)]
    assert [take["file_name"] for take in cut.takes] == ["harbour-v1.mp4", "gulls-v1.mp4"]
    roughcut.roughcut_render(roughcut_id=cut.pk)
    roughcut.roughcut_render(roughcut_id=cut.pk)  # a second delivery of the message: nothing
    cut.refresh_from_db()
    assert (cut.state, cut.copied, cut.progress) == ("succeeded", True, 1.0)
    assert cut.seconds == pytest.approx(3.0, abs=0.05)
    with cut.file.open("rb") as fh, av.open(fh) as container:
        frames = sum(1 for _ in container.decode(container.streams.video[0]))
        tags = dict(container.metadata)
    assert frames == 75
    assert tags["title"] == "Spring ad"
    assert "1. Harbour v1" in tags["comment"] and "2. Gulls v1" in tags["comment"]


def test_a_real_worker_makes_the_rough_cut_and_it_downloads(
    simulator, start_worker, sequence, editor, tmp_path, client
):
    _shot_with_take(sequence, editor, tmp_path, "Harbour", frames=50)
    _shot_with_take(sequence, editor, tmp_path, "Wide", frames=50, size=(640, 360))
    start_worker(simulator)
    client.force_login(editor)
    board = reverse("sequence", args=[sequence.project.uuid, sequence.uuid])
    new = reverse("roughcut_new", args=[sequence.project.uuid, sequence.uuid])
    answer = client.post(new, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and 'hx-trigger="every 2s"' in answer.content.decode()
    cut = RoughCut.objects.get()
    wait_until(
        lambda: RoughCut.objects.get().state in ("succeeded", "failed"),
        timeout=120,
        message="rough cut",
    )
    cut.refresh_from_db()
    assert (cut.state, cut.copied, cut.error) == ("succeeded", False, "")  # sizes differ
    page = client.get(board).content.decode()
    assert "encoded once: the takes" in page
    url = reverse("roughcut", args=[sequence.project.uuid, sequence.uuid, cut.uuid])
    video = client.get(url + "?download=1")
    assert video.status_code == 200
    assert video["Content-Disposition"].startswith('attachment; filename="spring-ad-rough-cut')
    downloaded = tmp_path / "download.mp4"
    downloaded.write_bytes(b"".join(video.streaming_content))
    info = media.probe(downloaded)
    assert (info.width, info.height) == (320, 180)
    assert info.duration == pytest.approx(4.0, abs=0.05)


@pytest.mark.django_db
def test_the_timeline_names_clips_files_and_comments(sequence, editor, reviewer, tmp_path, client):
    _, take = _shot_with_take(sequence, editor, tmp_path, "Harbour", frames=50)
    _shot_with_take(sequence, editor, tmp_path, "Gulls", frames=25)
    comments.comment_add(version=take, author=reviewer, body="Gulls | too early", start_seconds=1)
    client.force_login(editor)
    args = [sequence.project.uuid, sequence.uuid]
    timeline = otio.adapters.read_from_string(
        client.get(reverse("timeline_otio", args=args)).content.decode(), "otio_json"
    )
    clips = list(timeline.find_clips())
    assert [clip.name for clip in clips] == ["01 Harbour", "02 Gulls"]
    assert [clip.media_reference.target_url for clip in clips] == [
        "harbour-v1.mp4",
        "gulls-v1.mp4",
    ]
    assert clips[0].duration().to_seconds() == pytest.approx(2.0)
    assert clips[0].metadata["ltxweb"]["generation"] == str(take.generation.uuid)
    (marker,) = clips[0].markers
    assert marker.name == f"{reviewer.username}: Gulls | too early"
    assert marker.marked_range.start_time.to_seconds() == pytest.approx(1.0)
    edl = client.get(reverse("timeline_edl", args=args))
    text = edl.content.decode()
    assert edl["Content-Disposition"] == 'attachment; filename="spring-ad.edl"'
    assert "TITLE: Spring ad" in text
    assert "* FROM CLIP NAME:  01 Harbour" in text and "* FROM CLIP: gulls-v1.mp4" in text
    assert "* LOC: 00:00:01:00" in text
    # A shot without a finished take: refused, saying which.
    sequences.shot_add(sequence=sequence, user=editor, title="Boat")
    answer = client.get(reverse("timeline_edl", args=args), follow=True)
    assert "Shots without a finished take: 3" in answer.content.decode()


@pytest.mark.django_db
def test_a_comment_on_the_sequence_lands_on_the_take_and_frame_under_it(
    sequence, editor, reviewer, viewer, tmp_path, client
):
    _, first = _shot_with_take(sequence, editor, tmp_path, "Harbour", frames=50)  # 0-2 s
    sequences.shot_add(sequence=sequence, user=editor, title="Unmade")
    _, second = _shot_with_take(sequence, editor, tmp_path, "Gulls", frames=25)  # 2-3 s
    args = [sequence.project.uuid, sequence.uuid]
    client.force_login(reviewer)
    page = client.get(reverse("sequence_play", args=args)).content.decode()
    assert "Not in the player, for want of a finished take: shot 2 (Unmade)" in page
    assert page.index("1. Harbour") < page.index("3. Gulls")
    assert 'data-start="2.000000"' in page
    url = reverse("sequence_comment", args=args)
    answer = client.post(
        url, {"at_seconds": "2.5", "body": "Gulls too early"}, HTTP_HX_REQUEST="true"
    )
    assert answer.status_code == 200
    (comment,) = second.comments.all()
    assert comment.start_seconds == pytest.approx(0.48)  # 0.5 s into the take, snapped to 25 fps
    assert "Shot 3, v1 at 00:00:00:12" in answer.content.decode()
    # A range running past the take's end stops at it.
    client.post(url, {"at_seconds": "1.0", "end_seconds": "2.6", "body": "Hold the boat"})
    held = first.comments.get()
    assert (held.start_seconds, held.end_seconds) == (pytest.approx(1.0), pytest.approx(2.0))
    outside = client.post(
        url, {"at_seconds": "9", "body": "Too dark at the end"}, HTTP_HX_REQUEST="true"
    )
    assert outside.status_code == 422
    assert "outside the sequence" in outside.content.decode()
    # Refused, the form keeps what was typed (issue #24), with script or without.
    for answer in (outside, client.post(url, {"at_seconds": "9", "body": "Too dark at the end"})):
        html = answer.content.decode()
        assert 'data-at value="9">' in html and ">Too dark at the end</textarea>" in html
    client.force_login(viewer)
    assert client.post(url, {"at_seconds": "1", "body": "x"}).status_code == 403


@pytest.mark.django_db
def test_a_shot_continues_from_the_previous_shots_last_frame(
    sequence, editor, tmp_path, client, settings
):
    from generations.sequences import selectors

    first, take = _shot_with_take(sequence, editor, tmp_path, "Harbour", frames=50)
    second = sequences.shot_add(
        sequence=sequence, user=editor, title="Boat", prompt_text="The boat leaves the harbour"
    )
    with pytest.raises(ValidationError, match="no finished take to continue from"):
        sequences.shot_continue(shot=first, user=editor)  # the first shot has no previous
    generation = sequences.shot_continue(shot=second, user=editor)
    assert generation.endpoint == "image-to-video"
    assert generation.prompt_version == second.prompt.current_version
    assert (generation.image.frame_of, generation.image.frame_at) == (take.generation, "last")
    # The exact last frame, at full size.
    assert (generation.image.info["width"], generation.image.info["height"]) == (320, 180)
    assert generation.version.stack.prompt == second.prompt  # a take of the second shot
    cards = selectors.board(sequence=sequence)
    assert cards[1].start_matches is True
    # The first shot's take for the cut changes: the second's start no longer matches.
    newer = VersionFactory(
        generation=GenerationFactory(
            succeeded=True, project=sequence.project, prompt_version=first.prompt.current_version
        )
    )
    sequences.shot_take_select(shot=first, version=newer)
    cards = selectors.board(sequence=sequence)
    assert cards[1].start_matches is False
    client.force_login(editor)
    board = client.get(reverse("sequence", args=[sequence.project.uuid, sequence.uuid]))
    assert "Start no longer matches shot 1" in board.content.decode()


@pytest.mark.django_db
def test_a_bridge_needs_a_model_that_ends_on_a_frame(sequence, editor, tmp_path, settings):
    from generations.jobs.models import MediaAsset

    _shot_with_take(sequence, editor, tmp_path, "Harbour", frames=50)
    middle = sequences.shot_add(sequence=sequence, user=editor, title="Sail", prompt_text="Sails")
    _shot_with_take(sequence, editor, tmp_path, "Open sea", frames=50)
    with pytest.raises(ValidationError, match="does not end on a given frame"):
        sequences.shot_continue(shot=middle, user=editor, bridge=True)
    assert not MediaAsset.objects.exists()  # refused before any frame was kept
    settings.LTX_CAPABILITIES = "current"
    version = middle.prompt.current_version
    middle.prompt.current_version = type(version).objects.create(
        prompt=middle.prompt,
        number=2,
        based_on=version,
        author=editor,
        text=version.text,
        settings={**version.settings, "model": "ltx-2-3-fast", "resolution": "1920x1080"},
    )
    middle.prompt.save()
    generation = sequences.shot_continue(shot=middle, user=editor, bridge=True)
    assert generation.last_image.frame_at == "first"
    middle.refresh_from_db()
    assert middle.ends_on is not None and middle.continues_from is not None


@pytest.mark.django_db
def test_a_storyboard_frame_from_an_upload_or_a_take_and_a_take_from_it(
    sequence, editor, viewer, tmp_path, client
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from generations.sequences.models import Shot

    _, take = _shot_with_take(sequence, editor, tmp_path, "Harbour", frames=50)
    shot = sequences.shot_add(sequence=sequence, user=editor, title="Boat", prompt_text="A boat")
    args = [sequence.project.uuid, sequence.uuid, shot.uuid]
    url = reverse("shot_frame", args=args)
    client.force_login(editor)
    # A frame of a take, at a moment of it, at full size.
    client.post(url, {"take": str(take.generation.uuid), "at_seconds": "1.2"})
    shot.refresh_from_db()
    assert (shot.frame.frame_of, shot.frame.frame_at) == (take.generation, "1.200s")
    assert (shot.frame.info["width"], shot.frame.info["height"]) == (320, 180)
    board = client.get(reverse("sequence", args=args[:2])).content.decode()
    assert reverse("shot_frame_image", args=args) in board  # shown until the shot has a take
    image = client.get(reverse("shot_frame_image", args=args))
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    # A take starting on it: image-to-video from the frame, in the shot's stack.
    client.post(url, {"generate": "1"})
    made = shot.prompt.stacks.get().versions.get().generation
    assert made.endpoint == "image-to-video" and made.image == shot.frame
    # An upload replaces it; a file that is not an image is refused, the frame kept.
    png = mediafiles.make_image(tmp_path, "PNG")
    client.post(url, {"frame": SimpleUploadedFile("sketch.png", png.read_bytes(), "image/png")})
    shot.refresh_from_db()
    assert shot.frame.original_name == "sketch.png"
    answer = client.post(
        url, {"frame": SimpleUploadedFile("notes.txt", b"hello", "text/plain")}, follow=True
    )
    said = [m.message for m in answer.context["messages"]]
    assert "this file could not be read as an image, video or audio file" in said[-1]
    assert Shot.objects.get(pk=shot.pk).frame.original_name == "sketch.png"
    client.post(url, {"clear": "1"})
    assert Shot.objects.get(pk=shot.pk).frame is None
    client.force_login(viewer)
    assert client.post(url, {"clear": "1"}).status_code == 403
