"""zh-hans by default, English on request, and a complete English catalogue."""
import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from qiantang_warnings.reasons import render_reason

LOCALE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
CJK = re.compile(r"[\u4e00-\u9fff]")


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_the_login_page_is_chinese_by_default_even_for_an_english_browser(client):
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert page.status_code == 200
    assert "用户名" in page.content.decode()
    assert 'lang="zh-hans"' in page.content.decode()


def test_choosing_english_translates_the_whole_login_page(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("login"))
    text = visible_text(page.content.decode())
    assert "Username" in text and "Password" in text
    # The only Chinese left is the switch back to Chinese.
    assert CJK.findall(text.replace("中文", "")) == []


def test_reasons_read_in_the_chosen_language():
    reason = {"kind": "overdue", "name": "开工", "days": 3}
    with translation.override("zh-hans"):
        assert render_reason(reason) == "开工逾期3天"
    with translation.override("en"):
        assert render_reason(reason) == "开工 is 3 days overdue"


def _po_entries(path: Path) -> dict[str, str]:
    """msgid → msgstr (the first form for plurals) of a .po file, without a library."""
    entries = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields, key = {}, None
        for line in block.splitlines():
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                fields[key] = match.group(2)
            elif line.startswith('"') and key:
                fields[key] += line[1:-1]
        if fields.get("msgid"):
            entries[fields["msgid"]] = fields.get("msgstr", fields.get("msgstr[0]", ""))
    return entries


def test_every_english_entry_is_translated():
    entries = _po_entries(LOCALE / "django.po")
    assert len(entries) > 100
    untranslated = [msgid for msgid, msgstr in entries.items() if not msgstr]
    assert untranslated == []
    assert "#, fuzzy" not in (LOCALE / "django.po").read_text(encoding="utf-8")


def test_the_committed_catalogue_is_compiled_from_the_current_po(tmp_path):
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "GNU gettext's msgfmt is required (apt-get install gettext)"
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "-o", str(fresh), str(LOCALE / "django.po")], check=True)
    with open(fresh, "rb") as a, open(LOCALE / "django.mo", "rb") as b:
        assert gettext.GNUTranslations(a)._catalog == gettext.GNUTranslations(b)._catalog


def test_a_request_in_english_leaves_no_english_behind(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    client.get(reverse("login"))
    assert translation.get_language() == settings.LANGUAGE_CODE
