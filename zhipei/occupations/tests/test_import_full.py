"""The full 2022 classification and the partial 工种 list from ../shared/data."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command

from zhipei.core.csvimport import ImportRejected
from zhipei.occupations.importer import import_occupations, import_trades
from zhipei.occupations.models import Occupation, Trade

pytestmark = [pytest.mark.django_db, pytest.mark.shared_data]


def test_full_classification_imports_once(shared_data):
    path = shared_data / "occupations" / "occupation_classification_2022.csv"

    first = import_occupations(path)
    second = import_occupations(path)

    assert (first.created, first.updated, first.unchanged) == (2176, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2176)
    assert Counter(Occupation.objects.values_list("level", flat=True)) == {
        1: 8,
        2: 79,
        3: 450,
        4: 1639,
    }
    assert not Occupation.objects.filter(level__gt=1, parent__isnull=True).exists()
    assert Occupation.objects.filter(level=4, is_green=True).count() == 134
    assert Occupation.objects.filter(level=4, is_digital=True).count() == 98
    trainer = Occupation.objects.select_related("parent").get(code="4-04-05-05")
    assert trainer.parent is not None
    assert (trainer.name, trainer.parent.code, trainer.is_digital) == (
        "人工智能训练师",
        "4-04-05",
        True,
    )
    assert trainer.definition and trainer.tasks


def test_partial_trades_have_three_bad_rows(shared_data):
    folder = shared_data / "occupations"
    import_occupations(folder / "occupation_classification_2022.csv")
    trades = folder / "occupation_work_types_partial.csv"

    with pytest.raises(ImportRejected) as caught:
        import_trades(trades)
    # 4-04-05-13 is a 2024 occupation; 4-07-03-07 is 劳务经纪人 in the 2022 edition (the source
    # used a draft code for 招聘师).
    assert [(e.line, e.code) for e in caught.value.result.errors] == [
        (25, "unknown_occupation"),
        (31, "name_mismatch"),
        (32, "name_mismatch"),
    ]
    assert not Trade.objects.exists()

    out, err = StringIO(), StringIO()
    call_command("import_trades", str(trades), "--skip-bad-rows", stdout=out, stderr=err)
    call_command("import_trades", str(trades), "--skip-bad-rows", stdout=out, stderr=err)

    lines = out.getvalue().splitlines()
    assert "67 created, 0 updated, 0 unchanged. 3 bad rows skipped." in lines[0]
    assert "0 created, 0 updated, 67 unchanged. 3 bad rows skipped." in lines[1]
    assert Trade.objects.count() == 67
    assert "line 25: unknown occupation code '4-04-05-13'" in err.getvalue()
