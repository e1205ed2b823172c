"""A timeline picture of an execution: one row per state, bars at simulated times, so parallel
branches show as overlapping bars. Plain SVG: no plotting library needed."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

ROW = 18
LABEL = 330
WIDTH = 1000
COLORS = {
    "Task": "#4c78a8",
    "Wait": "#bab0ac",
    "Choice": "#f2cf5b",
    "Map": "#72b7b2",
    "Parallel": "#72b7b2",
    "Pass": "#9d755d",
    "Succeed": "#54a24b",
    "Fail": "#e45756",
}


def intervals(events: list[dict[str, Any]]) -> list[tuple[str, str, float, float]]:
    """(state, type, entered, exited) in simulated seconds from the execution's start."""
    start = events[0]["timestamp"].timestamp()
    opened: dict[str, tuple[str, float]] = {}
    found = []
    for event in events:
        moment = event["timestamp"].timestamp() - start
        kind = event["type"]
        if kind.endswith("StateEntered"):
            name = event["stateEnteredEventDetails"]["name"]
            opened[name] = (kind.removesuffix("StateEntered"), moment)
        elif kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            state_type, entered = opened.pop(name, (kind.removesuffix("StateExited"), moment))
            found.append((name, state_type, entered, moment))
    for name, (state_type, entered) in opened.items():  # a Fail state never exits
        found.append((name, state_type, entered, entered))
    return found


def render(title: str, events: list[dict[str, Any]], path: Path) -> Path:
    bars = intervals(events)
    rows: list[str] = []
    for name, _, _, _ in sorted(bars, key=lambda bar: bar[2]):
        if name not in rows:
            rows.append(name)
    end = max((bar[3] for bar in bars), default=1.0) or 1.0
    scale = (WIDTH - LABEL - 20) / end
    height = 40 + ROW * len(rows) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="10" y="20" font-size="14">{escape(title)}</text>',
    ]
    step = 30 if end > 120 else 10
    tick = 0.0
    while tick <= end:
        x = LABEL + tick * scale
        parts.append(f'<line x1="{x:.1f}" y1="30" x2="{x:.1f}" y2="{height - 25}" stroke="#eee"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle">{tick:.0f}s</text>')
        tick += step
    for index, name in enumerate(rows):
        y = 35 + index * ROW
        parts.append(f'<text x="{LABEL - 6}" y="{y + 12}" text-anchor="end">{escape(name)}</text>')
    for name, state_type, entered, exited in bars:
        y = 35 + rows.index(name) * ROW
        x = LABEL + entered * scale
        width = max((exited - entered) * scale, 1.5)
        color = COLORS.get(state_type, "#888")
        parts.append(
            f'<rect x="{x:.1f}" y="{y + 2}" width="{width:.1f}" height="{ROW - 4}" fill="{color}">'
            f"<title>{escape(name)}: {entered:.1f}s - {exited:.1f}s</title></rect>"
        )
    parts.append("</svg>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
    return path
