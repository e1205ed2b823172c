"""How fenv shows things to people: tables, durations, money, times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned columns, as wide as their widest cell."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = []
    for row in [headers, *rows]:
        lines.append(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )
    return lines


def duration(seconds: float | None) -> str:
    """3d 4h, 2h 05m, 4m 07s, 12s; '-' for none."""
    if seconds is None:
        return "-"
    total = round(seconds)
    sign, total = ("-" if total < 0 else ""), abs(total)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {secs:02d}s"
    return f"{sign}{secs}s"


def money(amount: float | None) -> str:
    if amount is None:
        return "-"
    return f"${amount:.4f}" if amount < 1 else f"${amount:,.2f}"


def timestamp(value: Any) -> float | None:
    """Seconds since the epoch of an ISO 8601 string or a datetime (None when absent)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value)).timestamp()


def iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="seconds")
