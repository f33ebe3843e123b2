"""The bank file format on its own (no database): canonical text and checksum, CSV and Excel
writing and reading, and every line-level check of a return file."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import Workbook

from zhipei.subsidies import bankfiles
from zhipei.subsidies.bankfiles import (
    BankFileError,
    PaymentLine,
    ReturnLine,
    content_sha256,
    parse_return_file,
    return_file_rows,
)

WHEN = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


def lines(n: int = 2) -> list[ReturnLine]:
    return [
        ReturnLine(f"PC00000001-{i:05d}", 800_00 + i, "paid", bank_reference=f"BK{i}")
        for i in range(1, n + 1)
    ]


def problems(parsed: bankfiles.ParsedReturnFile) -> set[tuple[int, str]]:
    return {(e.line, e.code) for e in parsed.errors}


def csv_of(rows: list[list[str]]) -> bytes:
    return bankfiles.to_csv(rows)


def test_amounts_are_written_with_two_decimals_and_no_separators():
    assert bankfiles.amount_text(0) == "0.00"
    assert bankfiles.amount_text(5) == "0.05"
    assert bankfiles.amount_text(123_456_789) == "1234567.89"
    with pytest.raises(ValueError):
        bankfiles.amount_text(-1)


def test_canonical_text_strips_cells_drops_trailing_empties_and_blank_rows_and_quotes():
    rows = [[" a ", "b,c", 'say "hi"', "", ""], [], ["", ""], ["x", "", "y"]]
    assert bankfiles.canonical_text(rows) == 'a,"b,c","say ""hi"""\nx,,y\n'


def test_checksum_line_counts_totals_and_hashes_the_lines_before_it():
    rows = return_file_rows(lines(2))
    assert rows[-1][:3] == ["CHECKSUM", "2", "1600.03"]
    assert rows[-1][3] == content_sha256(rows[:-1])
    assert len(rows[-1][3]) == 64


def test_payment_file_rows_carry_the_full_account_number():
    rows = bankfiles.payment_file_rows(
        [
            PaymentLine(
                "PC00000001-00001", "SQ00000007", "李娜", "工行", "6222021234567890123", 80000
            )
        ]
    )
    assert rows[1] == [
        "PC00000001-00001",
        "SQ00000007",
        "李娜",
        "工行",
        "6222021234567890123",
        "800.00",
    ]
    assert rows[2][:3] == ["CHECKSUM", "1", "800.00"]


def test_a_good_csv_return_file_parses_with_no_problems():
    parsed = parse_return_file("r.csv", csv_of(return_file_rows(lines(2))))
    assert parsed.errors == []
    assert parsed.file_format == "csv"
    assert [(ln.line, ln.reference, ln.amount_fen, ln.result) for ln in parsed.lines] == [
        (2, "PC00000001-00001", 800_01, "paid"),
        (3, "PC00000001-00002", 800_02, "paid"),
    ]


def test_line_ends_a_byte_order_mark_and_gb18030_do_not_change_the_checksum():
    rows = return_file_rows([ReturnLine("PC1-00001", 100, "failed", failure_reason="账户已冻结")])
    crlf = csv_of(rows)
    lf = crlf.replace(b"\r\n", b"\n")
    bom = b"\xef\xbb\xbf" + lf
    gbk = crlf.decode("utf-8").encode("gb18030")
    for content in (crlf, lf, bom, gbk):
        parsed = parse_return_file("r.csv", content)
        assert parsed.errors == [], content
        assert parsed.lines[0].failure_reason == "账户已冻结"


def test_an_excel_return_file_gives_the_same_lines_and_checksum():
    rows = return_file_rows(lines(2))
    workbook = bankfiles.to_xlsx(rows, sheet_title="回盘", when=WHEN)
    parsed = parse_return_file("回盘.xlsx", workbook)
    assert parsed.errors == [] and parsed.file_format == "xlsx"
    assert [ln.amount_fen for ln in parsed.lines] == [800_01, 800_02]


def test_number_cells_in_excel_are_read_as_their_decimal_text():
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    header = [*bankfiles.RETURN_COLUMNS, "paid_on"]
    sheet.append(header)
    sheet.append(["PC1-00001", 800.5, "paid", "BK1", None, date(2026, 5, 2)])
    text_rows = [header, ["PC1-00001", "800.5", "paid", "BK1", "", "2026-05-02"]]
    sheet.append(["CHECKSUM", 1, "800.50", content_sha256(text_rows)])
    out = io.BytesIO()
    book.save(out)
    parsed = parse_return_file("r.xlsx", out.getvalue())
    assert parsed.errors == []
    assert parsed.lines[0].amount_fen == 800_50
    assert parsed.lines[0].paid_on == date(2026, 5, 2)


def test_the_same_rows_and_time_give_the_same_workbook_bytes():
    rows = return_file_rows(lines(3))
    one = bankfiles.to_xlsx(rows, sheet_title="PC1", when=WHEN)
    two = bankfiles.to_xlsx(rows, sheet_title="PC1", when=WHEN)
    later = bankfiles.to_xlsx(rows, sheet_title="PC1", when=WHEN.replace(hour=11))
    assert one == two
    assert one != later


def test_text_that_looks_like_a_formula_stays_text_in_the_workbook():
    rows = [["payee_name"], ["=1+2"], ["@SUM(A1)"]]
    workbook = bankfiles.to_xlsx(rows, sheet_title="t", when=WHEN)
    _format, read = bankfiles.read_table("t.xlsx", workbook)
    assert [row.cells[0] for row in read] == ["payee_name", "=1+2", "@SUM(A1)"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("r.txt", b"a,b\r\n", "as .csv or .xlsx"),
        ("r.csv", b"", "empty"),
        ("r.xlsx", b"a,b\r\n", "content is not"),
        ("r.csv", b"PK\x03\x04zip", "content is not"),
        ("r.xlsx", b"PK\x03\x04broken", "cannot be opened"),
        ("r.csv", b"a,\x00b\r\n", "not a CSV"),
        ("r.csv", b"\r\n\r\n", "no lines"),
    ],
)
def test_unreadable_files_are_refused_with_a_message(name, content, message):
    with pytest.raises(BankFileError, match=message):
        parse_return_file(name, content)


def test_missing_columns_are_named():
    content = csv_of([["payment_reference", "amount"], ["PC1-00001", "1.00"]])
    parsed = parse_return_file("r.csv", content)
    assert problems(parsed) == {(1, "missing_columns")}
    assert "result, bank_reference, failure_reason" in parsed.errors[0].message


def test_columns_may_come_in_any_order_and_extra_ones_are_ignored():
    header = [
        "Result",
        "amount",
        "payee_name",
        "payment_reference",
        "failure_reason",
        "bank_reference",
    ]
    rows = [header, ["paid", "1.00", "李娜", "PC1-00001", "", "BK1"]]
    parsed = parse_return_file(
        "r.csv", csv_of(bankfiles.with_checksum(rows, count=1, total_fen=100))
    )
    assert parsed.errors == []
    assert parsed.lines[0].reference == "PC1-00001" and parsed.lines[0].bank_reference == "BK1"


def test_each_bad_cell_is_reported_on_its_line():
    header = [*bankfiles.RETURN_COLUMNS, "paid_on"]
    rows = [
        header,
        ["", "1.00", "paid", "BK1", "", ""],  # 2: no reference
        ["PC1-00002", "1.001", "paid", "BK2", "", ""],  # 3: three decimals
        ["PC1-00003", "-1.00", "paid", "BK3", "", ""],  # 4: negative
        ["PC1-00004", "1.00", "ok", "BK4", "", ""],  # 5: bad result
        ["PC1-00005", "1.00", "paid", "", "", ""],  # 6: paid without bank reference
        ["PC1-00006", "1.00", "failed", "", "", ""],  # 7: failed without reason
        ["PC1-00007", "1.00", "paid", "BK7", "", "2026-02-30"],  # 8: no such day
        ["PC1-00008", "1.00", "PAID", "BK8", "", "1/5/2026"],  # 9: not ISO
    ]
    parsed = parse_return_file("r.csv", csv_of(bankfiles.with_checksum(rows, count=8, total_fen=0)))
    assert problems(parsed) == {
        (2, "reference_missing"),
        (3, "bad_amount"),
        (4, "bad_amount"),
        (5, "bad_result"),
        (6, "bank_reference_missing"),
        (7, "reason_missing"),
        (8, "bad_date"),
        (9, "bad_date"),
    }  # the total is not checked while amounts are unreadable
    assert "at most two decimals" in str(next(e for e in parsed.errors if e.line == 3))
    assert str(parsed.errors[0]).startswith("line ")


def test_duplicate_lines_and_bank_references_are_reported_with_the_first_line():
    one = ReturnLine("PC1-00001", 100, "paid", bank_reference="BK1")
    two = ReturnLine("PC1-00002", 100, "paid", bank_reference="BK1")
    parsed = parse_return_file("r.csv", csv_of(return_file_rows([one, two, one])))
    assert problems(parsed) == {
        (3, "duplicate_bank_reference"),
        (4, "duplicate_line"),
        (4, "duplicate_bank_reference"),
    }
    assert "first on line 2" in str(next(e for e in parsed.errors if e.code == "duplicate_line"))


def test_checksum_count_and_total_must_match_the_lines():
    rows = return_file_rows(lines(2))
    good = rows[-1]
    cases = {
        "count_mismatch": [good[0], "3", good[2], good[3]],
        "total_mismatch": [good[0], good[1], "1600.00", good[3]],
        "checksum_malformed": [good[0], good[1], good[2], "abc"],
        "checksum_mismatch": [good[0], good[1], good[2], "0" * 64],
    }
    for code, checksum in cases.items():
        parsed = parse_return_file("r.csv", csv_of([*rows[:-1], checksum]))
        assert problems(parsed) == {(4, code)}, code


def test_a_changed_line_breaks_the_checksum():
    rows = return_file_rows(lines(2))
    rows[2][3] = "BK-EDITED"
    parsed = parse_return_file("r.csv", csv_of(rows))
    assert problems(parsed) == {(4, "checksum_mismatch")}


def test_the_checksum_line_must_be_last_and_only_once():
    rows = return_file_rows(lines(1))
    parsed = parse_return_file("r.csv", csv_of([*rows, ["PC1-00009", "1.00", "paid", "BK9"]]))
    assert (4, "after_checksum") in problems(parsed)
    parsed = parse_return_file("r.csv", csv_of([rows[0], rows[-1], *rows[1:]]))
    assert (2, "checksum_repeated") in problems(parsed)
    parsed = parse_return_file("r.csv", csv_of(rows[:-1]))
    assert problems(parsed) == {(2, "checksum_missing")}


def test_a_file_with_only_a_header_and_checksum_has_no_lines():
    rows = bankfiles.with_checksum([list(bankfiles.RETURN_COLUMNS)], count=0, total_fen=0)
    parsed = parse_return_file("r.csv", csv_of(rows))
    assert problems(parsed) == {(1, "no_lines")}


def test_too_many_lines_are_refused():
    content = b"".join([b"payment_reference,amount\r\n"] + [b"PC1,1.00\r\n"] * bankfiles.MAX_LINES)
    with pytest.raises(BankFileError, match="more than 50000 lines"):
        parse_return_file("r.csv", content)
