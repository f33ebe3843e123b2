"""Small CSV files for the importer tests."""

from __future__ import annotations

import tempfile
from pathlib import Path

from zhipei.occupations.models import Occupation
from zhipei.occupations.queries import get_node

HEADER = "code,level,parent_code,gbm,name,is_green,is_digital,definition"
ROWS = [
    "4,1,,40000,社会生产服务和生活服务人员,,,",
    "4-04,2,4,40400,信息传输、软件和信息技术服务人员,,,",
    "4-04-05,3,4-04,40405,软件和信息技术服务人员,,,",
    "4-04-05-05,4,4-04-05,,人工智能训练师,false,true,训练人工智能产品的人员。",
]
TRADES_HEADER = "occupation_code,occupation_name,work_type_name"


def write_csv(
    directory: Path, name: str, lines: list[str], *, encoding: str = "utf-8", bom: bool = False
) -> Path:
    path = directory / name
    data = ("\n".join(lines) + "\n").encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def node(code: str) -> Occupation:
    found = get_node(code)
    assert found is not None, f"no occupation node {code}"
    return found


class TempDirMixin:
    """`self.tmp`: a fresh directory per test (TestCase has no tmp_path)."""

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        self.tmp = Path(self.enterContext(tempfile.TemporaryDirectory()))  # type: ignore[attr-defined]
