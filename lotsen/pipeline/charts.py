"""Bar charts as plain SVG geometry, drawn on the server (no script, no CDN): the template
renders the bars with text labels, and a data table beside each chart says the same."""

from dataclasses import dataclass

WIDTH, HEIGHT, TOP, BOTTOM = 640, 220, 24, 40


@dataclass
class Bar:
    label: str
    value: int
    href: str
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2


@dataclass
class Chart:
    bars: list[Bar]
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM


def bar_chart(items: list[tuple[str, int, str]]) -> Chart:
    """``items``: (label, value, link) per bar, in order."""
    peak = max((v for _, v, _ in items), default=0) or 1
    n = max(len(items), 1)
    slot = WIDTH / n
    room = HEIGHT - TOP - BOTTOM
    bars = []
    for i, (label, value, href) in enumerate(items):
        h = room * value / peak
        bars.append(
            Bar(label, value, href, i * slot + slot * 0.15, HEIGHT - BOTTOM - h, slot * 0.7, h)
        )
    return Chart(bars)
