"""The pictures under the overlay: a moving gradient or the first image, and the
conversions between Pillow "L" images (one per Y, U and V plane) and PyAV frames.

Frames are handled as planes so that a frame is a few crops and pastes in Pillow's C
code rather than per-pixel Python."""

from __future__ import annotations

import os

import av
from av.video.reformatter import ColorRange, Colorspace
from PIL import Image, ImageChops, ImageOps

# Limited ("TV") range, what H.264 players expect by default.
Y_BLACK, Y_WHITE, CHROMA_GREY = 16, 235, 128


BAND_ALPHA = 110  # peak opacity of the sweeping light band, of 255


SCROLL_PERIODS_PER_SECOND = 1 / 6  # how fast the hue gradient scrolls, in picture widths


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
    """A hue gradient with a soft light band, one cycle per picture width, scrolling sideways.

    A strip two pictures wide is converted once; each frame is a crop of it at a moving
    offset. Offsets are even so the half-resolution colour planes line up. The band is part
    of the strip rather than an overlay: moving with the gradient, it is motion the encoder
    predicts, while a band moving on its own would be new picture on every frame.
    """

    def __init__(self, width: int, height: int, fps: int) -> None:
        self.width, self.height, self.fps = width, height, fps
        strip = 2 * width
        # Hue depends only on x and brightness only on y, so the strip is one row of colours
        # times one column of brightness: far cheaper than converting a whole HSV image.
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
    """The light band's opacity: a soft vertical stripe a fifth of the width, brightest in its
    middle."""
    band_width = even(max(8, width / 5))
    half = band_width / 2
    profile = bytes(round(BAND_ALPHA * (1 - abs(x + 0.5 - half) / half)) for x in range(band_width))
    return Image.frombytes("L", (band_width, 1), profile).resize(
        (band_width, height), Image.NEAREST
    )


def darkened(planes: tuple[Image.Image, Image.Image, Image.Image]):
    """Dim a picture and wash out its colour, so a retaken section is obvious at a glance."""
    y, u, v = planes
    return (
        y.point(lambda value: Y_BLACK + (value - Y_BLACK) * 2 // 5),
        u.point(lambda value: CHROMA_GREY + (value - CHROMA_GREY) // 2),
        v.point(lambda value: CHROMA_GREY + (value - CHROMA_GREY) // 2),
    )
