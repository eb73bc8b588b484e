"""Drawings on a video frame: a reviewer's shapes (pen, arrow, rectangle, text) kept as
vectors in coordinates normalised to the frame (0..1 of its width and height), checked here
and rendered to a PNG over the frame. No Django.

Stroke widths are fractions of the frame's shorter side, so a drawing looks the same on a
small player, a portrait take and the full-size export; `static/js/review-drawing.js` draws
with the same constants."""

from __future__ import annotations

import io
import json
import math
import re
from typing import Annotated, Literal

import pydantic
from PIL import Image, ImageDraw, ImageFont
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

MAX_SHAPES = 100
MAX_POINTS = 1000  # in one pen stroke
MAX_TOTAL_POINTS = 5000  # in a whole drawing
MAX_TEXT = 200
MAX_JSON_CHARS = 200_000  # refused before parsing, so a huge body costs nothing
WIDTH_MIN, WIDTH_MAX = 0.001, 0.05
TEXT_SIZE = 0.05  # a text's height, as a fraction of the frame's shorter side
ARROW_HEAD = 0.04  # an arrow head's least length, likewise (or 3 stroke widths)
ARROW_HEAD_ANGLE = math.radians(28)
TOOLS = ("pen", "arrow", "rect", "text")
_ROUND = 5  # decimals kept: a 100 000th of the frame is finer than any pixel
_SUPERSAMPLE = 2  # shapes drawn at twice the size and reduced: smooth edges

_COLOR = re.compile(r"#[0-9a-fA-F]{6}")

Coordinate = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Point = tuple[Coordinate, Coordinate]


class DrawingError(ValueError):
    """A drawing that cannot be kept, saying which shape is wrong and why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class _Shape(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    color: str
    width: Annotated[float, Field(ge=WIDTH_MIN, le=WIDTH_MAX, allow_inf_nan=False)]

    @field_validator("color")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not _COLOR.fullmatch(value):
            raise ValueError("a colour is written #rrggbb, like #ff3b30")
        return value.lower()


class Pen(_Shape):
    tool: Literal["pen"]
    points: Annotated[list[Point], Field(min_length=1, max_length=MAX_POINTS)]


class Arrow(_Shape):
    tool: Literal["arrow"]
    points: Annotated[list[Point], Field(min_length=2, max_length=2)]  # from the tail to the tip


class Rect(_Shape):
    tool: Literal["rect"]
    x: Coordinate
    y: Coordinate
    w: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
    h: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]

    @model_validator(mode="after")
    def _inside(self):
        if self.x + self.w > 1 + 1e-6 or self.y + self.h > 1 + 1e-6:
            raise ValueError("a rectangle stays inside the frame")
        return self


class Text(_Shape):
    tool: Literal["text"]
    x: Coordinate  # the text's top left corner
    y: Coordinate
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]

    @field_validator("text")
    @classmethod
    def _printable(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("a text needs a word or more")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ValueError("a text is one line, without control characters")
        return value


Shape = Annotated[Pen | Arrow | Rect | Text, Field(discriminator="tool")]
_SHAPES = TypeAdapter(Annotated[list[Shape], Field(max_length=MAX_SHAPES)])


def _message(error: dict, shapes) -> str:
    loc = error["loc"]
    if not loc:
        if error["type"] == "too_long":
            return f"A drawing has at most {MAX_SHAPES} shapes"
        return "A drawing is a list of shapes"
    index = loc[0]
    where = f"Shape {index + 1}" if isinstance(index, int) else "The drawing"
    shape = shapes[index] if isinstance(index, int) and index < len(shapes) else None
    if error["type"] == "union_tag_invalid":
        tool = shape.get("tool") if isinstance(shape, dict) else None
        return f"{where}: no tool called {tool!r}: draw with {', '.join(TOOLS)}"
    if error["type"] == "union_tag_not_found":
        return f"{where} names no tool: draw with {', '.join(TOOLS)}"
    if error["type"] == "model_type" or len(loc) == 1:
        return f"{where} is not a shape"
    text = error["msg"].removeprefix("Value error, ")
    field = ".".join(str(part) for part in loc[2:])
    return f"{where} ({loc[1]}){f', {field}' if field else ''}: {text}"


def parse_drawing(value) -> list[dict]:
    """The shapes of a drawing given as JSON text (or as already parsed JSON), checked and
    normalised; `[]` for none. Raises DrawingError saying what is wrong."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return []
    if isinstance(value, str):
        if len(value) > MAX_JSON_CHARS:
            raise DrawingError("This drawing is too large: draw fewer or shorter strokes")
        try:
            value = json.loads(value)
        except ValueError:
            raise DrawingError("The drawing could not be read: it is not JSON") from None
    if not isinstance(value, list):
        raise DrawingError("A drawing is a list of shapes")
    try:
        # JSON text, so that strict mode takes arrays for points as JSON would give them.
        shapes = _SHAPES.validate_json(json.dumps(value))
    except pydantic.ValidationError as exc:
        raise DrawingError(_message(exc.errors()[0], value)) from None
    points = sum(len(s.points) for s in shapes if isinstance(s, Pen | Arrow))
    if points > MAX_TOTAL_POINTS:
        raise DrawingError(f"A drawing has at most {MAX_TOTAL_POINTS} points in all")
    return [_rounded(shape.model_dump()) for shape in shapes]


def _rounded(shape: dict) -> dict:
    def r(value):
        return round(value, _ROUND)

    for key in ("x", "y", "w", "h", "width"):
        if key in shape:
            shape[key] = r(shape[key])
    if "points" in shape:
        shape["points"] = [[r(x), r(y)] for x, y in shape["points"]]
    return shape


def _rgba(color: str) -> tuple[int, int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16), 255


def arrow_head(tail, tip, *, width: float, short: float) -> list[tuple[float, float]]:
    """The head's three corners, in pixels: its tip and the two ends of its base."""
    (x0, y0), (x1, y1) = tail, tip
    length = max(3 * width, ARROW_HEAD * short)
    angle = math.atan2(y1 - y0, x1 - x0)
    return [
        (x1, y1),
        (
            x1 - length * math.cos(angle - ARROW_HEAD_ANGLE),
            y1 - length * math.sin(angle - ARROW_HEAD_ANGLE),
        ),
        (
            x1 - length * math.cos(angle + ARROW_HEAD_ANGLE),
            y1 - length * math.sin(angle + ARROW_HEAD_ANGLE),
        ),
    ]


def _draw(draw: ImageDraw.ImageDraw, shape: dict, size: tuple[int, int]) -> None:
    width, height = size
    short = min(width, height)
    color = _rgba(shape["color"])
    stroke = max(1.0, shape["width"] * short)
    line = max(1, round(stroke))

    def dot(x, y, diameter):
        r = diameter / 2
        draw.ellipse((x - r, y - r, x + r, y + r), fill=color)

    tool = shape["tool"]
    if tool in ("pen", "arrow"):
        points = [(x * width, y * height) for x, y in shape["points"]]
        if len(points) > 1:
            draw.line(points, fill=color, width=line, joint="curve")
        for x, y in (points[0], points[-1]) if tool == "pen" else (points[0],):
            dot(x, y, stroke)  # round caps, as the browser draws them
        if tool == "arrow":
            draw.polygon(arrow_head(*points, width=stroke, short=short), fill=color)
    elif tool == "rect":
        # The browser strokes a rectangle's edge centred on it; Pillow strokes inwards.
        x0, y0 = shape["x"] * width - stroke / 2, shape["y"] * height - stroke / 2
        x1 = (shape["x"] + shape["w"]) * width + stroke / 2
        y1 = (shape["y"] + shape["h"]) * height + stroke / 2
        draw.rectangle((x0, y0, x1, y1), outline=color, width=line)
    elif tool == "text":
        font_size = max(6, round(TEXT_SIZE * short))
        font = ImageFont.load_default(size=font_size)
        draw.text(
            (shape["x"] * width, shape["y"] * height),
            shape["text"],
            fill=color,
            font=font,
            anchor="lt",
            stroke_width=max(1, font_size // 10),
            stroke_fill=(0, 0, 0, 255),  # legible on a light frame as on a dark one
        )


def render(shapes: list[dict], picture: Image.Image) -> Image.Image:
    """`picture` (a frame) with `shapes` drawn over it, at its own size, as RGB."""
    size = picture.size
    big = (size[0] * _SUPERSAMPLE, size[1] * _SUPERSAMPLE)
    layer = Image.new("RGBA", big, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for shape in shapes:
        _draw(draw, shape, big)
    layer = layer.resize(size, Image.Resampling.BOX)
    out = picture.convert("RGBA")
    out.alpha_composite(layer)
    return out.convert("RGB")


def render_png(shapes: list[dict], picture: Image.Image) -> bytes:
    """A PNG of `render(shapes, picture)`."""
    buffer = io.BytesIO()
    render(shapes, picture).save(buffer, "PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def blank_frame(size: tuple[int, int]) -> Image.Image:
    """A black frame of `size`, for a drawing whose video cannot be read."""
    return Image.new("RGB", size, (0, 0, 0))
