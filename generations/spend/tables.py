"""The dashboard's tables and chart, as the page and the CSV show them: headings, cells and
bar geometry made from the figures; the HTML and SVG are in the template."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from generations.jobs.models import Endpoint
from generations.ltx.pricing import CENT, CURRENCY
from generations.spend.dashboard import BREAKDOWNS, DaySpend

ENDPOINT_LABELS = dict(Endpoint.choices)
MONEY_HEADINGS = (
    "Jobs",
    f"Charged ({CURRENCY})",
    f"Possible ({CURRENCY})",
    f"Held ({CURRENCY})",
    f"Spent ({CURRENCY})",
)


@dataclass(frozen=True)
class Row:
    labels: tuple  # what the row is about; the first is the row's heading
    numbers: tuple  # its amounts and counts (None: not known), right-aligned
    prompt_uuid: uuid.UUID | None = None  # by prompt: the row links to the prompt's page


@dataclass
class Table:
    title: str
    label_headings: tuple[str, ...]
    number_headings: tuple[str, ...]
    rows: list[Row]
    shown: int | None = None  # how many rows the page shows (None: all; the CSV has all)

    @property
    def lines(self) -> list[Row]:
        return self.rows if self.shown is None else self.rows[: self.shown]

    @property
    def hidden(self) -> int:
        return 0 if self.shown is None else max(0, len(self.rows) - self.shown)


def _money(row: dict) -> tuple:
    return (row["jobs"], row["charged"], row["possible"], row["reserved"], row["spent"])


def dashboard_tables(figures: dict) -> dict[str, Table]:
    """Every table of the dashboard, by the name its CSV has, from a period's figures."""
    days = [d for d in figures["days"] if d.spent]
    settings_rows = []
    for row in figures["by-setting"]:
        endpoint, model, resolution = row["key"]
        if endpoint is None:  # adjustments: no job, so no settings
            labels = ("—", "—", "—")
        else:  # a request without a model or resolution got the API's defaults
            labels = (
                ENDPOINT_LABELS.get(endpoint, endpoint),
                model or "ltx-2-pro",
                resolution or "as its input",
            )
        settings_rows.append(Row(labels, _money(row)))
    approved = figures["approved_by_prompt"]
    prompt_rows = []
    for row in figures["by-prompt"]:
        prompt_uuid, title = row["key"]
        count = approved.get(prompt_uuid, 0)
        per_video = (row["spent"] / count).quantize(CENT) if count else None
        prompt_rows.append(
            Row(
                (title or "No prompt (typed on the form)",),
                (*_money(row), count, per_video),
                prompt_uuid if title else None,
            )
        )
    return {
        "by-day": Table(
            "By day",
            ("Day",),
            (f"Charged ({CURRENCY})", f"Possible charges ({CURRENCY})", "Spent"),
            [Row((d.day.isoformat(),), (d.charged, d.possible, d.spent)) for d in days],
        ),
        "by-setting": Table(
            BREAKDOWNS["by-setting"][0],
            ("Endpoint", "Model", "Resolution"),
            MONEY_HEADINGS,
            settings_rows,
        ),
        "by-member": Table(
            BREAKDOWNS["by-member"][0],
            ("Member",),
            MONEY_HEADINGS,
            [
                Row((row["key"][0] or "(no longer a user)",), _money(row))
                for row in figures["by-member"]
            ],
        ),
        "by-prompt": Table(
            BREAKDOWNS["by-prompt"][0],
            ("Prompt (a stack)",),
            (*MONEY_HEADINGS, "Approved videos", f"Cost per approved video ({CURRENCY})"),
            prompt_rows,
        ),
    }


CHART = {"width": 720, "height": 260, "left": 64, "right": 12, "top": 16, "bottom": 40}


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest of 1, 2, 4, 5 × 10^k at or above `value`: an axis top whose quarters
    are round numbers."""
    if value <= 0:
        return Decimal(1)
    exponent = Decimal(10) ** (value.adjusted())
    for step in (1, 2, 4, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent


def day_chart(days: list[DaySpend]) -> dict:
    """A bar per day (charged, with possible charges stacked above), ticks and day labels."""
    c = CHART
    plot_w = c["width"] - c["left"] - c["right"]
    plot_h = c["height"] - c["top"] - c["bottom"]
    top = nice_ceiling(max((d.spent for d in days), default=Decimal(0)))
    slot = plot_w / max(len(days), 1)
    bar_w = max(slot * 0.7, 1)

    def y(amount) -> float:
        return c["top"] + plot_h - float(amount / top) * plot_h

    bars = []
    for i, d in enumerate(days):
        bars.append(
            {
                "x": round(c["left"] + i * slot + (slot - bar_w) / 2, 1),
                "w": round(bar_w, 1),
                "charged_y": round(y(d.charged), 1),
                "charged_h": round(c["top"] + plot_h - y(d.charged), 1),
                "possible_y": round(y(d.spent), 1),
                "possible_h": round(y(d.charged) - y(d.spent), 1),
                "day": d,
            }
        )
    every = max(1, -(-len(days) // 10))  # at most about ten day labels
    labels = [
        {"x": round(b["x"] + b["w"] / 2, 1), "text": f"{b['day'].day.day} {b['day'].day:%b}"}
        for i, b in enumerate(bars)
        if i % every == 0
    ]
    ticks = [
        {"y": round(y(top * i / 4), 1), "text": f"{(top * i / 4).quantize(CENT)}"} for i in range(5)
    ]
    busiest = max(days, key=lambda d: d.spent, default=None)
    return {
        **c,
        "plot_right": c["width"] - c["right"],
        "plot_bottom": c["top"] + plot_h,
        "label_y": c["top"] + plot_h + 18,
        "axis_x": c["left"] - 6,
        "bars": bars,
        "labels": labels,
        "ticks": ticks,
        "total": sum((d.spent for d in days), Decimal("0.00")),
        "busiest": busiest if busiest and busiest.spent else None,
        "first": days[0].day if days else None,
        "last": days[-1].day if days else None,
    }
