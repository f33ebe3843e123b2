"""Demo data for the subsidies app: the policy-rules §15 defaults as the demo province's
(湖北省, 420000) policy — every version marked as an example — and a starting budget for its
two funds. Idempotent: running it again changes nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from zhipei.regions.queries import current
from zhipei.subsidies import services
from zhipei.subsidies.models import FundSource, PolicyVersion, Programme
from zhipei.subsidies.parameters import (
    ExcludedStatus,
    LivingAllowanceGroup,
    Payee,
    ShutdownKind,
)

DEMO_PROVINCE = "420000"
# 人社部发〔2020〕10号, signed 2020-02-17: the notice the whole plan implements.
NOTICE_NUMBER = "人社部发〔2020〕10号"
NOTICE_URL = "http://www.gov.cn/zhengce/zhengceku/2020-02/26/content_5483629.htm"
START = date(2020, 2, 17)

# (programme, parameters, evidence): values from policy-rules §15, each an example from the
# place named in `evidence`, not national law. Amounts in fen, ratios in basis points.
# Two §15 entries are not subsidy parameters: `requires_certificate: 培训合格证明` [N✓] is what a
# learner-training claim always rests on, and `class_hour` (45 minutes, GD/Dongguan/Wuhan [L✓])
# is the learning app's crediting policy, whose class hours the certificates carry.
DEMO_POLICIES: list[tuple[str, dict[str, Any], str]] = [
    (
        Programme.LEARNER_TRAINING,
        {
            "fund": FundSource.SKILLS_ACCOUNT,  # 10号 [N✓]
            "per_class_hour_fen": 30_00,  # Guangdong 30 元/课时 [L✓]
            "per_person_per_project_cap_fen": 800_00,  # Zhejiang [L✓]
            "per_person_per_year_cap_fen": 1000_00,  # Guangdong [L✓]
            "max_times_per_person_per_year": 3,  # Wenzhou/Qingdao [L✓]
            "same_occupation_level_once": True,  # [L✓ many]
            "next_only_after_previous_finished": True,  # Wenzhou [L✓]
            "claim_window_months": 12,  # Guangdong [L✓]
            "min_age": 16,
            "max_age_male": 60,  # Guangdong [L✓]
            "max_age_female": 55,
            "excluded_statuses": [
                ExcludedStatus.PUBLIC_SERVICE_STAFF,
                ExcludedStatus.FULL_TIME_STUDENT,
                ExcludedStatus.PENSIONER,
            ],
            "publicity_working_days": 5,  # 5–7 typical [L✓/P]
        },
        "Examples: Guangdong (rate, yearly cap, claim window, ages, exclusions), Zhejiang "
        "(project cap), Wenzhou/Qingdao (3 a year) — policy-rules §3, §6, §15",
    ),
    (
        Programme.LIVING_ALLOWANCE,
        {
            "fund": FundSource.EMPLOYMENT_FUND,  # 10号 [N✓]
            "eligible_groups": list(LivingAllowanceGroup.values),  # [N✓]
            "online_rate_per_class_hour_fen": 5_00,  # Qingdao/Shandong [L✓]
            "offline_rate_per_day_fen": 25_00,  # Heilongjiang city, incl. transport [L✓]
            "offline_rate_includes_transport": True,
            "max_times_per_year": 3,  # Qingdao [L✓]
            "annual_cap_min_wage_ratio_bp": 6000,  # Qingdao 60% [L✓]
            "min_monthly_wage_fen": 1750_00,  # placeholder for the local minimum wage [U]
            "same_occupation_level_once": True,
            "auto_grant_no_application": True,  # Qingdao 政策找人 [L✓]
            "publicity_working_days": 5,
        },
        "Examples: Qingdao/Shandong (online rate, 3 a year, 60% cap, 政策找人), Heilongjiang "
        "city (offline day rate); minimum wage is a placeholder [U] — policy-rules §4, §15",
    ),
    (
        Programme.ENTERPRISE_ONLINE_TRAINING,
        {
            "fund": FundSource.SKILLS_ACCOUNT,  # [N✓]
            "per_class_hour_fen": 30_00,  # Guangdong [L✓]
            "cost_share_cap_bp": 9500,  # Zhejiang 95% [L✓]
            "per_person_per_project_cap_fen": 800_00,  # Zhejiang [L✓]
            "per_person_per_year_cap_fen": 1000_00,  # Guangdong [L✓]
            "self_run_cost_per_person_hour_fen": 20_00,  # Wenzhou [L✓]
            "eligible_shutdown_kinds": [ShutdownKind.FULL, ShutdownKind.PARTIAL],  # [N✓]
            "payee": Payee.ENTERPRISE,  # Wenzhou [L✓]
            "include_dispatched_workers": True,  # [L✓]
            "include_platform_workers": True,  # 参照执行 [L✓]
            "publicity_working_days": 5,
        },
        "Examples: Guangdong (rate, yearly cap), Zhejiang (95% of cost, project cap), Wenzhou "
        "(self-run cost, payee) — policy-rules §3, §15",
    ),
    (
        Programme.PROJECT_BASED_TRAINING,
        {
            "fund": FundSource.SKILLS_ACCOUNT,
            "prepay_ratio_max_bp": 5000,  # Fujian / city [L✓]
            "prepay_within_days": 5,  # city [L✓]
            "class_opening_review_working_days": 3,  # city [L✓]
            "class_opening_notice_working_days": 5,  # [L✓]
            "clawback_unfinished": True,  # Fujian [L✓]
            "online_uplift_bp": 13000,  # city, epidemic period ×130% [L✓]
        },
        "Examples: Fujian (50% advance, claw-back), a city's 市财发〔2020〕 rules — policy-rules §7, §15",
    ),
    (
        Programme.APPRENTICESHIP,
        {
            "fund": FundSource.SKILLS_ACCOUNT,
            "min_subsidy_per_person_year_fen": 5000_00,  # 人社部发〔2021〕39号 [N~]
            "rate_level_4_fen": 5500_00,  # Shenzhen [L✓]
            "rate_level_3_fen": 7000_00,
            "rate_level_2_fen": 8500_00,
            "duration_years_min": 1,  # [N~]
            "duration_years_max": 2,
            "duration_years_max_special": 3,
            "min_labour_contract_years": 1,  # [N~]
            "prepay_ratio_max_bp": 5000,  # Fujian [L✓]
            "shortage_uplift_max_bp": 3000,  # Guangdong [L✓]
        },
        "Examples: 人社部发〔2021〕39号 (minimum, durations), Shenzhen (level rates), Fujian "
        "(advance), Guangdong (uplift) — policy-rules §8, §15",
    ),
]

DEMO_BUDGETS: list[tuple[str, int, str]] = [
    (FundSource.SKILLS_ACCOUNT, 10_000_000_00, "demo-budget-420000-skills-2020"),
    (FundSource.EMPLOYMENT_FUND, 2_000_000_00, "demo-budget-420000-employment-2020"),
]


@transaction.atomic
def load_demo_policies() -> int:
    """Create the demo province's example policies and budgets; returns how many policy
    versions were created (0 on a second run). Needs the region 420000 loaded."""
    province = current(DEMO_PROVINCE)
    if province is None:
        return 0
    created = 0
    for programme, parameters, evidence in DEMO_POLICIES:
        if PolicyVersion.objects.filter(
            line__programme=programme, line__region=province, effective_from=START
        ).exists():
            continue
        services.create_policy_version(
            services.VersionDraft(
                programme=programme,
                region=province,
                effective_from=START,
                effective_to=None,
                parameters=parameters,
            ),
            document_number=NOTICE_NUMBER,
            document_url=NOTICE_URL,
            is_example=True,
            evidence=evidence,
            note="Demo data: example values from other places (policy-rules §15), not Hubei's.",
            by=None,
        )
        created += 1
    for source, amount_fen, reference in DEMO_BUDGETS:
        services.allocate_budget(
            source=source,
            region=province,
            amount_fen=amount_fen,
            by=None,
            reference=reference,
            memo="Demo starting budget",
        )
    return created
