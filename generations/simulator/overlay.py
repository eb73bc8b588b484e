"""The pictures: a background (a moving gradient or the first image) and what is drawn over
it. Frames are Pillow "L" images, one per Y, U and V plane, so that a frame is a few crops
and pastes in Pillow's C code rather than per-pixel Python."""

from __future__ import annotations

import os
import unicodedata
from fractions import Fraction

import av
from av.video.reformatter import ColorRange, Colorspace
from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageOps

# Limited ("TV") range, what H.264 players expect by default.
Y_BLACK, Y_WHITE, CHROMA_GREY = 16, 235, 128
BAND_ALPHA = 110  # peak opacity of the sweeping light band, of 255
BAND_PERIOD_SECONDS = 3.0  # one sweep of the band across the picture
SCROLL_PERIODS_PER_SECOND = 1 / 6  # how fast the hue gradient scrolls, in picture widths
ACCENT_RGB = (255, 140, 0)  # progress bar and "RETAKE" label


def check_even_size(width: int, height: int) -> None:
    # yuv420p stores colour at half resolution: libx264 refuses odd sizes.
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise ValueError(f"width and height must be positive and even, got {width}x{height}")


def even(value: float) -> int:
    return 2 * round(value / 2)


def planes_of(frame: av.VideoFrame) -> tuple[Image.Image, Image.Image, Image.Image]:
    """Copy the Y, U and V planes of a yuv420p frame into Pillow "L" images."""
    return tuple(
        Image.frombuffer("L", (p.width, p.height), p, "raw", "L", p.line_size, 1).copy()
        for p in frame.planes
    )


def frame_from_planes(y: Image.Image, u: Image.Image, v: Image.Image) -> av.VideoFrame:
    frame = av.VideoFrame(y.width, y.height, "yuv420p")
    for plane, image in zip(frame.planes, (y, u, v), strict=True):
        # Rows in the frame may be padded for alignment; Pillow writes that stride directly.
        plane.update(image.tobytes("raw", "L", plane.line_size))
    return frame


def _rgb_planes(image: Image.Image) -> tuple[Image.Image, Image.Image, Image.Image]:
    """Convert an RGB image to BT.709 limited-range Y, U, V planes (swscale does the maths)."""
    frame = av.VideoFrame.from_image(image).reformat(
        format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG
    )
    return planes_of(frame)


def yuv_colour(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    y, u, v = _rgb_planes(Image.new("RGB", (2, 2), rgb))
    return y.getpixel((0, 0)), u.getpixel((0, 0)), v.getpixel((0, 0))


class GradientBackground:
    """A hue gradient with a soft light band, scrolling sideways: each frame is a crop of a
    strip two pictures wide. The band moves with the strip, as motion the encoder predicts,
    rather than over it as new picture on every frame."""

    def __init__(self, width: int, height: int, fps: int) -> None:
        self.width, self.height, self.fps = width, height, fps
        strip = 2 * width
        # One row of hues times one column of brightness: far cheaper than a whole HSV image.
        hue = Image.frombytes("L", (strip, 1), bytes(256 * x // width % 256 for x in range(strip)))
        saturation, full = Image.new("L", (strip, 1), 170), Image.new("L", (strip, 1), 255)
        colours = Image.merge("HSV", (hue, saturation, full)).convert("RGB")
        # Brighter at the top, darker at the bottom where the captions are.
        shade = Image.frombytes(
            "L", (1, height), bytes(230 - 110 * y // height for y in range(height))
        )
        rgb = ImageChops.multiply(
            colours.resize((strip, height), Image.NEAREST),
            shade.convert("RGB").resize((strip, height), Image.NEAREST),
        )
        band = band_mask(width, height)
        for left in (0, width):
            rgb.paste((255, 255, 255), (left, 0, left + band.width, height), band)
        self.y, self.u, self.v = _rgb_planes(rgb)

    def planes(self, index: int) -> tuple[Image.Image, Image.Image, Image.Image]:
        shift = even(index / self.fps * SCROLL_PERIODS_PER_SECOND * self.width) % self.width
        w, h = self.width, self.height
        return (
            self.y.crop((shift, 0, shift + w, h)),
            self.u.crop((shift // 2, 0, (shift + w) // 2, h // 2)),
            self.v.crop((shift // 2, 0, (shift + w) // 2, h // 2)),
        )


class ImageBackground:
    """The first image, scaled to cover the picture and cropped to its aspect ratio."""

    def __init__(self, path: str | os.PathLike, width: int, height: int) -> None:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                # Transparent parts show as black, as most players would.
                image = image.convert("RGBA")
                flat = Image.new("RGB", image.size)
                flat.paste(image, mask=image.getchannel("A"))
                image = flat
            image = image.convert("RGB")
            scale = max(width / image.width, height / image.height)
            crop_w, crop_h = width / scale, height / scale
            left, top = (image.width - crop_w) / 2, (image.height - crop_h) / 2
            cover = image.resize(
                (width, height),
                Image.BICUBIC,
                box=(left, top, left + crop_w, top + crop_h),
                reducing_gap=3.0,
            )
        self.y, self.u, self.v = _rgb_planes(cover)

    def planes(self, index: int) -> tuple[Image.Image, Image.Image, Image.Image]:
        return self.y.copy(), self.u.copy(), self.v.copy()


def band_mask(width: int, height: int) -> Image.Image:
    """The light band's opacity: a vertical stripe a fifth of the width, brightest mid-way."""
    band_width = even(max(8, width / 5))
    half = band_width / 2
    profile = bytes(round(BAND_ALPHA * (1 - abs(x + 0.5 - half) / half)) for x in range(band_width))
    return Image.frombytes("L", (band_width, 1), profile).resize(
        (band_width, height), Image.NEAREST
    )


def dissolved(planes, into, amount: float):
    """`planes` blended towards `into` by `amount` (0: unchanged, 1: `into` alone)."""
    return tuple(Image.blend(a, b, amount) for a, b in zip(planes, into, strict=True))


def darkened(planes: tuple[Image.Image, Image.Image, Image.Image]):
    """Dim a picture and wash out its colour, so a retaken section is obvious at a glance."""
    y, u, v = planes
    return (
        y.point(lambda value: Y_BLACK + (value - Y_BLACK) * 2 // 5),
        u.point(lambda value: CHROMA_GREY + (value - CHROMA_GREY) // 2),
        v.point(lambda value: CHROMA_GREY + (value - CHROMA_GREY) // 2),
    )


class Overlay:
    """What is drawn over the background, prepared once per render so that `draw` only pastes
    images and draws one short string; positions and sizes are even, to map exactly onto the
    half-size colour planes."""

    def __init__(
        self,
        width: int,
        height: int,
        fps: Fraction | int,
        frames: int,
        caption_lines: list[str],
        *,
        band: bool,
        label: str | None = None,
    ) -> None:
        self.width, self.height, self.fps, self.frames = width, height, fps, frames
        unit = min(width, height) / 1080  # sizes are designed for 1080p and scale with it
        self.margin = even(max(4, 40 * unit))
        self.accent = yuv_colour(ACCENT_RGB)
        # The light band, for backgrounds that do not move by themselves.
        mask = band_mask(width, height) if band else None
        self.band = (mask, mask.reduce(2)) if mask is not None else None
        self._prepare_label(label, unit)
        self._prepare_counter(unit)
        self.bar_height = even(max(2, 8 * unit))
        self._prepare_captions(caption_lines, unit)

    def draw(self, y: Image.Image, u: Image.Image, v: Image.Image, index: int) -> None:
        if self.band is not None:
            self._draw_band(y, u, v, index)
        if self.label is not None:
            self._paste_masked(y, u, v, self.label_position, self.accent, self.label)
        self._draw_captions(y, u, v)
        self._draw_counter(y, u, v, index)
        self._draw_progress(y, u, v, index)

    def _draw_band(self, y: Image.Image, u: Image.Image, v: Image.Image, index: int) -> None:
        width = self.band[0].width
        phase = (index / self.fps) % BAND_PERIOD_SECONDS / BAND_PERIOD_SECONDS
        left = even(phase * (self.width + width)) - width
        # Pillow clips pastes that stick out of the picture.
        self._paste_masked(y, u, v, (left, 0), (Y_WHITE, CHROMA_GREY, CHROMA_GREY), self.band)

    def _prepare_label(self, label: str | None, unit: float) -> None:
        self.label = None
        if label is None:
            return
        font = ImageFont.load_default(size=max(12, round(180 * unit)))
        left, top, right, bottom = font.getbbox(label)
        mask = Image.new("L", (even(right - left + 2), even(bottom - top + 2)))
        ImageDraw.Draw(mask).text((1 - left, 1 - top), label, fill=255, font=font)
        self.label = (mask, mask.reduce(2))
        self.label_position = (
            even((self.width - mask.width) / 2),
            even((self.height - mask.height) / 3),
        )

    # The caption panel, opaque on purpose: text over a moving picture would change, and cost
    # the encoder, on every frame.

    def _prepare_captions(self, caption_lines: list[str], unit: float) -> None:
        font = ImageFont.load_default(size=max(10, round(38 * unit)))
        line_height = round(font.size * 1.3)
        padding = self.margin // 2
        max_rows = max(1, int((0.45 * self.height - 2 * padding) // line_height))
        lines = [_printable(line) for line in caption_lines]
        rows = _wrap(lines, font, self.width - 2 * self.margin, max_rows)
        panel_height = even(2 * padding + line_height * len(rows))
        self.panel = Image.new("L", (self.width, panel_height), Y_BLACK)
        draw = ImageDraw.Draw(self.panel)
        for number, row in enumerate(rows):
            draw.text((self.margin, padding + number * line_height), row, fill=Y_WHITE, font=font)
        self.panel_top = self.height - self.bar_height - panel_height

    def _draw_captions(self, y: Image.Image, u: Image.Image, v: Image.Image) -> None:
        y.paste(self.panel, (0, self.panel_top))
        half = (0, self.panel_top // 2, self.width // 2, (self.height - self.bar_height) // 2)
        u.paste(CHROMA_GREY, half)
        v.paste(CHROMA_GREY, half)

    # The counter: timecode and frame number, so playing and seeking are visible.

    def _prepare_counter(self, unit: float) -> None:
        self.counter_font = ImageFont.load_default(size=max(10, round(44 * unit)))
        self.counter_padding = self.margin // 2
        # The font's digits all have the same width, so the longest text sets the box size.
        longest = self._counter_text(self.frames - 1)
        left, top, right, bottom = self.counter_font.getbbox(longest)
        self.counter_size = (
            even(right + 2 * self.counter_padding),
            even(bottom + 2 * self.counter_padding),
        )

    def _counter_text(self, index: int) -> str:
        hundredths = int(index * 100 // self.fps)
        minutes, hundredths = divmod(hundredths, 6000)
        seconds, hundredths = divmod(hundredths, 100)
        return f"{minutes:02d}:{seconds:02d}.{hundredths:02d}   frame {index + 1}/{self.frames}"

    def _draw_counter(self, y: Image.Image, u: Image.Image, v: Image.Image, index: int) -> None:
        box = Image.new("L", self.counter_size, Y_BLACK)
        ImageDraw.Draw(box).text(
            (self.counter_padding, self.counter_padding),
            self._counter_text(index),
            fill=Y_WHITE,
            font=self.counter_font,
        )
        y.paste(box, (self.margin, self.margin))
        w, h = self.counter_size
        half = (self.margin // 2, self.margin // 2, (self.margin + w) // 2, (self.margin + h) // 2)
        u.paste(CHROMA_GREY, half)
        v.paste(CHROMA_GREY, half)

    def _draw_progress(self, y: Image.Image, u: Image.Image, v: Image.Image, index: int) -> None:
        filled = even((index + 1) / self.frames * self.width)
        if filled:
            accent_y, accent_u, accent_v = self.accent
            y.paste(accent_y, (0, self.height - self.bar_height, filled, self.height))
            half = (0, (self.height - self.bar_height) // 2, filled // 2, self.height // 2)
            u.paste(accent_u, half)
            v.paste(accent_v, half)

    @staticmethod
    def _paste_masked(y, u, v, position, colour, masks) -> None:
        mask, mask_half = masks
        left, top = position
        colour_y, colour_u, colour_v = colour
        y.paste(colour_y, (left, top, left + mask.width, top + mask.height), mask)
        half = (left // 2, top // 2, left // 2 + mask_half.width, top // 2 + mask_half.height)
        u.paste(colour_u, half, mask_half)
        v.paste(colour_v, half, mask_half)


# Pillow's bundled font has ASCII and a little more, but no accented letters or dashes.
# These become their nearest ASCII spelling rather than empty boxes.
_LOOKALIKES = str.maketrans(
    {"–": "-", "—": "-", "×": "x", "•": "·", "→": "->", "ß": "ss", "ø": "o", "Ø": "O"}
)


def _printable(text: str) -> str:
    """`text` with accents dropped and typographic characters replaced, so it renders."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LOOKALIKES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _wrap(lines: list[str], font: ImageFont.FreeTypeFont, width: int, max_rows: int) -> list[str]:
    """Word-wrap each line to `width` pixels, in at most `max_rows` rows: a long prompt is
    shortened before the short parameter lines are."""
    wrapped = [_wrap_line(line, font, width, max_rows) for line in lines]
    while sum(len(rows) for rows in wrapped) > max_rows:
        longest = max(wrapped, key=len)
        if len(longest) == 1:
            wrapped.pop()  # one row per line and still too many: drop the last lines
            continue
        longest.pop()
        longest[-1] = _with_ellipsis(longest[-1], font, width)
    return [row for rows in wrapped for row in rows]


def _wrap_line(line: str, font: ImageFont.FreeTypeFont, width: int, max_rows: int) -> list[str]:
    """Word-wrap one line; stops after `max_rows` + 1 rows, as more could never be shown."""
    rows: list[str] = []
    current = ""
    for word in line.split():
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            rows.append(current)
        current = word
        # A word wider than the picture (a URL, say) is broken wherever it has to be.
        while len(rows) <= max_rows:
            cut = _fitting_prefix(current, font, width)
            if cut == len(current):
                break
            rows.append(current[:cut])
            current = current[cut:]
        if len(rows) > max_rows:
            break
    rows.append(current)
    return rows


def _fitting_prefix(text: str, font: ImageFont.FreeTypeFont, width: int) -> int:
    """How many leading characters of `text` fit in `width` pixels; at least one."""
    cut = 1
    while cut < len(text) and font.getlength(text[: cut + 1]) <= width:
        cut += 1
    return cut


def _with_ellipsis(row: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    while row and font.getlength(row + " …") > width:
        row = row[:-1]
    return row.rstrip() + " …"
