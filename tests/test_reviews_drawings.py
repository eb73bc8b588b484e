"""Drawings on the frame: shapes checked strictly (a bad one refused with a clear message,
never a 500), kept with the comment, rendered to a PNG over the frame drawn on, and exported
beside the comments (their CSV, its zip, the deliverables)."""

import csv
import io
import json
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from PIL import Image

from generations import media
from generations.jobs import queue as job_queue
from generations.media import drawing
from generations.review import comments, drawings, shares
from generations.review import services as reviews
from generations.review.models import TimelineComment
from tests import mediafiles
from tests.reviewing import finished, private_media, store_media

RED = "#ff0000"
RECT = {"tool": "rect", "x": 0.25, "y": 0.25, "w": 0.5, "h": 0.5, "color": RED, "width": 0.02}
PEN = {
    "tool": "pen",
    "points": [[0.1, 0.9], [0.5, 0.85], [0.9, 0.9]],
    "color": "#00FF00",
    "width": 0.01,
}
ARROW = {"tool": "arrow", "points": [[0.1, 0.1], [0.3, 0.2]], "color": "#0000ff", "width": 0.005}
TEXT = {
    "tool": "text",
    "x": 0.6,
    "y": 0.05,
    "text": " Too dark ",
    "color": "#ffff00",
    "width": 0.006,
}


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)


@pytest.fixture
def stored(project, editor, settings, tmp_path):
    """A finished take with a real video: 320x180, 25 frames at 25 fps, each its own colour."""
    private_media(settings, tmp_path)
    return store_media(finished(project, editor, "Lighthouse"), tmp_path)


def frame_colour(index, frames=25):
    """The colour of frame `index` of `mediafiles.make_video`."""
    shade = (index * 255) // (frames - 1)
    return (shade, 255 - shade, 128)


def near(pixel, colour, tolerance=12):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=False))


def url(generation, name, *args):
    return reverse(name, args=[generation.project.uuid, generation.uuid, *args])


# -- the shapes --------------------------------------------------------------------------------


def test_good_shapes_are_kept_normalised():
    shapes = drawing.parse_drawing([RECT, PEN, ARROW, TEXT, {**RECT, "x": 0.123456789}])
    assert [s["tool"] for s in shapes] == ["rect", "pen", "arrow", "text", "rect"]
    assert shapes[1]["color"] == "#00ff00"  # colours in one spelling
    assert shapes[3]["text"] == "Too dark"
    assert shapes[4]["x"] == 0.12346  # a 100 000th of the frame is finer than a pixel
    assert drawing.parse_drawing("") == drawing.parse_drawing(None) == []
    assert drawing.parse_drawing('[{"tool":"pen","points":[[0,1]],"color":"#000000","width":0.01}]')


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ({**RECT, "tool": "circle"}, "Shape 2: no tool called 'circle': draw with pen, arrow"),
        ({k: v for k, v in RECT.items() if k != "tool"}, "Shape 2 names no tool"),
        ("rect", "Shape 2 is not a shape"),
        ({**RECT, "w": 0.9}, "a rectangle stays inside the frame"),
        ({**RECT, "h": 0}, "h: Input should be greater than 0"),
        ({**RECT, "x": -0.1}, "x: Input should be greater than or equal to 0"),
        ({**RECT, "x": "0.1"}, "x: Input should be a valid number"),  # strict: no strings
        ({**RECT, "color": "red"}, "a colour is written #rrggbb"),
        ({**RECT, "width": 0.5}, "width: Input should be less than or equal to 0.05"),
        ({**RECT, "onclick": "x"}, "onclick: Extra inputs are not permitted"),
        ({**PEN, "points": []}, "points: List should have at least 1 item"),
        ({**PEN, "points": [[0.5, 1.5]]}, "points.0.1: Input should be less than or equal to 1"),
        ({**PEN, "points": [[0.5, 0.5, 0.5]]}, "points.0: Tuple should have at most 2 items"),
        ({**PEN, "points": [[0.5, 0.5]] * 1001}, "at most 1000 items"),
        ({**ARROW, "points": [[0.5, 0.5]]}, "points: List should have at least 2 items"),
        ({**TEXT, "text": "   "}, "a text needs a word or more"),
        ({**TEXT, "text": "two\nlines"}, "without control characters"),
        ({**TEXT, "text": "x" * 201}, "at most 200 characters"),
    ],
)
def test_each_bad_shape_is_refused_saying_why(video_version, reviewer, shape, message):
    with pytest.raises(drawing.DrawingError, match=message.replace("(", r"\(")):
        drawing.parse_drawing([RECT, shape])
    with pytest.raises(ValidationError) as refused:
        comments.comment_add(
            version=video_version, author=reviewer, body="Look", start_seconds=1, drawing=[shape]
        )
    assert list(refused.value.message_dict) == ["drawing"]
    assert not TimelineComment.objects.exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[{", "not JSON"),
        ('{"tool": "pen"}', "A drawing is a list of shapes"),
        ([RECT] * 101, "at most 100 shapes"),
        ([{**PEN, "points": [[0.5, 0.5]] * 1000}] * 6, "at most 5000 points in all"),
        ("[" + " " * 200_001 + "]", "too large"),
    ],
)
def test_drawings_too_big_or_unreadable_are_refused(value, message):
    with pytest.raises(drawing.DrawingError, match=message):
        drawing.parse_drawing(value)


@pytest.fixture
def video_version(project, editor):
    return finished(project, editor).version  # 6 s at 25 fps, no file


def test_a_comment_keeps_its_drawing_and_a_reply_draws_nothing(video_version, reviewer):
    comment = comments.comment_add(
        version=video_version, author=reviewer, body="Here", start_seconds=1.013, drawing=[RECT]
    )
    comment.refresh_from_db()
    assert comment.drawing == [RECT] and comment.start_seconds == 1.0
    with pytest.raises(ValidationError, match="A reply has no frame of its own"):
        comments.comment_add(
            version=video_version, author=reviewer, body="Yes", parent=comment, drawing=[PEN]
        )
    plain = comments.comment_add(version=video_version, author=reviewer, body="No", start_seconds=2)
    assert plain.drawing == []


def test_the_form_posts_a_drawing_and_a_bad_one_is_an_error_not_a_500(
    client, video_version, reviewer
):
    client.force_login(reviewer)
    generation = video_version.generation
    refused = client.post(
        url(generation, "review_comment"),
        {"body": "Look", "start_seconds": "1", "drawing": '[{"tool": "star"}]'},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 200
    assert "Shape 1: no tool called &#x27;star&#x27;" in refused.content.decode()
    plain = client.post(
        url(generation, "review_comment"),
        {"body": "Look", "start_seconds": "1", "drawing": "not json"},
    )
    assert plain.status_code == 422 and "it is not JSON" in plain.content.decode()
    assert not TimelineComment.objects.exists()
    client.post(
        url(generation, "review_comment"),
        {
            "body": "Box it",
            "start_seconds": "1",
            "drawing": json.dumps([{**RECT, "color": "#FF0000"}]),
        },
    )
    comment = TimelineComment.objects.get()
    assert comment.drawing[0]["color"] == "#ff0000"
    page = client.get(url(generation, "review")).content.decode()
    # The page's script reads the drawing from an attribute, escaped as HTML.
    assert 'data-drawing="[{&quot;color&quot;:&quot;#ff0000&quot;' in page
    assert "data-drawing-layer" in page and 'name="drawing"' in page
    assert url(generation, "review_comment_drawing", comment.pk) in page


def test_guests_draw_through_a_share_link(client, stored, reviewer):
    made, token = shares.share_create(
        project=stored.project, user=reviewer, stack=stored.version.stack
    )
    response = client.post(
        reverse("share_comment", args=[token, stored.uuid]),
        {
            "guest_name": "Dana",
            "body": "Logo here",
            "start_seconds": "0.2",
            "drawing": json.dumps([RECT]),
        },
    )
    assert response.status_code == 302
    assert TimelineComment.objects.get(guest_name="Dana").drawing == [RECT]
    page = client.get(reverse("share_version", args=[token, stored.uuid])).content.decode()
    assert "data-drawing=" in page and "data-drawing-layer" in page


# -- the PNG -----------------------------------------------------------------------------------


def png_of(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "PNG"
    return picture.convert("RGB")


def test_the_png_is_the_drawing_over_the_frame_drawn_on(stored, reviewer):
    comment = comments.comment_add(
        version=stored.version, author=reviewer, body="Box", start_seconds=0.4, drawing=[RECT]
    )
    picture = png_of(drawings.drawing_png(version=stored.version, comment=comment))
    assert picture.size == (320, 180)  # the video's own frame size
    # The rectangle's left edge (x = 0.25 of 320) is red, halfway down it.
    assert near(picture.getpixel((80, 90)), (255, 0, 0), tolerance=2)
    # Inside and outside it: the frame at 0.4 s (frame 10), not another one.
    assert near(picture.getpixel((160, 90)), frame_colour(10))
    assert near(picture.getpixel((10, 10)), frame_colour(10))
    assert not near(picture.getpixel((10, 10)), frame_colour(0))


def test_every_tool_is_rendered_where_it_was_drawn(tmp_path):
    black = drawing.blank_frame((400, 200))
    picture = drawing.render(drawing.parse_drawing([PEN, ARROW, TEXT]), black)
    assert picture.size == (400, 200)
    assert near(picture.getpixel((200, 170)), (0, 255, 0), tolerance=30)  # the pen's middle point
    head = picture.crop((110, 34, 121, 42))  # the arrow's head, just behind its tip
    assert any(near(p, (0, 0, 255), tolerance=30) for p in head.get_flattened_data())
    text = picture.crop((240, 10, 400, 30))  # the text's yellow, from x = 0.6 of the width
    assert any(near(p, (255, 255, 0), tolerance=30) for p in text.get_flattened_data())
    assert picture.getpixel((20, 100)) == (0, 0, 0)  # untouched elsewhere


def test_the_frame_at_a_time_and_past_the_end(tmp_path):
    video = mediafiles.make_video(tmp_path, frames=25, audio=False)
    assert near(media.frame_picture(video, 0.4).getpixel((5, 5)), frame_colour(10))
    assert near(media.frame_picture(video, 0.96).getpixel((5, 5)), frame_colour(24))
    assert near(media.frame_picture(video, 9.0).getpixel((5, 5)), frame_colour(24))  # the last


def test_a_drawing_whose_video_is_gone_is_drawn_on_black(video_version, reviewer):
    comment = comments.comment_add(
        version=video_version, author=reviewer, body="Box", start_seconds=1, drawing=[RECT]
    )
    picture = png_of(drawings.drawing_png(version=video_version, comment=comment))
    assert picture.size == (1920, 1080)  # as the job delivered it
    assert picture.getpixel((10, 10)) == (0, 0, 0)
    assert near(picture.getpixel((480, 540)), (255, 0, 0), tolerance=2)


@pytest.mark.parametrize("role", ["owner", "producer", "editor", "reviewer", "viewer", "outsider"])
def test_members_open_a_drawing_and_outsiders_find_nothing(request, client, stored, role):
    comment = comments.comment_add(
        version=stored.version,
        author=request.getfixturevalue("reviewer"),
        body="Box",
        start_seconds=0.4,
        drawing=[RECT],
    )
    client.force_login(request.getfixturevalue(role))
    response = client.get(url(stored, "review_comment_drawing", comment.pk))
    if role == "outsider":
        assert response.status_code == 404
        return
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert (
        response["Content-Disposition"]
        == f'inline; filename="lighthouse-v1-comment-{comment.pk}.png"'
    )
    assert png_of(response.content).size == (320, 180)


def test_a_comment_without_a_drawing_or_of_another_video_has_no_png(
    client, stored, project, editor, reviewer
):
    plain = comments.comment_add(version=stored.version, author=reviewer, body="x", start_seconds=0)
    other = finished(project, editor, "Another shot")
    drawn = comments.comment_add(
        version=other.version, author=reviewer, body="y", start_seconds=0, drawing=[RECT]
    )
    client.force_login(reviewer)
    assert client.get(url(stored, "review_comment_drawing", plain.pk)).status_code == 404
    assert client.get(url(stored, "review_comment_drawing", drawn.pk)).status_code == 404


# -- the exports -------------------------------------------------------------------------------


@pytest.fixture
def drawn(stored, reviewer, editor):
    box = comments.comment_add(
        version=stored.version, author=reviewer, body="Box", start_seconds=0.4, drawing=[RECT]
    )
    comments.comment_add(version=stored.version, author=editor, body="On it", parent=box)
    comments.comment_add(version=stored.version, author=editor, body="Plain", start_seconds=0.8)
    return box


def test_the_comments_csv_names_each_drawings_png(client, stored, viewer, drawn):
    client.force_login(viewer)
    response = client.get(url(stored, "review_comments_csv"))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["comment"], r["drawing"]) for r in rows] == [
        ("Box", f"lighthouse-v1-comment-{drawn.pk}.png"),
        ("On it", ""),
        ("Plain", ""),
    ]


def test_the_comments_zip_holds_the_csv_and_the_pngs_beside_it(client, stored, viewer, drawn):
    client.force_login(viewer)
    response = client.get(url(stored, "review_comments_zip"))
    assert response.streaming and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="lighthouse-v1-comments.zip"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    png = f"lighthouse-v1-comment-{drawn.pk}.png"
    assert archive.namelist() == ["lighthouse-v1-comments.csv", png]
    rows = list(csv.DictReader(io.StringIO(archive.read("lighthouse-v1-comments.csv").decode())))
    assert rows[0]["drawing"] == png
    picture = png_of(archive.read(png))
    assert picture.size == (320, 180) and near(picture.getpixel((80, 90)), (255, 0, 0), 2)


def test_the_deliverables_hold_each_takes_comments_and_drawings(
    client, project, editor, reviewer, stored, drawn, tmp_path
):
    reviews.review_decide(version=stored.version, reviewer=reviewer, state="approved")
    quiet = store_media(finished(project, editor, "Quiet shot"), tmp_path)
    reviews.review_decide(version=quiet.version, reviewer=reviewer, state="approved")
    client.force_login(editor)
    response = client.get(reverse("deliverables_zip", args=[project.uuid]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    png = f"lighthouse-v1-comment-{drawn.pk}.png"
    assert archive.namelist() == [
        "lighthouse-v1.mp4",
        "lighthouse-v1-comments.csv",
        png,
        "quiet-shot-v1.mp4",  # no comments: no comments file
        "manifest.csv",
        "manifest.json",
    ]
    rows = list(csv.DictReader(io.StringIO(archive.read("lighthouse-v1-comments.csv").decode())))
    assert [r["drawing"] for r in rows] == [png, "", ""]
    assert near(png_of(archive.read(png)).getpixel((80, 90)), (255, 0, 0), tolerance=2)
