import xml.etree.ElementTree as ET

from erpcontinuity import charts


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_horizontal_bars_are_valid_svg_with_one_bar_per_item_and_escaped_labels():
    svg = charts.hbar([("Hardware <failure>", 3), ("Cyber", 7)], title="Risks by category")
    root = _parse(svg)
    rects = root.findall("{http://www.w3.org/2000/svg}rect")
    assert len(rects) == 2
    # the longer bar belongs to the larger value
    assert float(rects[1].get("width")) > float(rects[0].get("width"))
    assert "Hardware &lt;failure&gt;" in svg


def test_columns_and_lines_handle_empty_and_missing_values():
    svg = charts.columns(["2026-01", "2026-02"], [charts.Series("SEV1", [0, 0])], title="Incidents")
    _parse(svg)
    svg = charts.lines(["a", "b", "c"], [charts.Series("Restore", [10, None, 30])], target=20, target_label="RTO")
    root = _parse(svg)
    circles = root.findall("{http://www.w3.org/2000/svg}circle")
    assert len(circles) == 2  # the missing value draws no point
    assert "RTO" in svg


def test_axis_maximum_is_rounded_up_to_a_readable_value():
    assert charts._nice_max(7) == 10
    assert charts._nice_max(23) == 25
    assert charts._nice_max(0) == 1


def test_chinese_legend_labels_get_room_for_their_wider_characters():
    assert charts.text_width("平均恢复时间") > charts.text_width("Mean TT")
    svg = charts.columns(["1"], [charts.Series("平均确认时间", [1]), charts.Series("中位数", [2])])
    root = _parse(svg)
    texts = [t for t in root.iter("{http://www.w3.org/2000/svg}text") if t.text == "中位数"]
    # the second legend entry starts after the first one's six wide characters
    assert float(texts[0].get("x")) > 52 + 14 + 6 * 11
