"""The console's log lines carry the fields logged with `extra=` (qiantang.logging): the
recompute's figures as key=value, or one JSON object a line with LOG_FORMAT=json."""
import json
import logging

import pytest
from django.conf import settings

from qiantang.logging import StructuredFormatter, use_in_celery
from qiantang_warnings.recompute import recompute_all


@pytest.fixture
def recompute_record(make_project, today, caplog):
    make_project("QT-LOG", milestones={"signing": {"planned_date": today}})
    with caplog.at_level(logging.INFO, logger="qiantang_warnings.recompute"):
        recompute_all(today=today)
    (record,) = [r for r in caplog.records if getattr(r, "event", None) == "recompute"]
    return record


@pytest.mark.django_db
def test_the_recompute_line_carries_its_fields_as_key_value(recompute_record):
    line = StructuredFormatter().format(recompute_record)
    assert " INFO qiantang_warnings.recompute recompute as of 2026-11-25: 1 examined, 1 updated" in line
    assert ("event=recompute as_of=2026-11-25 examined=1 updated=1 status_changes=1 scope=all due_only=false"
            f" seconds={recompute_record.seconds}") in line
    assert "\n" not in line


@pytest.mark.django_db
def test_with_log_format_json_the_line_is_one_json_object(recompute_record):
    entry = json.loads(StructuredFormatter(json=True).format(recompute_record))
    assert entry["logger"] == "qiantang_warnings.recompute" and entry["level"] == "INFO"
    assert entry["message"].startswith("recompute as of 2026-11-25: 1 examined")
    assert {key: entry[key] for key in ("event", "as_of", "examined", "updated", "status_changes", "scope")} == {
        "event": "recompute", "as_of": "2026-11-25", "examined": 1, "updated": 1, "status_changes": 1, "scope": "all",
    }


def test_text_with_spaces_is_quoted_objects_are_left_out_and_a_traceback_stays_below():
    logger = logging.getLogger("tests.logging")
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logger.makeRecord("tests.logging", logging.ERROR, __file__, 1, "failed", (), sys.exc_info(),
                                   extra={"user": "王 建国", "request": object(), "weeks": ["2026-W48"]})
    first, _newline, rest = StructuredFormatter().format(record).partition("\n")
    assert first.endswith('failed user="王 建国" weeks=["2026-W48"]')
    assert "request" not in first and "ValueError: boom" in rest


def test_the_console_handler_uses_it():
    assert settings.LOGGING["handlers"]["console"]["formatter"] == "structured"
    assert settings.LOGGING["formatters"]["structured"]["()"] == "qiantang.logging.StructuredFormatter"
    assert any(isinstance(handler.formatter, StructuredFormatter) for handler in logging.getLogger().handlers)


def test_celery_s_handlers_get_it_with_celery_s_line_format():
    logger = logging.Logger("celery-root")
    logger.addHandler(logging.StreamHandler())
    use_in_celery(logger, json=False, fmt="[%(levelname)s] %(message)s")
    record = logger.makeRecord("x", logging.INFO, __file__, 1, "done", (), None, extra={"examined": 3})
    assert logger.handlers[0].format(record) == "[INFO] done examined=3"
