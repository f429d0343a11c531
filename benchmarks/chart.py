"""Benchmark 7's chart: milliseconds per resource against N, one line per side and operation,
as a plain SVG (no plotting library: the figure is a few polylines)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 860, 420, 70, 300, 40, 50
COLOURS = {"ours": "#1f77b4", "sized": "#ff7f0e", "inputs": "#2ca02c"}
DASHES = {"up": "", "no-change preview": "6,4", "refresh": "2,3"}
NAMES = {"ours": "ours", "sized": "listener-sized floor", "inputs": "inputs-only floor"}


def svg(medians: Mapping[tuple[int, str], Mapping[str, float]], sizes: tuple[int, ...],
        when: str) -> str:
    """The chart of ``medians[(N, side)][operation]`` (seconds) as ms per resource."""
    series = {(side, op): [(n, 1000 * medians[(n, side)][op] / n) for n in sizes]
              for side in COLOURS for op in DASHES}
    top = max(v for points in series.values() for _, v in points) * 1.1 or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    low, high = min(sizes), max(sizes)

    def x(n: int) -> float:
        return LEFT + (plot_w * (n - low) / (high - low) if high > low else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             'font-family="sans-serif" font-size="12">',
             f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
             f'<text x="{LEFT}" y="20" font-size="14">Time per resource against N, real CLI '
             f'and language host ({escape(when)})</text>',
             f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
             'stroke="black"/>',
             f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="black"/>',
             f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 12}" text-anchor="middle">N '
             '(listeners in the program)</text>',
             f'<text x="16" y="{TOP + plot_h / 2}" transform="rotate(-90 16 {TOP + plot_h / 2})"'
             ' text-anchor="middle">ms per resource</text>']
    for n in sizes:
        parts.append(f'<text x="{x(n)}" y="{TOP + plot_h + 16}" text-anchor="middle">{n}'
                     '</text>')
    for step in range(5):
        value = top * step / 4
        parts.append(f'<text x="{LEFT - 6}" y="{y(value) + 4}" text-anchor="end">'
                     f'{value:.0f}</text>')
    legend = TOP
    for (side, op), points in series.items():
        line = " ".join(f"{x(n):.1f},{y(v):.1f}" for n, v in points)
        dash = f' stroke-dasharray="{DASHES[op]}"' if DASHES[op] else ""
        parts.append(f'<polyline points="{line}" fill="none" stroke="{COLOURS[side]}" '
                     f'stroke-width="2"{dash}/>')
        parts.append(f'<line x1="{WIDTH - RIGHT + 10}" y1="{legend}" x2="{WIDTH - RIGHT + 35}" '
                     f'y2="{legend}" stroke="{COLOURS[side]}" stroke-width="2"{dash}/>')
        parts.append(f'<text x="{WIDTH - RIGHT + 40}" y="{legend + 4}">{NAMES[side]}, '
                     f'{op}</text>')
        legend += 16
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
