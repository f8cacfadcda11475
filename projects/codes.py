"""The project code (项目编号) rule as pure functions: one spelling per code, and only
codes that fit in a URL path segment (`projects/<code>/…`) and an Excel cell.

Codes come from Excel, where full-width forms, stray spaces and zero-width
characters pasted from chat programs are common, so a code is normalised before
it is compared, stored or looked up. No ORM here: the model, the workbook import,
the demo seeding and the data migration all call these.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Mapping

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_LENGTH = 40
PUNCTUATION = "-_."
# Invisible characters that survive NFKC and str.strip() (they are not whitespace).
ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))

INVALID_MESSAGE = _(
    "项目编号只能包含字母、数字、汉字和连字符“-”、下划线“_”、点“.”，"
    "须以字母、数字或汉字开头，最长40个字符"
)

_RUN_OF_DASHES = re.compile(r"-{2,}")


def normalize_project_code(text: str | None) -> str:
    """The one spelling of a code: NFKC (ＱＴ－０００１ is QT-0001), no zero-width
    characters, no surrounding whitespace, upper case (qt-0001 is QT-0001)."""
    if text is None:
        return ""
    text = unicodedata.normalize("NFKC", str(text)).translate(ZERO_WIDTH).strip()
    # Upper-casing can leave a letter decomposed (ΐ → Ι + two accents); NFKC again
    # composes it, so normalising a normalised code changes nothing.
    return unicodedata.normalize("NFKC", text.upper())


def _allowed(char: str) -> bool:
    # isalnum(): Unicode letters (汉字 included) and digits; never a space, "/", "?",
    # "#" or "%", which would cut or escape the URL path segment.
    return char.isalnum() or char in PUNCTUATION


def is_valid_project_code(code: str) -> bool:
    """True for a (normalised) code the rule allows."""
    return (
        0 < len(code) <= MAX_LENGTH
        and code[0].isalnum()
        and all(_allowed(char) for char in code)
    )


def validate_project_code(value: str) -> None:
    """Model field validator: the code as it will be stored must follow the rule."""
    if not is_valid_project_code(normalize_project_code(value)):
        raise ValidationError(INVALID_MESSAGE, code="invalid_project_code")


def clean_project_code(text: str) -> str:
    """The normalised code, or ValidationError: for writers that bypass Model.save()."""
    code = normalize_project_code(text)
    if not is_valid_project_code(code):
        raise ValidationError(INVALID_MESSAGE, code="invalid_project_code")
    return code


def repair_project_code(text: str, *, taken: Container[str]) -> str:
    """A valid code close to a stored one that breaks the rule (QT/9001 → QT-9001),
    numbered -2, -3, … when that is taken. For the data migration only: new codes
    are refused, never repaired, so the office sees what it typed."""
    code = normalize_project_code(text)
    if not is_valid_project_code(code):
        code = "".join(char if _allowed(char) else "-" for char in code)
        code = _RUN_OF_DASHES.sub("-", code)
        code = code.lstrip(PUNCTUATION)[:MAX_LENGTH].rstrip("-") or "P"
    candidate, number = code, 1
    while candidate in taken:
        number += 1
        suffix = f"-{number}"
        candidate = code[: MAX_LENGTH - len(suffix)] + suffix
    return candidate


def plan_code_repairs(codes: Mapping[int, str]) -> dict[int, str]:
    """For stored codes by id, the new code of each one not in its one valid spelling
    (the data migration's plan). Codes already right keep theirs and win any clash;
    the others are repaired in id order, so the oldest project gets the plain code."""
    kept = {code for code in codes.values() if _is_canonical(code)}
    taken = set(kept)
    repairs = {}
    for project_id in sorted(codes):
        code = codes[project_id]
        if code in kept:
            continue
        repairs[project_id] = repaired = repair_project_code(code, taken=taken)
        taken.add(repaired)
    return repairs


def _is_canonical(code: str) -> bool:
    return normalize_project_code(code) == code and is_valid_project_code(code)
