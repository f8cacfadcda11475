"""Has anything the dashboard shows changed? The data version, read in one query.

Database triggers (migrations warnings 0010 and 0011) move the version in the same
transaction as every write to the projects, their coordination items, the departments, the
status changes, the escalations and the rules' other inputs — a recompute, a staff save, an import, the admin, even a bulk UPDATE —
so the version is new exactly when the data is. The open dashboard polls with the stamp it
holds; while nothing changed the server answers with the "updated at" line alone. The same
stamp keys the cached dashboard data (views.py), so a repeat view costs a cache read.
Renaming a cadre changes no watched row: that shows at the next change or the next day.

The version is read before the data: a write committed in between can only make the data
newer than its stamp, never older.
"""
from __future__ import annotations

import hashlib
from datetime import date

from ..models import DataVersion


def data_version() -> int:
    return DataVersion.current()


def fingerprint(values: dict[str, str], *, today: date) -> str:
    """The stamp of what the live part shows for these filters (as query parameters,
    filters.filter_values): the data version, the day (time alone moves colours) and the
    filters."""
    digest = hashlib.blake2b(digest_size=8)
    filters = "|".join(f"{name}={value}" for name, value in sorted(values.items()) if value)
    digest.update(f"{data_version()}|{today.isoformat()}|{filters}".encode())
    return digest.hexdigest()
