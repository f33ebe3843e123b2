from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SkillLevel(models.IntegerChoices):
    """职业技能等级: 5 = entry (初级工) … 1 = 高级技师."""

    LEVEL_5 = 5, _("Level 5 (entry-level worker)")
    LEVEL_4 = 4, _("Level 4 (intermediate worker)")
    LEVEL_3 = 3, _("Level 3 (senior worker)")
    LEVEL_2 = 2, _("Level 2 (technician)")
    LEVEL_1 = 1, _("Level 1 (senior technician)")


class Occupation(models.Model):
    """One node of the 2022 occupational classification (职业分类大典).

    Levels: 1 大类 (major group, code `6`), 2 中类 (`6-01`), 3 小类 (`6-01-02`), 4 职业
    (`6-01-02-01`). Only level-4 rows are occupations that training and certificates name;
    the upper levels give the tree for browsing. Codes are unique.
    """

    class Level(models.IntegerChoices):
        MAJOR = 1, _("Major group")
        MIDDLE = 2, _("Middle group")
        MINOR = 3, _("Minor group")
        OCCUPATION = 4, _("Occupation")

    code = models.CharField(max_length=12, unique=True)
    level = models.PositiveSmallIntegerField(choices=Level)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    name = models.CharField(max_length=200)
    gbm = models.CharField(max_length=8, blank=True)
    is_green = models.BooleanField(default=False)
    is_digital = models.BooleanField(default=False)
    definition = models.TextField(blank=True)
    tasks = models.TextField(blank=True)
    edition = models.CharField(max_length=16, default="2022")

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[1-8](-[0-9]{2}){0,3}$"),
                name="occupation_code_form",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Trade(models.Model):
    """工种: a subdivision of one occupation (e.g. 人工智能训练师 → 人工智能数字人训练师)."""

    occupation = models.ForeignKey(Occupation, on_delete=models.PROTECT, related_name="trades")
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["occupation__code", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["occupation", "name"], name="trade_unique_per_occupation"
            )
        ]

    def __str__(self) -> str:
        return self.name
