"""Server-rendered SVG charts: no JavaScript, no chart library, crisp on screen and in print.

Each colour is drawn with its own line style and marker shape and named at the
line's end, so the chart reads without telling red from green.
"""
from __future__ import annotations

import math

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from qiantang import colours

# Colour, stroke (the yellow is darkened to read on white), dash pattern, marker shape.
SERIES = (
    (colours.RED, colours.ON_WHITE[colours.RED], "", "square"),
    (colours.YELLOW, colours.ON_WHITE[colours.YELLOW], "7 4", "triangle"),
    (colours.GREEN, colours.ON_WHITE[colours.GREEN], "2 4", "circle"),
)
WIDTH, HEIGHT = 440, 230
LEFT, RIGHT, TOP, BOTTOM = 34, 80, 14, 30  # room on the right for "Yellow 123"


def _nice_ceiling(value: int) -> int:
    """A round axis maximum at or above value (1, 2, 5 × 10ⁿ steps, four of them)."""
    if value <= 4:
        return 4
    step = value / 4
    magnitude = 10 ** math.floor(math.log10(step))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= step:
            return int(factor * magnitude * 4)
    return int(10 * magnitude * 4)  # pragma: no cover - the loop always returns


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"/>'
    if shape == "triangle":
        return (
            f'<path d="M{x:.1f} {y - 4.5:.1f} L{x + 4.5:.1f} {y + 3.5:.1f} '
            f'L{x - 4.5:.1f} {y + 3.5:.1f} Z" fill="{colour}"/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.8" fill="#fff" stroke="{colour}" stroke-width="2"/>'


def _spread(positions: list[float], gap: float, low: float, high: float) -> list[float]:
    """Move end labels apart (keeping their order) so none overlaps the next."""
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    placed = [0.0] * len(positions)
    previous = low - gap
    for i in order:
        placed[i] = max(positions[i], previous + gap)
        previous = placed[i]
    overflow = previous - high
    if overflow > 0:
        for i in order:
            placed[i] -= overflow
    return placed


def trend_svg(points, *, labels: dict[str, str]) -> SafeString:
    """A line chart of red/yellow/green counts per week; `points` are TrendPoints, oldest first.

    `labels` names each colour in the reader's language (红, 黄, 绿).
    """
    if not points:
        return mark_safe("")
    top = _nice_ceiling(max(max(p.counts.values()) for p in points))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(points) - 1)

    def x_at(i: int) -> float:
        return LEFT + i * step

    def y_at(n: int) -> float:
        return TOP + plot_h * (1 - max(0, n) / top)

    parts = []
    for k in range(5):  # horizontal grid and the count axis
        value = top * k // 4
        y = y_at(value)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#e4e7ec" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">{value}</text>'
        )
    for i, point in enumerate(points):  # week labels, every other one
        if (len(points) - 1 - i) % 2 == 0:
            parts.append(
                f'<text x="{x_at(i):.1f}" y="{HEIGHT - 10}" text-anchor="middle" class="axis">'
                f'{point.day:%m-%d}</text>'
            )
    ends = []
    for colour, stroke, dash, shape in SERIES:
        coords = [(x_at(i), y_at(p.counts[colour])) for i, p in enumerate(points)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<g class="series {colour}"><polyline points="{path}" fill="none" stroke="{stroke}" '
            f'stroke-width="2.5" stroke-linejoin="round"{dash_attr}/>'
            + "".join(_marker(shape, x, y, stroke) for x, y in coords)
            + "</g>"
        )
        ends.append((colour, stroke, coords[-1][1], points[-1].counts[colour]))
    label_ys = _spread([y for _c, _s, y, _n in ends], 15, TOP + 4, TOP + plot_h + 4)
    for (colour, stroke, _y, count), y in zip(ends, label_ys):
        parts.append(
            f'<text x="{WIDTH - RIGHT + 8}" y="{y + 4:.1f}" fill="{stroke}" class="end">'
            f"{escape(labels.get(colour, colour))} {count}</text>"
        )
    summary = _("近%(weeks)s周红、黄、绿项目数：") % {"weeks": len(points)} + "；".join(
        f"{p.day:%m-%d} " + "/".join(str(p.counts[c]) for c, *_rest in SERIES) for p in points
    )
    return format_html(
        '<svg class="trend-chart" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'xmlns="http://www.w3.org/2000/svg">{}</svg>',
        WIDTH, HEIGHT, summary, mark_safe("".join(parts)),
    )
