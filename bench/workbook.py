#!/usr/bin/env python
"""Time the workbook round trip on the 260 demo projects, as the office would send them.

    .venv/bin/python bench/workbook.py                       # SQLite (make run's default)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qiantang_bench_workbook .venv/bin/python bench/workbook.py

The database is a throwaway one: the SQLite file is deleted, the PostgreSQL database
dropped and created again. The script seeds the demo data (260 projects), exports the
三色预警表, edits it as the office would (30 re-plans, 20 milestones done, 10 new
projects, two of them with new cadres, dates typed as text in the spec's formats),
then times the preview (dry run), the import, an unchanged re-import of the export,
and the same upload → preview → confirm through the web views.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qiantang.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/qiantang_bench_workbook.sqlite3")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def fresh_database(url: str) -> None:
    import dj_database_url

    config = dj_database_url.parse(url)
    if config["ENGINE"].endswith("sqlite3"):
        Path(config["NAME"]).unlink(missing_ok=True)
        return
    import psycopg
    from psycopg import sql

    params = {k: v for k, v in {
        "host": config["HOST"] or None, "port": config["PORT"] or None,
        "user": config["USER"] or None, "password": config["PASSWORD"] or None,
    }.items() if v is not None}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(config["NAME"])))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))


def office_edits(data: bytes, today: date, prefix: str = "QT-9") -> bytes:
    import openpyxl

    book = openpyxl.load_workbook(BytesIO(data))
    sheet = book.active
    col = {cell.value: cell.column for cell in sheet[2]}
    names = [h[:-4] for h in col if isinstance(h, str) and h.endswith("(计划)")]
    formats = [
        lambda d: f"{d.year}/{d.month}/{d.day}", lambda d: f"{d.year}年{d.month}月{d.day}日",
        lambda d: f"{d.year}.{d.month}.{d.day}", lambda d: d.strftime("%Y%m%d"), lambda d: d,
    ]
    replans = done = 0
    for row in range(3, sheet.max_row + 1):
        for name in names:
            planned = sheet.cell(row, col[name + "(计划)"])
            actual = sheet.cell(row, col[name + "(实际)"])
            if actual.value or planned.value in (None, "不适用"):
                continue
            if replans < 30 and row % 3 == 0:
                planned.value = formats[replans % 5](planned.value.date() + timedelta(days=45))
                replans += 1
            elif done < 20 and row % 3 == 1 and planned.value.date() <= today:
                actual.value = formats[done % 5](planned.value.date())
                done += 1
            break
    for n in range(10):
        row = sheet.max_row + 1
        values = {
            "项目编号": f"{prefix}{n:03d}", "项目名称": f"新增测试项目{n}", "项目级别": "区重点",
            "产业类别": "人工智能", "总投资(亿元)": f"{n + 1}.5", "牵头单位": "区科技局",
            "责任干部": ["欧阳新", "司马青"][n % 2] if n < 4 else "王建国", "项目状态": "推进中",
            "过会(计划)": formats[n % 5](today + timedelta(days=20 + n)),
        }
        for header, value in values.items():
            sheet.cell(row, col[header], value)
    stream = BytesIO()
    book.save(stream)
    return stream.getvalue()


def timed(label, function):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        result = function()
        elapsed = time.perf_counter() - start
    print(f"{label:<46} {elapsed:6.2f} s  {len(queries):5d} queries")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--as-of", default="2026-11-25")
    args = parser.parse_args()
    today = date.fromisoformat(args.as_of)
    fresh_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings

    from projects.demo import seed_demo
    from projects.models import Project
    from projects.workbook.exporter import build_workbook
    from projects.workbook.importer import import_workbook

    call_command("migrate", verbosity=0)
    seed_demo(projects=260, password="bench-demo-pw", today=today)
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
          f"{Project.objects.count()} projects as of {today}")

    def export() -> bytes:
        stream = BytesIO()
        build_workbook(Project.objects.all()).save(stream)
        return stream.getvalue()

    exported = timed("export 260 projects (build + save)", export)
    edited = office_edits(exported, today)
    preview = timed("preview (dry run) of the edited sheet", lambda: import_workbook(edited, today=today))
    print(f"    created {len(preview.created)}, updated {len(preview.updated)}, unchanged "
          f"{len(preview.unchanged)}, re-plans {preview.replan_count}, new cadres {preview.new_cadres}, "
          f"errors {len(preview.errors)}")
    applied = timed("import (plan + write + recompute)", lambda: import_workbook(edited, today=today, dry_run=False))
    assert applied.applied, applied.errors or applied.refusal
    again = export()
    unchanged = timed("re-import of the new export (round trip)", lambda: import_workbook(again, today=today, dry_run=False))
    print(f"    unchanged {len(unchanged.unchanged)} of {len(unchanged.rows)}")

    # Through the pages, as the office uses them (session, upload, preview, confirm).
    from django.contrib.auth import get_user_model

    with override_settings(ALLOWED_HOSTS=["testserver"]):
        client = Client()
        client.force_login(get_user_model().objects.get(username="office"))
        edited_again = office_edits(export(), today, prefix="QT-8")
        from django.core.files.uploadedfile import SimpleUploadedFile

        def upload():
            return client.post("/workbook/import/", {"workbook": SimpleUploadedFile("表.xlsx", edited_again)}, HTTP_HX_REQUEST="true")

        response = timed("web: upload + preview", upload)
        import re

        token = re.search(rb'name="token" value="([^"]+)"', response.content).group(1).decode()
        response = timed("web: confirm (import + recompute + summary)",
                         lambda: client.post("/workbook/import/confirm/", {"token": token}, HTTP_HX_REQUEST="true"))
        assert response.status_code == 200 and "导入完成" in response.content.decode()
        timed("web: export download", lambda: client.get("/workbook/export/"))


if __name__ == "__main__":
    main()
