"""The Content-Security-Policy allows scripts only from our static files and no eval. These
checks keep the templates inside it, so a new inline handler fails here, not in a browser."""
import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Emails are read by mail programs, never under the site's policy.
PAGES = sorted(p for p in TEMPLATES.rglob("*.html") if "emails" not in p.parts)


@pytest.mark.parametrize("template", PAGES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_inline_script_handler_or_eval_in_a_page(template):
    text = re.sub(r"\{#.*?#\}", "", template.read_text(encoding="utf-8"), flags=re.S)  # not comments
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler (onclick=…)"
    assert "hx-on" not in text, "hx-on needs eval"
    assert "javascript:" not in text
    for trigger in re.findall(r'hx-trigger="([^"]*)"', text):
        for spec in trigger.split(","):
            # A filter [..] right after an event name is evaluated JavaScript (a selector
            # after from: is not).
            event = spec.split()[0] if spec.split() else ""
            assert "[" not in event, f"trigger filter in {trigger!r}"


@pytest.mark.django_db
def test_every_page_carries_the_policy(client, role_users):
    client.force_login(role_users["office"])
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-eval" not in policy
