from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """One administrative division code of GB/T 2260 for one period of validity.

    The tree is province → prefecture (city) → county; counties directly under a province (the
    districts of the four municipalities, province-administered county-level cities) have the
    province as parent. Retired codes stay as rows with `valid_to_year` so old ID numbers still
    resolve (their first six digits keep the code in force when first issued). A code may have
    been used for more than one period, hence the (code, valid_from_year) key; at most one row
    per code is current.

    Region scope (ARCHITECTURE invariant 3) is a code prefix: a province's subtree is every code
    starting with its first two digits, a prefecture's with its first four, a county's with all
    six. `scope_prefix` stores it so scoping is one indexed `startswith`.
    """

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        PREFECTURE = "prefecture", _("City")
        COUNTY = "county", _("County")

    code = models.CharField(max_length=6, db_index=True)
    name = models.CharField(max_length=100)
    level = models.CharField(max_length=12, choices=Level)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    scope_prefix = models.CharField(max_length=6, db_index=True)
    valid_from_year = models.PositiveSmallIntegerField(default=1981)
    valid_to_year = models.PositiveSmallIntegerField(null=True, blank=True)
    successor_codes = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from_year"], name="region_code_period"),
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(valid_to_year__isnull=True),
                name="region_one_current",
            ),
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[0-9]{6}$"), name="region_code_six_digits"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_current(self) -> bool:
        return self.valid_to_year is None
