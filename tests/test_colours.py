"""One colour vocabulary (qiantang/colours.py): the stylesheet, the admin, the chart, the
export and the emails take their colours from it; the order and labels are the same everywhere."""
import re
from pathlib import Path

from django.utils import translation

from qiantang import colours
from qiantang_warnings import rules

CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "app.css"


# The stylesheet's variables: --red, --yellow, --green for SCREEN, --red-text … for ON_PAGE, …
CSS_PALETTES = {"": colours.SCREEN, "-text": colours.ON_PAGE, "-tint": colours.TINT,
                "-shape": colours.SHAPE, "-on-dark": colours.ON_DARK}


def _stylesheet_root_and_rest() -> tuple[str, str]:
    text = CSS.read_text(encoding="utf-8")
    root = re.search(r":root\s*\{(.*?)\}", text, flags=re.S)
    return root.group(1), text[:root.start()] + text[root.end():]


def test_the_stylesheet_s_colour_variables_are_the_screen_palette():
    root, _rest = _stylesheet_root_and_rest()
    variables = dict(re.findall(r"--(red|yellow|green):\s*(#[0-9a-fA-F]{6})", root))
    assert variables == colours.SCREEN


def test_the_stylesheet_s_other_colour_variables_are_the_palettes():
    root, _rest = _stylesheet_root_and_rest()
    for suffix, palette in CSS_PALETTES.items():
        variables = dict(re.findall(rf"--(red|yellow|green){re.escape(suffix)}:\s*(#[0-9a-fA-F]{{6}})", root))
        assert variables == palette, suffix


def test_the_stylesheet_names_palette_colours_only_through_its_variables():
    _root, rest = _stylesheet_root_and_rest()
    for palette in CSS_PALETTES.values():
        for value in palette.values():
            assert value.lower() not in rest.lower(), value


def test_the_rules_speak_the_same_colours_and_order():
    assert (rules.RED, rules.YELLOW, rules.GREEN) == colours.WORST_FIRST
    assert rules.worse(rules.YELLOW, rules.RED) == rules.RED
    assert [colours.position(c) for c in (*colours.WORST_FIRST, None, "")] == [0, 1, 2, 3, 3]


def test_labels_follow_the_reader_s_language():
    with translation.override("zh-hans"):
        assert [colours.label(c) for c in colours.WORST_FIRST] == ["红", "黄", "绿"]
    with translation.override("en"):
        assert colours.label(colours.RED) == "Red"
    assert colours.label(None) == ""


def test_every_palette_covers_every_colour():
    for palette in (colours.SCREEN, colours.ON_WHITE, colours.ON_PAGE, colours.SHAPE, colours.ON_DARK,
                    colours.TINT, colours.ON_TINT, colours.EXCEL_FILL, colours.EXCEL_FONT,
                    colours.EXCEL_LIGHT_FILL):
        assert set(palette) == set(colours.WORST_FIRST)
