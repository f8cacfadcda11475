"""Small typed readers for settings taken from environment variables, and the local file."""
import os
from pathlib import Path

from dotenv import load_dotenv


def load_local_env_file(default: Path) -> Path | None:
    """Read the local settings file into the environment; variables already set win.

    `make env` (and so `make run`) writes `.env` in the checkout with DEBUG=1 and a SECRET_KEY
    generated once, so that manage.py, Celery and gunicorn started by hand in a new shell see
    the same settings as `make run`. Production sets real environment variables instead.
    QIANTANG_ENV_FILE names another file; set to an empty string, no file is read.
    """
    chosen = os.environ.get("QIANTANG_ENV_FILE")
    path = default if chosen is None else (Path(chosen) if chosen.strip() else None)
    if path is None or not path.is_file():
        return None
    load_dotenv(path, override=False)
    return path


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return int(value)


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [part.strip() for part in value.split(",") if part.strip()]
