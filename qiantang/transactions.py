"""Long work in short transactions, where a transaction locks everyone else out.

On SQLite (`make run`) any transaction takes the database's one write lock up front (settings
open them IMMEDIATE), whatever it goes on to write: a recompute of every project or a
20,000-row import in one transaction makes every other writer (a milestone saved, a sign-in
failure recorded, a session) wait the busy timeout and then fail "database is locked". There
(`settings.SHORT_TRANSACTIONS`, on by default for SQLite) the full recompute commits a chunk of
projects at a time (qiantang_warnings/spread.py) and the import a batch of rows at a time
(projects/workbook/importer.py), with `let_others_write()` between them.

PostgreSQL locks rows, not the database: one transaction over the whole work blocks only the
writers of the same rows, and keeps the work all or nothing; it stays so there.
"""
from __future__ import annotations

import time

from django.conf import settings
from django.db import connection

# SQLite's busy handler (sqlite3_busy_timeout) tries again after 1, 2, 5, … ms, then every
# 100 ms: a writer that waited for the lock through a chunk is certain to try within a pause
# longer than that, and gets the lock before the next chunk asks for it again.
PAUSE_SECONDS = 0.15


def short_transactions() -> bool:
    """Whether long work commits in short transactions (settings.SHORT_TRANSACTIONS)."""
    return bool(settings.SHORT_TRANSACTIONS)


def let_others_write() -> None:
    """Between two short transactions of long work: on SQLite, pause, so that writers waiting
    for the lock get it (its busy handler polls; it does not queue them); elsewhere nothing."""
    if connection.vendor == "sqlite":
        time.sleep(PAUSE_SECONDS)
