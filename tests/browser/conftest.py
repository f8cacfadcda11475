"""Playwright drives Debian's Chromium (/usr/bin/chromium) (Playwright's own download cannot run on our machines).

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


@pytest.fixture(scope="session", autouse=True)
def _serialized_rollback_survives_playwright(request, django_db_setup):
    """Keep serialized_rollback working once Playwright has started.

    Playwright's sync API leaves an asyncio loop running in the main thread, and
    from then on Django's thread-critical `connections` hands out *new* connection
    objects (asgiref keeps them per context when a loop runs). Those lack the
    `_test_serialized_contents` captured at database set-up, so every later
    `serialized_rollback=True` test would silently restore nothing, and its
    flush would re-run post_migrate. Copy the contents across, once.
    """
    from django.db import connections

    saved = {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }
    request.getfixturevalue("playwright")  # the loop runs from here on
    for alias, contents in saved.items():
        connections[alias]._test_serialized_contents = contents


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
