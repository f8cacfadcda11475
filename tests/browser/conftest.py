"""Playwright drives Debian's Chromium (/usr/bin/chromium); see CHECKED.md "Browser tests".

Never `playwright install`: its browser downloads are blocked here. If Chromium is
missing the launch fails loudly (no skip): `apt-get install -y chromium`.
"""
import os
from pathlib import Path

# Playwright's sync API runs an event loop in the test thread; Django's ORM would
# then refuse to run there (SynchronousOnlyOperation). Django reads this variable
# at call time, so setting it at import, before any test runs, is early enough.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def artifacts() -> Path:
    """Folder for screenshots (gitignored); look at them after a change to the pages."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # The district's browsers ask for Chinese; headless Chromium would ask for en-US,
    # and LocaleMiddleware would then serve English before anyone switched.
    return {**browser_context_args, "locale": "zh-CN"}
