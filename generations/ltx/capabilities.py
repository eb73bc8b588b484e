"""What the LTX-2 API accepts and what it costs, as data: a profile (a TOML file in `profiles/`,
or an operator's own) loaded and checked into the pydantic models below. The request models,
the prices, the simulator and the forms all read the profile in force; which one that is, the
caller says once with `choose` (the app: its LTX_CAPABILITIES setting)."""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic import model_validator as model_check

TEXT_TO_VIDEO = "text-to-video"
IMAGE_TO_VIDEO = "image-to-video"
AUDIO_TO_VIDEO = "audio-to-video"
RETAKE = "retake"
EXTEND = "extend"
# Every profile describes these; extend is there only when the API as described has it.
GENERATION_ENDPOINTS = (TEXT_TO_VIDEO, IMAGE_TO_VIDEO, AUDIO_TO_VIDEO, RETAKE)
OPTIONAL_ENDPOINTS = (EXTEND,)
ALL_ENDPOINTS = (*GENERATION_ENDPOINTS, *OPTIONAL_ENDPOINTS)
MADE_TO_ORDER = (TEXT_TO_VIDEO, IMAGE_TO_VIDEO)
# Endpoints that work on an input video and name only their models (no sizes of their own).
ON_A_VIDEO = (RETAKE, EXTEND)

PROFILES_DIR = Path(__file__).parent / "profiles"
PROFILES = ("contract", "current")
DEFAULT_PROFILE = "contract"

Endpoint = Literal["text-to-video", "image-to-video", "audio-to-video", "retake", "extend"]
Resolution = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{2,4}x[1-9][0-9]{2,4}$")]
Names = Annotated[tuple[str, ...], Field(min_length=1)]


class CapabilitiesError(ValueError):
    """A profile that cannot be found, read or trusted, said in words an operator can act on."""


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelInfo(_Data):
    # Where the facts come from, as API-CHANGES.md grades them.
    source: Literal["docs", "client", "third party", "operator"] = "operator"
    camera_motion: bool = True
    # Image-to-video may also name the image the video ends on (`last_frame_uri`).
    last_frame: bool = False


class Sizes(_Data):
    """One row of a support matrix: every model x resolution x fps named offers the durations."""

    models: Names
    resolutions: tuple[Resolution, ...] = ()
    fps: tuple[Annotated[int, Field(gt=0)], ...] = ()
    durations: tuple[Annotated[int, Field(gt=0)], ...] = ()


class EndpointInfo(_Data):
    sizes: tuple[Sizes, ...] = ()
    models: tuple[str, ...] = ()  # retake and extend: the models, as they have no sizes
    output_fps: int | None = None  # audio-to-video: the frame rate it makes
    default_model: str | None = None  # the model used when none is named (else the first)


class PriceRow(_Data):
    endpoints: tuple[Endpoint, ...] = Field(min_length=1)
    models: Names
    resolutions: tuple[Resolution, ...] = Field(min_length=1)
    usd_per_second: Decimal = Field(ge=0)
    confirmed: bool = True


class Prices(_Data):
    effective: dt.date
    rows: tuple[PriceRow, ...]


def resolution_order(resolution: str) -> tuple[bool, int]:
    """Landscape before portrait, each from the smallest size up."""
    width, _, height = resolution.partition("x")
    return int(width) < int(height), int(width) * int(height)


class Capabilities(_Data):
    name: str
    description: str = ""
    default_fps: int
    camera_motions: tuple[str, ...]
    models: dict[str, ModelInfo] = Field(min_length=1)
    endpoints: dict[Endpoint, EndpointInfo]
    prices: Prices

    # -- reads ---------------------------------------------------------------------------------

    def model_names(self) -> tuple[str, ...]:
        return tuple(self.models)

    def models_for(self, endpoint: str) -> tuple[str, ...]:
        info = self.endpoints[endpoint]
        offered = set(info.models).union(*(row.models for row in info.sizes))
        return tuple(m for m in self.models if m in offered)

    def matrix(self, endpoint: str) -> dict[tuple[str, str, int], tuple[int, ...]]:
        """A made-to-order endpoint's model x resolution x fps -> durations."""
        found: dict[tuple[str, str, int], set[int]] = {}
        for row in self.endpoints[endpoint].sizes:
            for model in row.models:
                for resolution in row.resolutions:
                    for fps in row.fps:
                        found.setdefault((model, resolution, fps), set()).update(row.durations)
        return {key: tuple(sorted(durations)) for key, durations in found.items()}

    def resolutions(self, endpoint: str, model: str | None = None) -> tuple[str, ...]:
        rows = [r for r in self.endpoints[endpoint].sizes if model is None or model in r.models]
        found = {resolution for row in rows for resolution in row.resolutions}
        return tuple(sorted(found, key=resolution_order))

    def fps_values(self, endpoint: str, model: str | None = None, resolution: str | None = None):
        return tuple(
            sorted(
                {
                    fps
                    for (m, r, fps) in self.matrix(endpoint)
                    if model in (None, m) and resolution in (None, r)
                }
            )
        )

    def durations(self, endpoint: str) -> tuple[int, ...]:
        return tuple(sorted({d for ds in self.matrix(endpoint).values() for d in ds}))

    def default_model(self, endpoint: str) -> str:
        return self.endpoints[endpoint].default_model or self.models_for(endpoint)[0]

    def offers_endpoint(self, endpoint: str) -> bool:
        return endpoint in self.endpoints

    def takes_camera_motion(self, model: str) -> bool:
        return model in self.models and self.models[model].camera_motion

    def takes_last_frame(self, model: str) -> bool:
        return model in self.models and self.models[model].last_frame

    def last_frame_models(self) -> tuple[str, ...]:
        """The image-to-video models that take a last frame."""
        return tuple(m for m in self.models_for(IMAGE_TO_VIDEO) if self.takes_last_frame(m))

    def price_rows(self) -> dict[tuple[str, str, str], PriceRow]:
        """(endpoint, model, resolution) -> its price row; a later row overrides an earlier."""
        return {
            (endpoint, model, resolution): row
            for row in self.prices.rows
            for endpoint in row.endpoints
            for model in row.models
            for resolution in row.resolutions
        }

    # -- checks: a profile that names a model nowhere declared, or offers what has no price, is
    # refused when loaded, not when a person first picks it.

    @model_check(mode="after")
    def _consistent(self):
        missing = [e for e in GENERATION_ENDPOINTS if e not in self.endpoints]
        if missing:
            raise ValueError(f"endpoints not described: {', '.join(missing)}")
        for endpoint, info in self.endpoints.items():
            where = f"endpoints.{endpoint}"
            if endpoint in ON_A_VIDEO and (info.sizes or not info.models):
                raise ValueError(f"{where}: {endpoint} lists its `models` (it has no sizes)")
            if endpoint not in ON_A_VIDEO and (info.models or not info.sizes):
                raise ValueError(f"{where}: lists its `sizes`")
            for row in info.sizes:
                if not row.resolutions:
                    raise ValueError(f"{where}: every row of sizes names its resolutions")
                made_to_order = bool(row.fps) and bool(row.durations)
                if made_to_order != (endpoint in MADE_TO_ORDER) or (row.fps and not row.durations):
                    raise ValueError(
                        f"{where}: rows name fps and durations for text- and image-to-video "
                        "only (audio-to-video lasts as long as its audio)"
                    )
            if info.default_model and info.default_model not in self.models_for(endpoint):
                raise ValueError(f"{where}: default_model {info.default_model} is not offered")
            if (info.output_fps is None) == (endpoint == AUDIO_TO_VIDEO):
                raise ValueError(f"{where}: output_fps belongs to audio-to-video, which needs it")
        named = {model for _, model, _ in self.offers()}
        named |= {model for row in self.prices.rows for model in row.models}
        unknown = sorted(named - set(self.models))
        if unknown:
            raise ValueError(f"models used but not declared under [models]: {', '.join(unknown)}")
        if self.default_fps not in self.fps_values(TEXT_TO_VIDEO):
            raise ValueError(f"default_fps {self.default_fps} is not offered by text-to-video")
        priced = self.price_rows()
        for endpoint, model, resolution in self.offers():
            if resolution is None:
                if not any(k[:2] == (endpoint, model) for k in priced):
                    raise ValueError(f"no price for {endpoint} with {model}")
            elif (endpoint, model, resolution) not in priced:
                raise ValueError(f"no price for {endpoint} with {model} at {resolution}")
        return self

    def offers(self):
        """Each (endpoint, model, resolution) a request may name; retake and extend name no
        size."""
        for endpoint, info in self.endpoints.items():
            for model in info.models:
                yield endpoint, model, None
            for row in info.sizes:
                for model in row.models:
                    for resolution in row.resolutions:
                        yield endpoint, model, resolution


def profile_path(source: str | Path) -> Path:
    """A profile's name (`contract`, `current`) or the path of a TOML file."""
    text = str(source).strip()
    if text in PROFILES:
        return PROFILES_DIR / f"{text}.toml"
    path = Path(text).expanduser()
    if text and path.suffix == ".toml" and path.is_file():
        return path
    raise CapabilitiesError(
        f"LTX_CAPABILITIES must be {' or '.join(PROFILES)}, or the path of a .toml file "
        f"describing the API (got {text!r})"
    )


def load(source: str | Path = DEFAULT_PROFILE) -> Capabilities:
    """The profile named by `source`, read and checked once per process."""
    return _read(profile_path(source).resolve())


@functools.lru_cache(maxsize=16)
def _read(path: Path) -> Capabilities:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CapabilitiesError(f"cannot read the capabilities file {path}: {exc}") from None
    try:
        return Capabilities.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'profile'}: {e['msg']}" for e in exc.errors()
        )
        raise CapabilitiesError(f"the capabilities file {path} is not valid: {problems}") from None


def _default_source() -> str:
    return DEFAULT_PROFILE


_source: Callable[[], str | Path] = _default_source


def choose(source: Callable[[], str | Path]) -> None:
    """Say where the profile in force comes from: asked at every read, so a changed setting
    takes effect at once (a test's override, say)."""
    global _source
    _source = source


def active() -> Capabilities:
    """The profile in force: the contract unless `choose` said otherwise."""
    return load(_source())
