"""The three colours (预警等级), once: their names, their order, their labels and the palette
every reader takes — the rules, the lists' ordering, the admin badges, the trend chart, the
exported workbook and the emails. static/css/app.css repeats the palettes it uses as CSS
variables in :root (a stylesheet cannot import Python): --red for SCREEN, --red-text for ON_PAGE,
--red-tint, --red-shape, --red-on-dark; tests/test_colours.py keeps the two equal."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Colour(models.TextChoices):
    RED = "red", _("红")
    YELLOW = "yellow", _("黄")
    GREEN = "green", _("绿")


RED, YELLOW, GREEN = Colour.RED.value, Colour.YELLOW.value, Colour.GREEN.value

# Worst first: the order of lists, counts and columns.
WORST_FIRST = (RED, YELLOW, GREEN)
# Severity for comparisons (worse is higher); no colour (inactive projects) is lowest.
RANK = {None: 0, "": 0, GREEN: 1, YELLOW: 2, RED: 3}


def position(colour: str | None) -> int:
    """Where a colour sorts, worst first; no colour comes last."""
    return WORST_FIRST.index(colour) if colour in WORST_FIRST else len(WORST_FIRST)


# The wordings pages put a colour in, each said once: badges (红), the emails' lamps (红灯),
# the dashboard's headline cards (红色预警) and its list titles (红色预警项目).
SHORT, LAMP, WARNING, LIST_TITLE = "short", "lamp", "warning", "list"
WORDINGS = {
    SHORT: {colour.value: colour.label for colour in Colour},
    LAMP: {RED: _("红灯"), YELLOW: _("黄灯"), GREEN: _("绿灯")},
    WARNING: {RED: _("红色预警"), YELLOW: _("黄色预警"), GREEN: _("绿色正常")},
    LIST_TITLE: {RED: _("红色预警项目"), YELLOW: _("黄色预警项目"), GREEN: _("绿色项目")},
}


def label(colour: str | None, wording: str = SHORT) -> str:
    """The colour in the reader's language, in one of WORDINGS (红 by default, 红灯,
    红色预警, 红色预警项目); empty for no colour."""
    return str(WORDINGS[wording][colour]) if colour in WORST_FIRST else ""


# The screen palette (CSS variables --red, --yellow, --green; admin badges).
SCREEN = {RED: "#d93025", YELLOW: "#f4b400", GREEN: "#188038"}
# Lines and text on white (the yellow darkened to stay legible): the trend chart.
ON_WHITE = {RED: "#c5221f", YELLOW: "#a87400", GREEN: "#188038"}
# Text and thin marks on the pages' light background (darker than the screen palette, which
# small type cannot carry): the dashboard's breakdown counts, baseline-colour tags, re-plans.
ON_PAGE = {RED: "#b3261e", YELLOW: "#7a5600", GREEN: "#12652c"}
# The small shapes beside a colour on the pages (the triangle's yellow darkened to stand out).
SHAPE = {RED: SCREEN[RED], YELLOW: "#c98f00", GREEN: SCREEN[GREEN]}
# On the meeting-room screen's dark background (the green lightened to stand out).
ON_DARK = {RED: SCREEN[RED], YELLOW: SCREEN[YELLOW], GREEN: "#34a853"}
# Light backgrounds behind dark text: the emails' count cells, the rankings' best and worst rows.
TINT = {RED: "#fef2f2", YELLOW: "#fefce8", GREEN: "#f0fdf4"}
# Dark text on those tints: the emails' count labels.
ON_TINT = {RED: "#b91c1c", YELLOW: "#a16207", GREEN: "#15803d"}
# The exported workbook, as the office's sheet has them (ARGB): strong fills with their font
# for the project's 预警等级, Excel's light "bad / neutral / good" fills for date cells.
EXCEL_FILL = {RED: "FFFF0000", YELLOW: "FFFFFF00", GREEN: "FF00B050"}
EXCEL_FONT = {RED: "FFFFFFFF", YELLOW: "FF000000", GREEN: "FFFFFFFF"}
EXCEL_LIGHT_FILL = {RED: "FFFFC7CE", YELLOW: "FFFFEB9C", GREEN: "FFC6EFCE"}
