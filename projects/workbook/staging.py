"""Uploads kept between the import's preview and its confirmation.

A previewed workbook is written under VAR_DIR/imports, named by a random token that only the
uploader's session knows (the last five are kept there with the import mode and the file
name); a token from anywhere else, malformed or expired, finds nothing. Uploads nobody
confirmed are forgotten after half a day.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings

SESSION_KEY = "workbook_imports"
KEEP_UPLOADS = timedelta(hours=12)
KEEP_PER_SESSION = 5


@dataclass(frozen=True)
class StagedUpload:
    token: str
    path: Path
    replace: bool
    filename: str

    def read(self) -> bytes:
        return self.path.read_bytes()


def uploads_dir() -> Path:
    folder = Path(settings.VAR_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def clean_old_uploads(now: float | None = None) -> None:
    """Forget uploads nobody confirmed (previews abandoned for half a day)."""
    limit = (now or time.time()) - KEEP_UPLOADS.total_seconds()
    for path in uploads_dir().glob("*.xlsx"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except FileNotFoundError:
            pass


def _is_token(token: str) -> bool:
    return bool(token) and token.replace("-", "").replace("_", "").isalnum()


def _path(token: str) -> Path:
    return uploads_dir() / f"{token}.xlsx"


def upload_stage(session, *, data: bytes, replace: bool, filename: str) -> str:
    """Keep a previewed upload for this session; the token to confirm it with."""
    clean_old_uploads()
    token = secrets.token_urlsafe(24)
    _path(token).write_bytes(data)
    kept = session.get(SESSION_KEY, {})
    kept = kept if isinstance(kept, dict) else {}
    kept[token] = {"replace": replace, "filename": filename}
    session[SESSION_KEY] = dict(list(kept.items())[-KEEP_PER_SESSION:])
    return token


def upload_find(session, *, token: str) -> StagedUpload | None:
    """The upload this session staged under `token`, or None (unknown, expired, foreign)."""
    kept = session.get(SESSION_KEY, {})
    entry = kept.get(token) if isinstance(kept, dict) and _is_token(token) else None
    if not entry:
        return None
    path = _path(token)
    if not path.exists():
        return None
    return StagedUpload(
        token=token, path=path, replace=bool(entry.get("replace")), filename=entry.get("filename", "")
    )


def upload_discard(session, *, upload: StagedUpload) -> None:
    """The upload was imported: delete the file and forget the token."""
    upload.path.unlink(missing_ok=True)
    kept = session.get(SESSION_KEY, {})
    if isinstance(kept, dict):
        kept.pop(upload.token, None)
        session[SESSION_KEY] = kept
