"""Log lines that carry their fields: the recompute, the digest and the group robots log with
`extra={...}` (event, as_of, examined, ...); this formatter prints those fields after the
message as key=value, or the whole record as one JSON object a line (LOG_FORMAT=json), for a
log shipper. Only plain values are printed (text, numbers, booleans, lists and dicts of them):
an object such as Django's request is left out, so a line never carries more than was meant."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# What every LogRecord has; anything else on a record came from `extra=`.
STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName",
}
PLAIN = (str, int, float, bool, type(None))


def _plain(value) -> bool:
    if isinstance(value, PLAIN):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _plain(item) for key, item in value.items())
    return False


def extra_fields(record: logging.LogRecord) -> dict:
    """The record's `extra=` fields that are plain values, in the order they were given."""
    return {
        key: value for key, value in vars(record).items()
        if key not in STANDARD_ATTRIBUTES and not key.startswith("_") and _plain(value)
    }


def _text(value) -> str:
    if isinstance(value, str) and value and not any(ch.isspace() or ch in '="' for ch in value):
        return value
    return json.dumps(value, ensure_ascii=False)


class StructuredFormatter(logging.Formatter):
    """TEXT_FORMAT (or `fmt`) and the extra fields as key=value; with `json=True` one JSON object."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, *, json: bool = False, **kwargs):
        super().__init__(fmt or TEXT_FORMAT, datefmt, **kwargs)
        self.json = json

    def format(self, record: logging.LogRecord) -> str:
        if self.json:
            return self._json(record)
        line = super().format(record)
        fields = extra_fields(record)
        if not fields:
            return line
        pairs = " ".join(f"{key}={_text(value)}" for key, value in fields.items())
        first, newline, rest = line.partition("\n")  # a traceback stays below the fields
        return f"{first} {pairs}{newline}{rest}"

    def _json(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({key: value for key, value in extra_fields(record).items() if key not in entry})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def use_in_celery(logger: logging.Logger, *, json: bool, fmt: str | None = None) -> None:
    """Celery's worker and beat put their own handlers on the root logger: give them this
    formatter, with Celery's line format, so the worker's recompute lines carry their fields."""
    for handler in logger.handlers:
        handler.setFormatter(StructuredFormatter(fmt, json=json))
