"""The demo province's catalogue: selected platforms, courses for 31 of the 32 demo
occupations, the project catalogue, skill standards and filings in every state.

`load_demo_catalog()` runs after the portal's `load_demo()` (it needs its officers, platforms,
institutions and enterprises, found through their demo login names) and goes through the
services only:

* a real call for platforms (selection.services): the three demo platforms apply with a
  business licence, two city/county officers score every application, the province officer
  selects them and publishes the results — so they become selected platforms, enter the
  province's institution catalogue and appear on the public list;
* skill standards and a few teaching materials (standards.py);
* project-catalogue entries for the demo cities and 仙桃市 (catalogues.services);
* one course per demo occupation (except 军人 7-04), published by the platforms
  (catalogues.courses.publish_course: lessons with media durations, activity IRIs under each
  platform's site, content categories, some free) and approved by the province officer;
* filings of every kind, left approved, submitted, returned, rejected and as a draft.

Idempotent: each object is looked up by its natural key first, so a second run creates
nothing. A call only reaches review after its deadline, so on the first run the demo call
takes applications for `call_window_seconds` and the loader waits that long once.
Everything here is SYNTHETIC: names, sites and documents are invented.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from zhipei.accounts.models import RoleAssignment, User
from zhipei.catalog import standards as standard_services
from zhipei.catalog.catalogues import services as catalogue_services
from zhipei.catalog.catalogues.courses import (
    CourseData,
    LessonData,
    OfflineSessionData,
    approve_course,
    publish_course,
)
from zhipei.catalog.filings import services as filing_services
from zhipei.catalog.filings.kinds import KINDS
from zhipei.catalog.models import (
    CatalogueStatus,
    ContentCategory,
    Course,
    Criterion,
    Filing,
    PlatformApplication,
    PlatformCall,
    ProjectCatalogueEntry,
    Review,
    SkillStandard,
    TeachingMaterial,
    Upload,
)
from zhipei.catalog.selection import services as selection
from zhipei.catalog.selection.inputs import ApplicationData, CallData, RubricItemData
from zhipei.occupations.models import Occupation
from zhipei.orgs.models import Organisation, Platform
from zhipei.people.models import Person
from zhipei.regions.models import Region


class Writer(Protocol):
    def write(self, text: str, /) -> object: ...


# A one-page PDF: what the demo attaches wherever a document is required.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

CALL_TITLE = "湖北省线上职业技能培训平台征集（2026年第一批，演示）"
SKIPPED_OCCUPATIONS = frozenset({"7-04-00-00"})  # 军人 are not trained through this plan

# Demo login names (zhipei.portal.demo.DEMO_ACCOUNTS) of the people the catalogue needs.
PROVINCE, CITY, COUNTY, XILING = "hb_labour", "wh_labour", "ja_labour", "xl_labour"
OPERATORS = ("cc_ops", "jc_ops", "cj_ops")
INSTITUTION, FIRM, XT_FIRM, SX_FIRM = "lt_school", "jc_hr", "xh_hr", "sx_hr"

STANDARDS = (
    ("4-04-05-05", "人工智能训练师国家职业技能标准", "2021", "5-1"),
    ("4-10-01-05", "养老护理员国家职业技能标准", "2019", "5-1"),
    ("4-03-02-01", "中式烹调师国家职业技能标准", "2018", "5-1"),
    ("6-31-01-03", "电工国家职业技能标准", "2018", "5-1"),
    ("6-18-02-04", "焊工国家职业技能标准", "2018", "5-1"),
    ("4-10-08-01", "网约配送员国家职业技能标准", "2021", "5-3"),
)
MATERIALS = (
    ("人工智能训练师（基础知识）", ("4-04-05-05",), "9787516750001", 2021, "4-04-05-05"),
    ("养老护理员（初级）", ("4-10-01-05",), "9787516742693", 2020, "4-10-01-05"),
    ("职业道德与安全生产通识", ("6-31-01-03", "6-18-02-04"), "", 2022, None),
)
CATEGORY_CYCLE = (
    ContentCategory.SAFETY,
    ContentCategory.ETHICS,
    ContentCategory.NEW_KNOWLEDGE,
    ContentCategory.CRAFTSMAN_SPIRIT,
    ContentCategory.LAW,
    ContentCategory.QUALITY,
    ContentCategory.EMPLOYMENT_GUIDANCE,
    ContentCategory.EPIDEMIC,
    ContentCategory.GENERAL_QUALITY,
)
PROJECT_REGIONS = ("420100", "420500", "420600", "429004")


@dataclass
class CatalogDemoReport:
    created: dict[str, int] = field(default_factory=dict)
    new_credentials: list[tuple[str, str, str]] = field(default_factory=list)

    def count(self, kind: str, n: int = 1) -> None:
        self.created[kind] = self.created.get(kind, 0) + n

    @property
    def anything_created(self) -> bool:
        return bool(self.created)


@dataclass(frozen=True)
class _Cast:
    users: dict[str, User]
    organisations: dict[str, Organisation]

    def org(self, username: str) -> Organisation:
        return self.organisations[username]


def _cast() -> _Cast:
    names = (PROVINCE, CITY, COUNTY, XILING, *OPERATORS, INSTITUTION, FIRM, XT_FIRM, SX_FIRM)
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    missing = sorted(set(names) - set(users))
    if missing:
        raise LookupError(
            "The demo catalogue needs the demo province: run manage.py load_demo first "
            f"(missing accounts: {', '.join(missing)})."
        )
    organisations: dict[str, Organisation] = {}
    for assignment in RoleAssignment.objects.filter(
        user__username__in=names, organisation__isnull=False, revoked_at__isnull=True
    ).select_related("organisation__region", "user"):
        assert assignment.organisation is not None
        organisations[assignment.user.username] = assignment.organisation
    return _Cast(users=users, organisations=organisations)


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, DEMO_PDF, content_type="application/pdf")


def _region(code: str) -> Region:
    return Region.objects.get(code=code, valid_to_year__isnull=True)


def _occupations() -> list[Occupation]:
    return [
        o
        for o in Occupation.objects.filter(level=Occupation.Level.OCCUPATION).order_by("code")
        if o.code not in SKIPPED_OCCUPATIONS
    ]


# --- Platform selection -------------------------------------------------------------------------


def _select_platforms(
    cast: _Cast, report: CatalogDemoReport, out: Writer, *, window_seconds: float
) -> None:
    province = cast.users[PROVINCE]
    call = PlatformCall.objects.filter(title=CALL_TITLE).first()
    if call is not None and call.status == PlatformCall.Status.PUBLISHED:
        return
    codes = [o.code for o in _occupations()]
    if call is None:
        now = timezone.now()
        call = selection.create_call(
            CallData(
                region=_region("420000"),
                title=CALL_TITLE,
                criteria="依法注册、信誉良好、服务优质的线上职业技能培训平台；具备数据接口和信息安全保障能力。",
                description="面向全省征集线上职业技能培训平台及其数字培训资源（演示数据）。",
                opens_at=now - timedelta(minutes=1),
                closes_at=now + timedelta(seconds=window_seconds),
                rubric=[
                    RubricItemData(criterion=c, weight=w, max_score=10)
                    for c, w in zip(Criterion.values, (2, 1, 2, 2, 2, 1), strict=True)
                ],
                reviewers_required=2,
            ),
            by=province,
        )
        call = selection.open_call(call, by=province)
        report.count("platform calls")
        for i, username in enumerate(OPERATORS):
            operator = cast.users[username]
            organisation = cast.org(username)
            platform = Platform.objects.filter(organisation=organisation).first()
            website = platform.website if platform and platform.website else "https://example.cn"
            application = selection.create_application(
                call,
                organisation=organisation,
                data=ApplicationData(
                    website=website,
                    summary=f"{organisation.name}：在线课程、直播授课、学习记录上报（演示）。",
                    occupation_codes=codes[i::3],
                    interface_contact_name=organisation.contact_name or "接口联系人",
                    interface_contact_phone=organisation.contact_phone or "13800000000",
                    interface_contact_email=f"api@{website.split('//')[-1].split('/')[0]}",
                    offered_courses="岗位技能、安全生产、职业素养课程",
                ),
                by=operator,
            )
            selection.add_document(
                application, _pdf("营业执照.pdf"), kind=Upload.Kind.BUSINESS_LICENCE, by=operator
            )
            selection.submit_application(application, by=operator)
            report.count("platform applications")
        wait = (call.closes_at - timezone.now()).total_seconds()
        if wait > 0:
            out.write(f"Waiting {wait:.0f} s for the demo call's deadline…\n")
            time.sleep(wait + 0.2)
    call.refresh_from_db()
    if call.status == PlatformCall.Status.OPEN:
        call = selection.start_review(call, by=province)
    if call.status == PlatformCall.Status.REVIEWING:
        reviewers = [cast.users[CITY], cast.users[COUNTY]]
        selection.assign_reviewers(call, reviewers=reviewers, by=province)
        for review in Review.objects.filter(
            application__call=call, submitted_at__isnull=True, conflict_declared=False
        ).select_related("application", "reviewer"):
            selection.score(
                review,
                scores=dict.fromkeys(
                    Criterion.values, 7 + (review.application_id + review.reviewer_id) % 3
                ),
                by=review.reviewer,
                comment="资质齐全，课程资源丰富（演示）。",
            )
            report.count("reviews")
        for application in PlatformApplication.objects.filter(
            call=call, status=PlatformApplication.Status.UNDER_REVIEW
        ):
            selection.decide(application, outcome="selected", by=province, note="综合评分合格")
        call.refresh_from_db()
    if call.status == PlatformCall.Status.DECIDED:
        results = selection.publish_results(call, by=province)
        report.count("platforms selected", len(results.selected))
        for issued in results.issued:
            report.new_credentials.append(
                (issued.platform.organisation.name, issued.credential.key_id, issued.secret)
            )


# --- Standards and materials ----------------------------------------------------------------------


def _standards(cast: _Cast, report: CatalogDemoReport) -> dict[str, SkillStandard]:
    province = cast.users[PROVINCE]
    found: dict[str, SkillStandard] = {}
    occupations = {o.code: o for o in Occupation.objects.filter(code__in=[s[0] for s in STANDARDS])}
    for code, title, edition, levels in STANDARDS:
        occupation = occupations.get(code)
        if occupation is None:
            continue
        standard = SkillStandard.objects.filter(occupation=occupation, edition=edition).first()
        if standard is None:
            standard = standard_services.create_standard(
                occupation=occupation,
                title=title,
                edition=edition,
                issued_by="人力资源社会保障部",
                levels=levels,
                by=province,
            )
            report.count("skill standards")
        found[code] = standard
    for title, codes, isbn, year, standard_code in MATERIALS:
        if TeachingMaterial.objects.filter(title=title).exists():
            continue
        standard_services.create_material(
            title=title,
            occupations=list(Occupation.objects.filter(code__in=codes)),
            publisher="中国劳动社会保障出版社",
            isbn=isbn,
            year=year,
            standard=found.get(standard_code) if standard_code else None,
            by=province,
        )
        report.count("teaching materials")
    return found


# --- Project catalogue --------------------------------------------------------------------------


def _project_catalogue(cast: _Cast, report: CatalogDemoReport) -> None:
    province = cast.users[PROVINCE]
    occupations = _occupations()
    types = list(ProjectCatalogueEntry.TrainingType.values)
    for r, code in enumerate(PROJECT_REGIONS):
        region = _region(code)
        for i, occupation in enumerate(occupations[r::2]):
            live = ProjectCatalogueEntry.objects.filter(
                region=region, occupation=occupation, trade__isnull=True, skill_level__isnull=True
            ).exclude(status=CatalogueStatus.REMOVED)
            if live.exists():
                continue
            catalogue_services.create_project_entry(
                region,
                occupation=occupation,
                training_type=types[(i + r) % len(types)],
                valid_from=date(2026, 1, 1),
                valid_to=date(2027, 12, 31),
                class_hours=Decimal(40 + 8 * (i % 5)),
                subsidy_standard_fen=(600 + 100 * (i % 6)) * 100,
                by=province,
            )
            report.count("project catalogue entries")


# --- Courses ------------------------------------------------------------------------------------


def _course_data(
    occupation: Occupation, index: int, platform: Platform, standard: SkillStandard | None
) -> CourseData:
    site = (platform.website or "https://example.cn").rstrip("/")
    external_id = f"DEMO-{occupation.code}"
    base = f"{site}/xapi/courses/{external_id}"
    categories = [ContentCategory.SKILLS, CATEGORY_CYCLE[index % len(CATEGORY_CYCLE)]]
    lessons = [
        LessonData(
            external_id=f"{external_id}-L1",
            title=f"{occupation.name}：职业概况与职业道德",
            kind="video",
            activity_iri=f"{base}/lessons/1",
            media_duration_seconds=1500 + 60 * (index % 7),
        ),
        LessonData(
            external_id=f"{external_id}-L2",
            title=f"{occupation.name}：安全规范与操作要点",
            kind="video",
            activity_iri=f"{base}/lessons/2",
            media_duration_seconds=2100 + 45 * (index % 5),
        ),
        LessonData(
            external_id=f"{external_id}-L3",
            title="课程讲义",
            kind="document",
            activity_iri=f"{base}/lessons/3",
        ),
    ]
    values: dict[str, Any] = {
        "external_id": external_id,
        "title": f"{occupation.name}岗位技能培训",
        "description": f"面向{occupation.name}岗位的线上职业技能培训课程（演示数据）。",
        "occupation_codes": [occupation.code],
        "skill_level": (5, 4, 3)[index % 3],
        "categories": categories,
        "class_hours": Decimal(16 + 4 * (index % 6)),
        "is_free": index % 2 == 0,
        "requires_test": True,
        "activity_iri": base,
        "url": f"{site}/courses/{external_id}",
        "lessons": lessons,
        "standard": standard.pk if standard is not None else None,
    }
    if values["is_free"]:
        values["free_from"] = date(2026, 1, 1)
        values["free_until"] = date(2026, 12, 31) if index % 4 == 0 else None
    if index % 10 == 3:
        values["kind"] = "micro_course"
        values["master_name"] = "湖北省技能大师（演示）"
        values["title"] = f"{occupation.name}绝招绝技微课"
        values["lessons"] = [
            LessonData(
                external_id=f"{external_id}-M1",
                title="技能大师示范",
                kind="micro_course",
                activity_iri=f"{base}/lessons/m1",
                media_duration_seconds=600,
            )
        ]
    if index % 10 == 6:
        start = datetime(2026, 6, 6, 9, 0, tzinfo=timezone.get_default_timezone())
        values["online_percent"] = 60
        values["offline_sessions"] = [
            OfflineSessionData(
                starts_at=start,
                ends_at=start + timedelta(hours=6),
                location="武汉市江岸区实训基地（演示）",
                region_code="420102",
                capacity=30,
            )
        ]
    return CourseData(**values)


def _courses(cast: _Cast, report: CatalogDemoReport, standards: dict[str, SkillStandard]) -> None:
    province = cast.users[PROVINCE]
    platforms = [
        (cast.users[username], Platform.objects.get(organisation=cast.org(username)))
        for username in OPERATORS
    ]
    for index, occupation in enumerate(_occupations()):
        operator, platform = platforms[index % len(platforms)]
        if platform.status != Platform.Status.SELECTED:
            continue
        data = _course_data(occupation, index, platform, standards.get(occupation.code))
        course, created = publish_course(platform, data=data, by=operator)
        if created:
            report.count("courses")
        if course.status == Course.Status.SUBMITTED:
            approve_course(course, by=province, note="内容符合要求（演示）")
            report.count("courses approved")


# --- Filings ------------------------------------------------------------------------------------


def _attach_required(filing: Filing, by: User) -> None:
    for kind in KINDS[filing.kind].required_attachments:
        filing_services.attach_document(filing, _pdf(f"{kind}.pdf"), kind=kind, by=by)


def _filing(
    report: CatalogDemoReport,
    organisation: Organisation,
    *,
    kind: str,
    data: dict[str, Any],
    by: User,
    title: str,
) -> Filing | None:
    """A new draft with all its documents, or None when the demo made it before."""
    if Filing.objects.filter(organisation=organisation, kind=kind, title=title).exists():
        return None
    filing = filing_services.create_filing(organisation, kind=kind, data=data, by=by)
    _attach_required(filing, by)
    report.count("filings")
    return filing


def _filings(cast: _Cast, report: CatalogDemoReport) -> None:
    school, firm, xt, sx = (cast.users[n] for n in (INSTITUTION, FIRM, XT_FIRM, SX_FIRM))
    learners = list(
        Person.objects.filter(region__code__startswith="4201")
        .order_by("pk")
        .values_list("pk", flat=True)[:4]
    )
    institution_uscc = cast.org(INSTITUTION).uscc
    # Approved by the city: the school enters 武汉's institution catalogue.
    filing = _filing(
        report,
        cast.org(INSTITUTION),
        kind="training_institution",
        title=cast.org(INSTITUTION).name,
        by=school,
        data={
            "name": cast.org(INSTITUTION).name,
            "address": "武汉市江岸区解放大道1001号（演示）",
            "nature": "private_school",
            "projects": "4-10-01-05:5\n4-03-02-01:4\n6-31-01-03:5",
            "teachers_count": "12",
            "site": "教学楼两层，实训室4间，共1200平方米",
            "equipment": "养老护理实训床位10张，烹饪实训工位20个，电工实训台15套",
        },
    )
    if filing is not None:
        filing = filing_services.submit_filing(filing, by=school)
        filing_services.approve_filing(filing, by=cast.users[CITY], note="材料齐全，同意备案")
    # Submitted and waiting for the county.
    filing = _filing(
        report,
        cast.org(INSTITUTION),
        kind="training_project",
        title="养老护理员（五级）线上线下融合班",
        by=school,
        data={
            "course": "养老护理员（五级）线上线下融合班",
            "occupation": "4-10-01-05",
            "level": "5",
            "start_on": "2026-09-01",
            "end_on": "2026-10-31",
            "learners": "\n".join(str(pk) for pk in learners),
            "teaching_plan": "线上理论32课时，线下实训48课时",
            "teachers": "余芳\n陈老师",
            "resources": "楚才在线养老护理课程；学校实训室",
            "assessment_plan": "理论考试与实操考核",
        },
    )
    if filing is not None:
        filing_services.submit_filing(filing, by=school)
    # Returned by the county for correction.
    filing = _filing(
        report,
        cast.org(INSTITUTION),
        kind="training_project",
        title="中式烹调师（四级）开班",
        by=school,
        data={
            "course": "中式烹调师（四级）开班",
            "occupation": "4-03-02-01",
            "level": "4",
            "start_on": "2026-10-10",
            "end_on": "2026-12-20",
            "learners": "\n".join(str(pk) for pk in learners[:2]),
            "teaching_plan": "线上理论24课时，线下实操60课时",
            "teachers": "王师傅",
            "resources": "烹饪实训室",
            "assessment_plan": "结业考核",
        },
    )
    if filing is not None:
        filing = filing_services.submit_filing(filing, by=school)
        filing_services.return_filing(
            filing, by=cast.users[COUNTY], note="请补充授课教师的职业资格证书"
        )
    # An apprenticeship for 武汉 to review.
    filing = _filing(
        report,
        cast.org(FIRM),
        kind="apprenticeship",
        title="6-18-02-04",
        by=firm,
        data={
            "apprentices": "\n".join(str(pk) for pk in learners[:3]),
            "occupation": "6-18-02-04",
            "level": "4",
            "institution": institution_uscc,
            "months": "18",
        },
    )
    if filing is not None:
        filing_services.submit_filing(filing, by=firm)
    # 仙桃市 has no city above it: its apprenticeship goes to the province; left a draft.
    _filing(
        report,
        cast.org(XT_FIRM),
        kind="apprenticeship",
        title="6-31-01-03",
        by=xt,
        data={
            "occupation": "6-31-01-03",
            "level": "5",
            "institution": institution_uscc,
            "months": "12",
        },
    )
    # Self-evaluation rejected by the province.
    filing = _filing(
        report,
        cast.org(SX_FIRM),
        kind="self_evaluation",
        title=cast.org(SX_FIRM).name,
        by=sx,
        data={
            "occupations": "4-03-02-02:4",
            "evaluators": "田秀英",
            "plan": "理论知识考试、技能操作考核",
        },
    )
    if filing is not None:
        filing = filing_services.submit_filing(filing, by=sx)
        filing_services.reject_filing(
            filing, by=cast.users[PROVINCE], note="考评人员不足3人，不符合自主评价条件"
        )


def load_demo_catalog(
    out: Writer | None = None, *, call_window_seconds: float = 6.0
) -> CatalogDemoReport:
    """Load (or complete) the demo catalogue; idempotent. Needs the portal's demo province."""
    out = out or io.StringIO()
    report = CatalogDemoReport()
    cast = _cast()
    _select_platforms(cast, report, out, window_seconds=call_window_seconds)
    standards = _standards(cast, report)
    _project_catalogue(cast, report)
    _courses(cast, report, standards)
    _filings(cast, report)
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(report.created.items()))
    out.write(f"Demo catalogue: {summary or 'already complete'}.\n")
    return report
