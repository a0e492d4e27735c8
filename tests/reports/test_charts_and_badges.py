"""The pure SVG functions: valid XML, every text escaped, no inline style (the CSP forbids it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from arcweb import charts
from reports import badges

from .conftest import parse_svg

HOSTILE = '<script>alert(1)</script>&"\''


def texts(svg: str) -> str:
    return "".join(parse_svg(svg).itertext())


def test_line_chart_is_valid_svg_and_escapes_labels():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    svg = charts.line_chart([(start + timedelta(days=i), 90.0 + i) for i in range(5)] + [(HOSTILE, 80.0)],
                            width=400, height=160, y_label=HOSTILE, y_max=100)
    root = parse_svg(svg)
    assert root.tag.endswith("svg")
    assert "<script>" not in svg
    assert HOSTILE in texts(svg)  # shown as text, not as markup
    assert "style=" not in svg and "<style" not in svg


def test_line_chart_breaks_at_gaps_and_says_no_data_when_empty():
    svg = charts.line_chart([("a", 1.0), ("b", 2.0), ("c", None), ("d", 3.0), ("e", 4.0)], y_max=5)
    assert svg.count("<path") == 2
    assert "No data" in texts(charts.line_chart([("a", None)]))


def test_sparkline_and_bars_and_split_are_valid():
    for svg in (charts.sparkline([1, None, 3, 2]), charts.sparkline([]),
                charts.bar_chart([(HOSTILE, 3), ("b", None)], value_format="{:g}%"), charts.bar_chart([]),
                charts.stacked_bar([("Model", 0.6), ("Tools", 0.3), ("Own", 0.1)])):
        parse_svg(svg)
        assert "style=" not in svg


def test_nice_max_rounds_up_to_a_top_whose_grid_lines_read_well():
    assert charts.nice_max(0.37) == 0.4
    assert charts.nice_max(73) == 80
    assert charts.nice_max(100) == 100
    assert charts.nice_max(0) == 1.0
    for value in (0.0023, 0.019, 0.37, 3.3, 7.4, 55, 73, 950, 12_000):
        top = charts.nice_max(value)
        assert value <= top < 2 * value + 1e-9
        for i in range(5):  # every grid line is a number of at most two significant digits
            assert len(f"{top * i / 4:.1e}".split("e")[0].rstrip("0").rstrip(".").replace(".", "")) <= 2


def test_cost_axis_ticks_are_round_and_clear_of_the_axis_label():
    svg = charts.line_chart([("a", 0.0021), ("b", 0.0016)], y_label="Cost / run ($)")
    ticks = [chunk.split(">", 1)[1].split("<", 1)[0] for chunk in svg.split('class="tick" x="')[1:6]]
    assert ticks == ["0", "0.001", "0.002", "0.003", "0.004"]
    tick_x = float(svg.split('class="tick" x="', 1)[1].split('"', 1)[0])
    assert tick_x - 6 * len("0.003") > 16  # the rotated label sits at x=10


def test_badge_says_reliability_figure_and_grade():
    svg = badges.reliability_badge("94%", "A")
    assert texts(svg).count("94% A") >= 1
    assert "reliability" in texts(svg)
    assert badges.GRADE_COLOURS["A"] in svg


def test_badge_width_grows_with_the_message():
    short, long = badges.geometry("reliability", "9%"), badges.geometry("reliability", "99.5% A+")
    assert long.width > short.width
    assert short.label_width == long.label_width


def test_badge_escapes_text():
    svg = badges.badge_svg(HOSTILE, HOSTILE)
    parse_svg(svg)
    assert "<script>" not in svg
