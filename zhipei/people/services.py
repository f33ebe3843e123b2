"""Every change to people, their categories and holds (STYLE §1: one write path each).

Personal-data rule: the clear ID number exists only in memory while a person is created or
revealed. It is stored encrypted (zhipei.core.crypto) with a blind index; audit events and
messages carry the masked form (`110***********123X`) at most.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhipei.accounts.models import Role, User
from zhipei.accounts.scope import has_role, region_in_scope
from zhipei.audit.services import record
from zhipei.core.crypto import decrypt, encrypt
from zhipei.core.errors import Conflict, InvalidInput, NotAllowed, NotInScope, StaleObject
from zhipei.orgs.models import Platform
from zhipei.people.identity import get_identity_provider
from zhipei.people.idnumber import IdNumberInfo, InvalidIdNumber, mask_id_number, parse_id_number
from zhipei.people.models import (
    LearnerRegistrationKey,
    Person,
    PersonCategory,
    PersonHold,
    PlatformPseudonym,
)
from zhipei.people.queries import id_number_blind_index
from zhipei.regions.models import Region

NAME_MAX_LENGTH = 100
MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}\Z")
_LABOUR_OFFICER = frozenset({Role.LABOUR_OFFICER})


# Besides letters and combining marks: spaces, the middle dots between the parts of a
# transcribed name (·, •, ‧, ・, ．, ･, ⸱), and the periods, hyphens and apostrophes of names
# written in Latin letters.
_NAME_MARKS = frozenset(" \u00b7\u2022\u2027\u30fb\uff0e\uff65\u2e31.-'\u2019")


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput(_("Enter the person's name."), field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(_("A name may have at most 100 characters."), field="name")
    if any(ch.isdigit() for ch in name):  # a digit of any script
        raise InvalidInput(_("A name may not contain digits."), field="name")
    if not all(unicodedata.category(ch)[0] in "LM" or ch in _NAME_MARKS for ch in name):
        # Control and formatting characters (a right-to-left override hides how a name
        # reads), symbols and emoji are no part of a real name.
        raise InvalidInput(
            _(
                "A name may contain only letters, spaces, and the dots, hyphens and "
                "apostrophes names are written with (王小明, 买买提·艾力, Anna-Lena O'Brien)."
            ),
            field="name",
        )
    return name


def _clean_phone(phone: str) -> str:
    phone = phone.strip()
    if phone and not MOBILE_RE.match(phone):
        raise InvalidInput(
            _("Enter a mainland mobile number: 11 digits starting with 13 to 19."), field="phone"
        )
    return phone


def _parse_for_input(id_number: str) -> IdNumberInfo:
    try:
        return parse_id_number(id_number)
    except InvalidIdNumber as exc:
        raise InvalidInput(exc.message, field="id_number") from None


def _require_text(value: str, *, field: str, max_length: int) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(_("This field is required."), field=field)
    if len(value) > max_length:
        raise InvalidInput(
            _("At most %(max)d characters are allowed.") % {"max": max_length}, field=field
        )
    return value


def _require_labour_officer_for(by: User, person: Person) -> None:
    if not has_role(by, Role.LABOUR_OFFICER):
        raise NotAllowed()
    if not region_in_scope(by, person.region.scope_prefix, roles=_LABOUR_OFFICER):
        raise NotInScope()


def _duplicate_id_number() -> Conflict:
    # Deliberately says nothing about who holds the number.
    return Conflict(_("A person with this ID number is already registered."), field="id_number")


def create_person(
    *, name: str, id_number: str, region: Region, phone: str = "", by: User | None
) -> Person:
    """Register a real-name person.

    Guarantees: the ID number is validated (GB 11643 format, check character, birth date,
    known address code), normalised, stored only encrypted under the active key with a blind
    index that makes it unique; birth date, sex and birth region code are derived from it;
    the configured identity provider is asked before anything is written (outside the
    transaction, as it may call an authority) and its answer is recorded in `verification` /
    `verification_provider`; the insert and the audit event `people.person.created` (masked
    number only) commit together or not at all. Callers decide who may register people; `by`
    is recorded (None for the system or an import).

    Raises InvalidInput (field `name`, `phone`, `id_number` or `region`) for bad input,
    including a real-name check the provider answered `failed`; Conflict (field `id_number`)
    when the number is already registered, without saying to whom.
    """
    clean_name = _clean_name(name)
    clean_phone = _clean_phone(phone)
    info = _parse_for_input(id_number)
    if not region.is_current:
        raise InvalidInput(_("Choose a region that is currently in use."), field="region")
    index = id_number_blind_index(info.number)
    if Person.objects.filter(id_blind_index=index).exists():
        raise _duplicate_id_number()
    result = get_identity_provider().verify(clean_name, info.number)
    if result.status == Person.Verification.FAILED:
        raise InvalidInput(
            _("The real-name check failed: this name and ID number do not belong together."),
            field="id_number",
        )
    return _insert_person(
        info=info,
        index=index,
        name=clean_name,
        phone=clean_phone,
        region=region,
        verification=result.status,
        provider=result.provider,
        by=by,
    )


@transaction.atomic
def _insert_person(
    *,
    info: IdNumberInfo,
    index: str,
    name: str,
    phone: str,
    region: Region,
    verification: str,
    provider: str,
    by: User | None,
) -> Person:
    key_id, blob = encrypt(info.number.encode("ascii"), associated_data=index.encode("ascii"))
    checked = verification in {Person.Verification.FORMAT_ONLY, Person.Verification.VERIFIED}
    try:
        with transaction.atomic():
            person = Person.objects.create(
                name=name,
                id_ciphertext=blob,
                id_key_id=key_id,
                id_blind_index=index,
                id_masked=info.masked,
                birth_date=info.birth_date,
                sex=info.sex,
                birth_region_code=info.region_code,
                phone=phone,
                region=region,
                verification=verification,
                verification_provider=provider,
                verified_at=timezone.now() if checked else None,
            )
    except IntegrityError:
        # Registered concurrently between the check above and this insert.
        raise _duplicate_id_number() from None
    record(
        "people.person.created",
        actor=by,
        obj=person,
        region_code=region.code,
        data={"id_masked": person.id_masked, "verification": verification, "provider": provider},
    )
    return person


@transaction.atomic
def reveal_id_number(person: Person, *, by: User, purpose: str) -> str:
    """The clear ID number of `person`, for a stated purpose.

    Guarantees: an audit event `people.person.id_revealed` naming `by` and the purpose (and
    the masked number only) is written in the same transaction. Callers check that `by` may
    see this person (region scope) before calling.

    Raises InvalidInput (field `purpose`) when no purpose is given, NotAllowed when `by` is
    not an active, authenticated user; zhipei.core.crypto errors if the stored value cannot be
    opened (a key missing from PII_KEYS, or tampering).
    """
    clean_purpose = _require_text(purpose, field="purpose", max_length=200)
    if not by.is_authenticated or not by.is_active:
        raise NotAllowed()
    number = decrypt(
        person.id_key_id,
        bytes(person.id_ciphertext),
        associated_data=person.id_blind_index.encode("ascii"),
    ).decode("ascii")
    record(
        "people.person.id_revealed",
        actor=by,
        obj=person,
        region_code=person.region.code,
        data={"purpose": clean_purpose, "id_masked": mask_id_number(number)},
    )
    return number


@transaction.atomic
def add_category(
    person: Person,
    *,
    category: str,
    source: str,
    valid_from: date,
    valid_to: date | None = None,
    by: User | None,
) -> PersonCategory:
    """Record that `person` belongs to `category` from `valid_from` to `valid_to` (inclusive;
    None = open-ended), and where the fact comes from.

    Guarantees: no two periods of the same category overlap for one person (checked with the
    person's row locked, so concurrent adds cannot both pass); audit event
    `people.person.category_added`. Callers decide who may assert categories (officers,
    enterprise rosters, imports); `by` is recorded.

    Raises InvalidInput (field `category`, `source` or `valid_to`), Conflict when an
    overlapping period of the same category exists.
    """
    if category not in PersonCategory.Category.values:
        raise InvalidInput(_("Choose a known person category."), field="category")
    clean_source = _require_text(source, field="source", max_length=200)
    if valid_to is not None and valid_to < valid_from:
        raise InvalidInput(_("The end date may not be before the start date."), field="valid_to")
    # Serialises category changes per person (PostgreSQL; SQLite's IMMEDIATE transactions
    # already serialise writers).
    Person.objects.select_for_update().filter(pk=person.pk).exists()
    overlapping = PersonCategory.objects.filter(person=person, category=category).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from)
    )
    if valid_to is not None:
        overlapping = overlapping.filter(valid_from__lte=valid_to)
    if overlapping.exists():
        raise Conflict(
            _("The person already has this category for an overlapping period."),
            field="valid_from",
        )
    person_category = PersonCategory.objects.create(
        person=person,
        category=category,
        source=clean_source,
        valid_from=valid_from,
        valid_to=valid_to,
        recorded_by=by,
    )
    record(
        "people.person.category_added",
        actor=by,
        obj=person,
        region_code=person.region.code,
        data={
            "category_id": person_category.pk,
            "category": category,
            "source": clean_source,
            "valid_from": valid_from.isoformat(),
            "valid_to": valid_to.isoformat() if valid_to else None,
        },
    )
    return person_category


@transaction.atomic
def end_category(
    person_category: PersonCategory, *, valid_to: date, by: User | None
) -> PersonCategory:
    """Close an open-ended category period on `valid_to` (its last valid day).

    Guarantees: compare-and-swap on the period still being open, so it is ended once; audit
    event `people.person.category_ended`.

    Raises InvalidInput (field `valid_to`) when `valid_to` is before the start, Conflict when
    this copy already shows the period ended, StaleObject when someone ended it since this copy
    was loaded.
    """
    if person_category.valid_to is not None:
        raise Conflict(_("This category period has already ended."), field="valid_to")
    if valid_to < person_category.valid_from:
        raise InvalidInput(_("The end date may not be before the start date."), field="valid_to")
    changed = PersonCategory.objects.filter(pk=person_category.pk, valid_to__isnull=True).update(
        valid_to=valid_to
    )
    if changed != 1:
        raise StaleObject()
    person_category.valid_to = valid_to
    person = person_category.person
    record(
        "people.person.category_ended",
        actor=by,
        obj=person,
        region_code=person.region.code,
        data={
            "category_id": person_category.pk,
            "category": person_category.category,
            "valid_to": valid_to.isoformat(),
        },
    )
    return person_category


@transaction.atomic
def place_hold(
    person: Person,
    *,
    reason: str,
    by: User | None,
    source_type: str = "officer",
    source_ref: str = "",
) -> PersonHold:
    """Place a hold on `person`: while active it blocks approvals and payments for them
    (ARCHITECTURE invariant 5).

    With `by`, the acting user must be a labour officer whose region scope covers the person's
    region. Without `by` (a system process such as a supervision case), `source_type` must name
    that source (not "officer") and `source_ref` should identify it. Placing again a hold from
    the same (source_type, source_ref) while it is active returns the existing hold unchanged,
    so retries are harmless. Audit event `people.person.hold_placed`.

    Raises InvalidInput (field `reason`, `source_type` or `source_ref`), NotAllowed (not a
    labour officer), NotInScope (the person lies outside the officer's regions).
    """
    clean_reason = _require_text(reason, field="reason", max_length=2000)
    clean_type = _require_text(source_type, field="source_type", max_length=40)
    clean_ref = source_ref.strip()
    if len(clean_ref) > 64:
        raise InvalidInput(
            _("At most %(max)d characters are allowed.") % {"max": 64}, field="source_ref"
        )
    if by is not None:
        _require_labour_officer_for(by, person)
    elif clean_type == "officer":
        raise InvalidInput(
            _("A hold placed without an acting officer must name where it comes from."),
            field="source_type",
        )
    if clean_ref:
        existing = PersonHold.objects.filter(
            person=person, lifted_at__isnull=True, source_type=clean_type, source_ref=clean_ref
        ).first()
        if existing is not None:
            return existing
    hold = PersonHold.objects.create(
        person=person,
        reason=clean_reason,
        source_type=clean_type,
        source_ref=clean_ref,
        placed_by=by,
        placed_at=timezone.now(),
    )
    record(
        "people.person.hold_placed",
        actor=by,
        obj=person,
        region_code=person.region.code,
        data={
            "hold_id": hold.pk,
            "reason": clean_reason,
            "source_type": clean_type,
            "source_ref": clean_ref,
        },
    )
    return hold


@transaction.atomic
def lift_hold(hold: PersonHold, *, reason: str, by: User) -> PersonHold:
    """Lift an active hold, with a reason.

    Guarantees: compare-and-swap on the hold still being active, so a hold is lifted exactly
    once even when two officers try at the same time; audit event `people.person.hold_lifted`.

    Raises InvalidInput (field `reason`), NotAllowed (not a labour officer), NotInScope (the
    person lies outside the officer's regions), StaleObject (already lifted).
    """
    clean_reason = _require_text(reason, field="reason", max_length=2000)
    person = hold.person
    _require_labour_officer_for(by, person)
    now = timezone.now()
    changed = PersonHold.objects.filter(pk=hold.pk, lifted_at__isnull=True).update(
        lifted_at=now, lifted_by=by, lift_reason=clean_reason
    )
    if changed != 1:
        raise StaleObject()
    hold.lifted_at, hold.lifted_by, hold.lift_reason = now, by, clean_reason
    record(
        "people.person.hold_lifted",
        actor=by,
        obj=person,
        region_code=person.region.code,
        data={"hold_id": hold.pk, "reason": clean_reason},
    )
    return hold


# --- Learner pseudonyms for platforms (xAPI actors) ------------------------------------------

PSEUDONYM_BYTES = 16  # 128 random bits → 22 URL-safe characters
_NAME_DOTS = str.maketrans({"•": "·", "・": "·", "．": "·", ".": "·", "‧": "·", "∙": "·"})


def _name_key(name: str) -> str:
    """A name as compared for identity: Unicode NFKC, no whitespace, one kind of middle dot
    (买买提·艾力 is typed with several)."""
    folded = unicodedata.normalize("NFKC", name).translate(_NAME_DOTS)
    return "".join(folded.split()).casefold()


def _learner_region(info: IdNumberInfo, platform: Platform) -> Region:
    """The region a newly registered learner is scoped to: the ID number's address code when
    it is a current region (where the person was first registered), else the platform's own."""
    region = Region.objects.filter(code=info.region_code, valid_to_year__isnull=True).first()
    return region if region is not None else platform.organisation.region


def _new_pseudonym() -> str:
    return secrets.token_urlsafe(PSEUDONYM_BYTES)


def pseudonym_for(
    person: Person, *, platform: Platform, by: User | None = None
) -> tuple[str, bool]:
    """The pseudonym under which `platform` reports `person`, issuing one if there is none.

    Guarantees: one pseudonym per (platform, person), random (not derived from any personal
    datum), unique within the platform and different for every platform; a new one is written
    with the audit event `people.pseudonym.issued` (platform and pseudonym only) in the same
    transaction; two concurrent calls give the same answer. Returns (pseudonym, created).
    """
    existing = (
        PlatformPseudonym.objects.filter(platform=platform, person=person)
        .values_list("pseudonym", flat=True)
        .first()
    )
    if existing is not None:
        return existing, False
    for _attempt in range(5):
        try:
            with transaction.atomic():
                issued = PlatformPseudonym.objects.create(
                    platform=platform, person=person, pseudonym=_new_pseudonym()
                )
                record(
                    "people.pseudonym.issued",
                    actor=by,
                    obj=person,
                    region_code=person.region.code,
                    data={"platform_id": platform.pk, "pseudonym": issued.pseudonym},
                )
            return issued.pseudonym, True
        except IntegrityError:
            # Either a concurrent call issued one for this person (use it) or, with odds of
            # 2^-128, the random string is taken on this platform (draw again).
            existing = (
                PlatformPseudonym.objects.filter(platform=platform, person=person)
                .values_list("pseudonym", flat=True)
                .first()
            )
            if existing is not None:
                return existing, False
    raise RuntimeError("Could not draw a free pseudonym in five attempts.")


def register_learner(
    *, platform: Platform, name: str, id_number: str, phone: str = "", by: User | None = None
) -> tuple[Person, str, bool]:
    """Register a learner for `platform` (POST /api/v1/learners): find the person by their ID
    number (blind index) or create them, and return (person, pseudonym, created) where
    `created` says whether the pseudonym is new.

    Guarantees: idempotent (the same platform, name and number give the same pseudonym every
    time); another platform gets another pseudonym for the same person; a new person is made
    through `create_person` (real-name check, encryption, audit) in the region of the ID
    number's address code when that code is current, else in the platform's region; only a
    selected platform may register learners; nothing here puts the ID number anywhere but the
    encrypted column.

    Raises InvalidInput (field `name`, `phone` or `id_number`) for bad input, and (field
    `name`) when the number is registered under another name — the message says only that
    name and number do not belong together, never which name is on record; NotAllowed when
    the platform is not selected.
    """
    if platform.status != Platform.Status.SELECTED:
        raise NotAllowed(_("Only a selected platform may register learners."))
    clean_name = _clean_name(name)
    clean_phone = _clean_phone(phone)
    info = _parse_for_input(id_number)
    person = (
        Person.objects.select_related("region")
        .filter(id_blind_index=id_number_blind_index(info.number))
        .first()
    )
    if person is None:
        try:
            person = create_person(
                name=clean_name,
                id_number=info.number,
                region=_learner_region(info, platform),
                phone=clean_phone,
                by=by,
            )
        except Conflict:
            # Registered concurrently by another request: continue with that person.
            person = Person.objects.select_related("region").get(
                id_blind_index=id_number_blind_index(info.number)
            )
    if _name_key(person.name) != _name_key(clean_name):
        raise InvalidInput(
            _(
                "This name does not match the real name registered for this ID number. "
                "Check both against the learner's ID card."
            ),
            field="name",
        )
    pseudonym, created = pseudonym_for(person, platform=platform, by=by)
    return person, pseudonym, created


@transaction.atomic
def remember_learner_registration(
    platform: Platform, *, key: str, request_fingerprint: str, pseudonym: str, created: bool
) -> LearnerRegistrationKey:
    """Record the answer to a POST /api/v1/learners made under an Idempotency-Key, so the same
    key and body can be answered again. When the key was recorded concurrently, the record
    that won is returned (the caller compares its fingerprint).

    Requests under one key are tries of one registration: when the one that created the
    pseudonym records after a concurrent try (which found it made already), the record says
    "created" from then on, and that request answers 201 as it should."""
    issued = PlatformPseudonym.objects.get(platform=platform, pseudonym=pseudonym)
    answer = {
        "platform": platform,
        "key": key,
        "request_fingerprint": request_fingerprint,
        "pseudonym": issued,
    }
    try:
        with transaction.atomic():
            return LearnerRegistrationKey.objects.create(**answer, created_pseudonym=created)
    except IntegrityError:
        if created:
            LearnerRegistrationKey.objects.filter(**answer, created_pseudonym=False).update(
                created_pseudonym=True
            )
    return LearnerRegistrationKey.objects.select_related("pseudonym").get(
        platform=platform, key=key
    )
