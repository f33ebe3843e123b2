"""The demo province: 湖北省 with officers, organisations, platforms and learners.

`load_demo()` builds it through the services only (create_person, register_organisation,
issue_credential, create_user, grant_role, …), never with raw model writes, and is idempotent:
each object is looked up by its natural key first (login name, credit code, the ID number's
blind index), so a second run creates nothing. `DEMO_ACCOUNTS` is the table `manage.py
demo_accounts` prints.

Everything here is SYNTHETIC. The ID numbers are made up from demo county codes, plausible
birth dates and serial numbers, with the GB 11643 check character computed so they validate;
they belong to nobody. The credit codes are made up the same way with both GB 32100 check
characters computed. Names of people and organisations are invented.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from django.db import transaction

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.accounts.services import create_user, grant_role, update_user
from zhipei.orgs.models import Capacity, Organisation, Platform
from zhipei.orgs.services import issue_credential, register_organisation
from zhipei.orgs.uscc import mod31_check_char, org_code_check_char
from zhipei.people.idnumber import check_character
from zhipei.people.models import Person, PersonCategory
from zhipei.people.queries import find_person_by_id_number
from zhipei.people.services import add_category, create_person
from zhipei.regions.models import Region
from zhipei.regions.queries import current

# One documented demo password per kind of account; each passes AUTH_PASSWORD_VALIDATORS.
PASSWORDS: dict[str, str] = {
    "labour": "Zhipei-labour-2026",
    "finance": "Zhipei-finance-2026",
    "admin": "Zhipei-admin-2026",
    "organisation": "Zhipei-org-2026",
    "learner": "Zhipei-learner-2026",
}


class Writer(Protocol):
    """Where progress lines go: a text stream or a management command's stdout."""

    def write(self, text: str, /) -> object: ...


CATEGORY_SOURCE = "演示数据（合成）"


def synthetic_id_number(county: str, born: date, serial: int) -> str:
    """A SYNTHETIC 18-character ID number: county code, birth date, a 3-digit serial (odd for
    men, even for women) and the GB 11643 MOD 11-2 check character."""
    body = f"{county}{born:%Y%m%d}{serial:03d}"
    return body + check_character(body)


def synthetic_uscc(authority_category: str, county: str, serial: int) -> str:
    """A SYNTHETIC unified social credit code: registration authority and category (2), the
    county code (6), an organisation code body "MA49" + serial (8) with its GB 11714 check
    character, and the GB 32100 MOD 31 check character."""
    body8 = f"MA49{serial:04d}"
    first17 = f"{authority_category}{county}{body8}{org_code_check_char(body8)}"
    return first17 + mod31_check_char(first17)


@dataclass(frozen=True)
class RoleSpec:
    role: str
    region_code: str = ""
    organisation_key: str = ""


@dataclass(frozen=True)
class AccountSpec:
    username: str
    display_name: str
    password_kind: str
    roles: tuple[RoleSpec, ...]
    person_key: str = ""
    phone: str | None = None
    staff: bool = False

    @property
    def password(self) -> str:
        return PASSWORDS[self.password_kind]


@dataclass(frozen=True)
class OrganisationSpec:
    key: str
    name: str
    region_code: str
    authority_category: str
    serial: int
    capacities: frozenset[str]
    website: str = ""
    contact_name: str = ""
    contact_phone: str = ""

    @property
    def uscc(self) -> str:
        return synthetic_uscc(self.authority_category, self.region_code, self.serial)


@dataclass(frozen=True)
class LearnerSpec:
    key: str
    name: str
    county: str
    born: date
    serial: int
    phone: str
    categories: tuple[str, ...] = ()

    @property
    def id_number(self) -> str:
        return synthetic_id_number(self.county, self.born, self.serial)


ORGANISATIONS: tuple[OrganisationSpec, ...] = (
    OrganisationSpec(
        "jiangcheng", "武汉江城机械制造有限公司", "420102", "91", 1,
        frozenset({Capacity.ENTERPRISE}), contact_name="刘建国", contact_phone="13971000001",
    ),
    OrganisationSpec(
        "sanxia", "宜昌三峡绿源食品有限公司", "420502", "91", 2,
        frozenset({Capacity.ENTERPRISE}), contact_name="田秀英", contact_phone="13972000002",
    ),
    OrganisationSpec(
        "xiantao", "仙桃新华无纺布制品有限公司", "429004", "91", 3,
        frozenset({Capacity.ENTERPRISE}), contact_name="胡志强", contact_phone="13986000003",
    ),
    OrganisationSpec(
        "chucai", "湖北楚才在线教育科技有限公司", "420106", "91", 4,
        frozenset({Capacity.PLATFORM}), website="https://chucai.example.cn",
        contact_name="彭丽", contact_phone="13871000004",
    ),
    OrganisationSpec(
        "jingchu", "武汉荆楚技能云课堂网络有限公司", "420102", "91", 5,
        frozenset({Capacity.PLATFORM}), website="https://jingchu-skills.example.cn",
        contact_name="童伟", contact_phone="13871000005",
    ),
    OrganisationSpec(
        "changjiang", "宜昌长江职培网络科技有限公司", "420502", "91", 6,
        frozenset({Capacity.PLATFORM}), website="https://cj-zhipei.example.cn",
        contact_name="向东", contact_phone="13872000006",
    ),
    OrganisationSpec(
        "lantian", "武汉市江岸区蓝天职业技能培训学校", "420102", "52", 7,
        frozenset({Capacity.TRAINING_INSTITUTION}), contact_name="余芳", contact_phone="13871000007",
    ),
    OrganisationSpec(
        "chutian", "湖北楚天技能人才评价服务中心", "420106", "52", 8,
        frozenset({Capacity.EVALUATION_ORGANISATION}), contact_name="汪明", contact_phone="13871000008",
    ),
)  # fmt: skip

LA = PersonCategory.Category
LEARNERS: tuple[LearnerSpec, ...] = (
    LearnerSpec("wang", "王小明", "420102", date(1992, 4, 15), 31, "13800270001", (LA.REGISTERED_POOR_LABOURER,)),
    LearnerSpec("li", "李娜", "420102", date(1995, 9, 2), 42, "13800270002", (LA.IDLE_WORKER,)),
    LearnerSpec("zhang", "张伟", "420106", date(1988, 12, 20), 53, "13800270003"),
    LearnerSpec("liu", "刘洋", "420106", date(1999, 6, 11), 64, "13800270004", (LA.UNEMPLOYED_GRADUATE,)),
    LearnerSpec("chen", "陈静", "420502", date(1990, 3, 8), 72, "13800270005", (LA.EMPLOYMENT_DIFFICULTY,)),
    LearnerSpec("yang", "杨帆", "420502", date(2001, 10, 25), 85, "13800270006", (LA.RURAL_TWO_AFTER_STUDENT,)),
    LearnerSpec("zhao", "赵磊", "429004", date(1986, 7, 14), 97, "13800270007", (LA.ZERO_EMPLOYMENT_FAMILY,)),
    LearnerSpec("huang", "黄丽", "429004", date(1997, 1, 30), 18, "13800270008"),
    LearnerSpec("zhou", "周杰", "420102", date(1984, 11, 5), 29, "13800270009", (LA.RETURNING_WORKER,)),
    LearnerSpec("wu", "吴敏", "420106", date(2002, 2, 17), 36, "13800270010", (LA.URBAN_DIBAO_TWO_AFTER_STUDENT,)),
    LearnerSpec("xu", "徐强", "420502", date(1979, 8, 9), 47, "13800270011"),
    LearnerSpec("sun", "孙悦", "429004", date(2000, 5, 21), 58, "13800270012", (LA.EMPLOYED_WORKER,)),
)  # fmt: skip
CATEGORY_VALID_FROM = date(2026, 1, 1)


def _officer(username: str, display_name: str, kind: str, role: str, code: str) -> AccountSpec:
    return AccountSpec(username, display_name, kind, (RoleSpec(role, region_code=code),))


def _staff(username: str, display_name: str, role: str, organisation_key: str) -> AccountSpec:
    return AccountSpec(
        username, display_name, "organisation", (RoleSpec(role, organisation_key=organisation_key),)
    )


DEMO_ACCOUNTS: tuple[AccountSpec, ...] = (
    _officer("hb_labour", "湖北省人社厅·省级劳动就业官员", "labour", Role.LABOUR_OFFICER, "420000"),
    _officer("wh_labour", "武汉市人社局·市级劳动就业官员", "labour", Role.LABOUR_OFFICER, "420100"),
    _officer("ja_labour", "江岸区人社局·区级劳动就业官员", "labour", Role.LABOUR_OFFICER, "420102"),
    _officer("xl_labour", "西陵区人社局·区级劳动就业官员", "labour", Role.LABOUR_OFFICER, "420502"),
    _officer("xt_labour", "仙桃市人社局·县级劳动就业官员", "labour", Role.LABOUR_OFFICER, "429004"),
    _officer("hb_finance", "湖北省财政厅·省级财政官员", "finance", Role.FINANCE_OFFICER, "420000"),
    _officer("wh_finance", "武汉市财政局·市级财政官员", "finance", Role.FINANCE_OFFICER, "420100"),
    AccountSpec("sysadmin", "系统管理员", "admin", (RoleSpec(Role.SYSTEM_ADMIN),), staff=True),
    _staff("jc_hr", "江城机械·企业管理员", Role.ENTERPRISE_ADMIN, "jiangcheng"),
    _staff("sx_hr", "三峡绿源·企业管理员", Role.ENTERPRISE_ADMIN, "sanxia"),
    _staff("xh_hr", "新华无纺布·企业管理员", Role.ENTERPRISE_ADMIN, "xiantao"),
    _staff("cc_ops", "楚才在线·平台运营", Role.PLATFORM_OPERATOR, "chucai"),
    _staff("jc_ops", "荆楚技能云课堂·平台运营", Role.PLATFORM_OPERATOR, "jingchu"),
    _staff("cj_ops", "长江职培·平台运营", Role.PLATFORM_OPERATOR, "changjiang"),
    _staff("lt_school", "蓝天培训学校·机构管理员", Role.INSTITUTION_OPERATOR, "lantian"),
    _staff("ct_eval", "楚天评价中心·评价人员", Role.EVALUATOR, "chutian"),
    *(
        AccountSpec(
            f"learner_{learner.key}",
            learner.name,
            "learner",
            (RoleSpec(Role.LEARNER),),
            person_key=learner.key,
            phone=learner.phone,
        )
        for learner in LEARNERS
    ),
)


@dataclass
class DemoReport:
    """What one run of load_demo created (empty lists on a second run)."""

    created: dict[str, int] = field(default_factory=dict)
    new_credentials: list[tuple[str, str, str]] = field(default_factory=list)  # org, key id, secret

    def count(self, kind: str) -> None:
        self.created[kind] = self.created.get(kind, 0) + 1

    @property
    def anything_created(self) -> bool:
        return bool(self.created)


def _region(code: str) -> Region:
    region = current(code)
    if region is None:
        raise LookupError(f"Region {code} is missing: the demo reference data did not load it.")
    return region


def _load_reference_data(out: Writer) -> None:
    """Regions, occupations and trades through the reference-data apps' own demo loaders."""
    from zhipei.regions.demo import load_demo_reference_data

    for result in load_demo_reference_data():
        if result.errors:
            raise LookupError(f"Demo reference data has bad rows: {result.summary()}")
        out.write(f"Reference data: {result.summary()}\n")


def _ensure_organisations(report: DemoReport) -> dict[str, Organisation]:
    organisations: dict[str, Organisation] = {}
    for spec in ORGANISATIONS:
        organisation = Organisation.objects.filter(uscc=spec.uscc).first()
        if organisation is None:
            organisation = register_organisation(
                uscc=spec.uscc,
                name=spec.name,
                region=_region(spec.region_code),
                capacities=set(spec.capacities),
                by=None,
                contact_name=spec.contact_name,
                contact_phone=spec.contact_phone,
                website=spec.website,
            )
            report.count("organisations")
        organisations[spec.key] = organisation
    return organisations


def _ensure_credentials(organisations: dict[str, Organisation], report: DemoReport) -> None:
    for spec in ORGANISATIONS:
        if Capacity.PLATFORM not in spec.capacities:
            continue
        platform = Platform.objects.get(organisation=organisations[spec.key])
        if platform.credentials.filter(revoked_at__isnull=True).exists():
            continue
        credential, secret = issue_credential(platform, by=None, label="demo")
        report.count("platform credentials")
        report.new_credentials.append((spec.name, credential.key_id, secret))


def _ensure_people(report: DemoReport) -> dict[str, Person]:
    people: dict[str, Person] = {}
    for spec in LEARNERS:
        person = find_person_by_id_number(spec.id_number)
        if person is None:
            person = create_person(
                name=spec.name,
                id_number=spec.id_number,
                region=_region(spec.county),
                phone=spec.phone,
                by=None,
            )
            report.count("people")
        for category in spec.categories:
            if not PersonCategory.objects.filter(person=person, category=category).exists():
                add_category(
                    person,
                    category=category,
                    source=CATEGORY_SOURCE,
                    valid_from=CATEGORY_VALID_FROM,
                    by=None,
                )
                report.count("person categories")
        people[spec.key] = person
    return people


def _ensure_accounts(
    organisations: dict[str, Organisation], people: dict[str, Person], report: DemoReport
) -> None:
    for spec in DEMO_ACCOUNTS:
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = create_user(
                username=spec.username,
                password=spec.password,
                phone=spec.phone,
                person=people[spec.person_key] if spec.person_key else None,
                display_name=spec.display_name,
                by=None,
            )
            report.count("users")
        if spec.staff and not user.is_staff:
            update_user(
                user,
                display_name=user.display_name,
                phone=user.phone,
                is_active=True,
                is_staff=True,
                by=None,
            )
        for role_spec in spec.roles:
            region = _region(role_spec.region_code) if role_spec.region_code else None
            organisation = (
                organisations[role_spec.organisation_key] if role_spec.organisation_key else None
            )
            held = RoleAssignment.objects.filter(
                user=user,
                role=role_spec.role,
                region=region,
                organisation=organisation,
                revoked_at__isnull=True,
            ).exists()
            if not held:
                grant_role(
                    user, role=role_spec.role, region=region, organisation=organisation, by=None
                )
                report.count("role assignments")


def load_demo(
    out: Writer | None = None,
    *,
    reference_data: Callable[[Writer], None] | None = None,
) -> DemoReport:
    """Load (or complete) the demo province; idempotent. `reference_data` replaces the
    reference-data step (tests give it a small region tree)."""
    out = out or io.StringIO()
    (reference_data or _load_reference_data)(out)
    report = DemoReport()
    with transaction.atomic():
        organisations = _ensure_organisations(report)
        _ensure_credentials(organisations, report)
        people = _ensure_people(report)
        _ensure_accounts(organisations, people, report)
    return report


# --- The accounts table ------------------------------------------------------------------------


def _describe_role(role_spec: RoleSpec, organisations: dict[str, str]) -> str:
    label = str(Role(role_spec.role).label)
    if role_spec.region_code:
        region = current(role_spec.region_code)
        where = f"{region.name} {region.code}" if region else role_spec.region_code
        return f"{label} @ {where}"
    if role_spec.organisation_key:
        return f"{label} @ {organisations[role_spec.organisation_key]}"
    return label


def _describe_learner(learner: LearnerSpec) -> str:
    region = current(learner.county)
    where = region.name if region else learner.county
    categories = ", ".join(str(PersonCategory.Category(c).label) for c in learner.categories)
    return f" ({learner.name}, {where}{'; ' + categories if categories else ''})"


def accounts_table() -> list[tuple[str, str, str, str]]:
    """Rows (username, password, role(s) with region/organisation, status) for every demo
    account; status says whether load_demo has created it yet."""
    names = {spec.key: spec.name for spec in ORGANISATIONS}
    learners = {spec.key: spec for spec in LEARNERS}
    existing = set(
        User.objects.filter(username__in=[a.username for a in DEMO_ACCOUNTS]).values_list(
            "username", flat=True
        )
    )
    return [
        (
            spec.username,
            spec.password,
            "; ".join(_describe_role(r, names) for r in spec.roles)
            + (_describe_learner(learners[spec.person_key]) if spec.person_key else ""),
            "ok" if spec.username in existing else "missing (run manage.py load_demo)",
        )
        for spec in DEMO_ACCOUNTS
    ]


def platform_keys() -> list[tuple[str, str]]:
    """(platform name, key id) of the active demo platform credentials. Secrets are never
    shown again after load_demo printed them once."""
    usccs = [spec.uscc for spec in ORGANISATIONS if Capacity.PLATFORM in spec.capacities]
    platforms = Platform.objects.filter(organisation__uscc__in=usccs).select_related("organisation")
    return [
        (platform.organisation.name, credential.key_id)
        for platform in platforms
        for credential in platform.credentials.filter(revoked_at__isnull=True)
    ]
