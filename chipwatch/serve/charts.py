"""Charts drawn on the server as SVG: stacked bars of counts per day, and sparklines. No script, no network;
every label is escaped, and each bar carries a <title> a browser shows on hover."""

from __future__ import annotations

from datetime import date, timedelta
from html import escape

# Distinct on screen and in print, readable by people with the common colour-vision deficiencies.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")


def days_between(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first[:10]), date.fromisoformat(last[:10])
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def stacked_bars(
    days: list[str], series: dict[str, list[int]], *, title: str, width: int = 640, height: int = 180
) -> str:
    """One bar a day, stacked by series (topic, language), with a legend; an empty chart says so."""
    total = [sum(values[i] for values in series.values()) for i in range(len(days))]
    top = max(total, default=0)
    legend_height = 18 * ((len(series) + 3) // 4)
    chart_height = height - 30 - legend_height
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    if not days or top == 0:
        parts.append(f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" fill="#777">no coverage</text>')
        return "".join(parts) + "</svg>"
    step = (width - 40) / len(days)
    bar = min(max(step * 0.8, 1.0), 28.0)
    for index, day in enumerate(days):
        y = 10.0 + chart_height
        for number, (name, values) in enumerate(series.items()):
            value = values[index]
            if not value:
                continue
            size = chart_height * value / top
            y -= size
            colour = PALETTE[number % len(PALETTE)]
            parts.append(
                f'<rect x="{30 + index * step:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{size:.1f}" '
                f'fill="{colour}"><title>{escape(day)} · {escape(name)}: {value}</title></rect>'
            )
    base = 10 + chart_height
    parts.append(f'<line x1="28" y1="{base}" x2="{width - 8}" y2="{base}" stroke="#999"/>')
    parts.append(f'<text x="26" y="16" text-anchor="end" font-size="11" fill="#555">{top}</text>')
    parts.append(f'<text x="30" y="{base + 14}" font-size="11" fill="#555">{escape(days[0])}</text>')
    parts.append(
        f'<text x="{width - 8}" y="{base + 14}" text-anchor="end" font-size="11" fill="#555">{escape(days[-1])}</text>'
    )
    for number, name in enumerate(series):
        x = 30 + (number % 4) * ((width - 40) / 4)
        y = base + 32 + 18 * (number // 4)
        colour = PALETTE[number % len(PALETTE)]
        parts.append(f'<rect x="{x:.0f}" y="{y - 10}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14:.0f}" y="{y}" font-size="12" fill="#333">{escape(name)}</text>')
    return "".join(parts) + "</svg>"


def sparkline(values: list[int], *, width: int = 120, height: int = 24, label: str = "") -> str:
    """Daily counts as a small line, the peak marked."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}" class="sparkline"><title>{escape(label)}</title>'
    ]
    top = max(values, default=0)
    if len(values) < 2 or top == 0:
        y = height / 2
        return "".join(parts) + f'<line x1="0" y1="{y}" x2="{width}" y2="{y}" stroke="#1f77b4"/></svg>'
    step = (width - 4) / (len(values) - 1)
    points = " ".join(f"{2 + i * step:.1f},{height - 2 - (height - 4) * v / top:.1f}" for i, v in enumerate(values))
    return "".join(parts) + f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{points}"/></svg>'


def series_by_day(
    rows: list[tuple[str, str, int]], days: list[str], order: list[str] | None = None
) -> dict[str, list[int]]:
    """(day, key, count) rows as one list of counts per key, aligned with days."""
    position = {day: index for index, day in enumerate(days)}
    keys = order or sorted({key for _, key, _ in rows})
    series = {key: [0] * len(days) for key in keys}
    for day, key, count in rows:
        if day in position:
            series.setdefault(key, [0] * len(days))[position[day]] += count
    return {key: values for key, values in series.items() if any(values)}
