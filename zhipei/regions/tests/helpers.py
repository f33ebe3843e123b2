"""Small CSV files for the importer tests."""

from __future__ import annotations

import tempfile
from pathlib import Path

from zhipei.regions.models import Region
from zhipei.regions.queries import current

CODES_HEADER = (
    "code,name,level,parent_code,province_code,province_name,prefecture_code,prefecture_name"
)
HISTORY_HEADER = "代码,一级行政区,二级行政区,名称,级别,状态,启用时间,变更/弃用时间,新代码"

CODES_ROWS = [
    "420000,湖北省,province,,420000,湖北省,,",
    "420100,武汉市,prefecture,420000,420000,湖北省,420100,武汉市",
    "420102,江岸区,county,420100,420000,湖北省,420100,武汉市",
    "429004,仙桃市,county,420000,420000,湖北省,,",
]


def write_csv(
    directory: Path, name: str, lines: list[str], *, encoding: str = "utf-8", bom: bool = False
) -> Path:
    path = directory / name
    data = ("\n".join(lines) + "\n").encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


class TempDirMixin:
    """`self.tmp`: a fresh directory per test (TestCase has no tmp_path)."""

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        self.tmp = Path(self.enterContext(tempfile.TemporaryDirectory()))  # type: ignore[attr-defined]


def region(code: str) -> Region:
    """The current region with this code; fails the test when there is none."""
    found = current(code)
    assert found is not None, f"no current region {code}"
    return found


def parent_of(child: Region) -> Region:
    assert child.parent is not None, f"{child} has no parent"
    return child.parent
