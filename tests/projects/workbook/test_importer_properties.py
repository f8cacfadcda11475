"""Whatever a workbook holds, reading it gives rows and row errors or one refusal of the whole
file, never another exception (hypothesis): any cell values under the office's header, and any
damage to the file's bytes."""
import io
import math
from datetime import date, datetime, timedelta

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projects.workbook.importer import WorkbookRefused, read_workbook

from .test_importer import HEADER, ROWS, as_bytes, office_workbook

MILESTONES = ["过会", "项目签约", "土地挂牌"]
TODAY = date(2026, 11, 25)
PROPERTIES = settings(max_examples=150, deadline=timedelta(seconds=5), database=None,
                      suppress_health_check=[HealthCheck.too_slow])

cells = st.one_of(
    st.none(),
    st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=40),
    st.sampled_from(["不适用", "/", "—", "2026-13-01", "2026/2/30", "1e400", "1,2,3", "=1+1", "-0", "推进中", "省重点"]),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31)),
)


def read(data: bytes):
    try:
        result = read_workbook(data, milestone_names=MILESTONES, today=TODAY)
    except WorkbookRefused as refused:
        assert str(refused)
        return None
    for error in result.errors:
        assert len(str(error)) < 300  # a bad value is quoted only in part
    return result


@PROPERTIES
@given(st.lists(st.lists(cells, min_size=len(HEADER), max_size=len(HEADER)), min_size=1, max_size=8))
def test_any_cell_values_give_rows_or_row_errors(rows):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "三色预警表"
    sheet.append(HEADER)
    for row in rows:
        sheet.append([
            None if isinstance(value, float) and not math.isfinite(value) else value for value in row
        ])
    read(as_bytes(book))


VALID = office_workbook(ROWS)


@PROPERTIES
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1, max_size=20))
def test_damaged_bytes_are_refused_or_read_never_a_crash(damage):
    data = bytearray(VALID)
    for position, value in damage:
        data[position] = value
    read(bytes(data))


@PROPERTIES
@given(st.binary(max_size=2000))
def test_any_bytes_are_refused_or_read(data):
    read(data)


def test_a_central_directory_claiming_a_zip_version_python_cannot_read_is_refused():
    """Found by the property above: byte 6 of a central directory entry is the version
    needed to extract; zipfile refuses 6.4 with NotImplementedError, not BadZipFile."""
    data = bytearray(VALID)
    entry = data.index(b"PK\x01\x02")
    data[entry + 6] = 64
    assert read(bytes(data)) is None


def test_a_truncated_file_is_refused():
    assert read(VALID[: len(VALID) // 2]) is None
    assert read(io.BytesIO(VALID).read()[:100]) is None
