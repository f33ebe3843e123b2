"""Reviewer pages: queues per step scoped to the officer's regions and level, filters, batch
review with per-application outcomes, one application with the acts allowed at its step,
the public notice list, and conflict-of-interest declarations."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from zhipei.accounts.models import Role
from zhipei.orgs.models import Enterprise
from zhipei.people.services import place_hold
from zhipei.people.testing import make_id_number, make_person
from zhipei.subsidies import workflow
from zhipei.subsidies.models import (
    Application,
    ApplicationStatus,
    ConflictOfInterest,
    Programme,
)
from zhipei.subsidies.reasons import render
from zhipei.subsidies.testing import build_claim_world, make_org, make_person_row, make_user

S = ApplicationStatus
pytestmark = pytest.mark.django_db
_names = iter(f"申请人{i}" for i in range(1000))


@pytest.fixture
def world():
    return build_claim_world()


def applicant(world, region=None, name=None):
    person = make_person_row(region or world.jiangan, name=name or next(_names))
    user = make_user(f"learner-{person.pk}", (Role.LEARNER, None), person=person)
    return person, user


def submitted(world, person=None, user=None, hours="40.0"):
    if person is None:
        person, user = applicant(world)
    application = workflow.start_application(
        Programme.LEARNER_TRAINING,
        by=user,
        person=person,
        inputs={"certificate": world.certificate(person, hours=hours).pk},
    )
    workflow.set_bank_details(
        application,
        payee_name=person.name,
        bank_name="中国工商银行",
        account_number="6222021234567890123",
        by=user,
    )
    return workflow.submit(application, by=user)


def at_city(world, **kwargs):
    return workflow.approve_at_county(submitted(world, **kwargs), by=world.county_officer)


def in_publicity(world, **kwargs):
    return workflow.approve_at_city(at_city(world, **kwargs), by=world.city_officer)


def end_publicity(application):
    # The 公示 lasts 5 working days (demo policy); tests move its end into the past.
    Application.objects.filter(pk=application.pk).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )


def page_of(client, officer, url, **kwargs):
    client.force_login(officer)
    return client.get(url, **kwargs)


def queue_url(step):
    return reverse("subsidies:review_queue", args=[step])


def numbers_in(response):
    return {a.number for a in response.context["page"].object_list}


# --- Queues -----------------------------------------------------------------------------------


def test_county_queue_holds_submitted_claims_of_the_county(world, client):
    mine = submitted(world)
    elsewhere = submitted(world, *applicant(world, world.regions["420502"]))
    response = page_of(client, world.county_officer, queue_url("county"))
    assert response.status_code == 200
    assert numbers_in(response) == {mine.number}
    assert elsewhere.number not in response.content.decode()
    body = response.content.decode()
    assert "¥800.00" in body
    assert mine.due_at is not None
    assert timezone.localtime(mine.due_at).date().isoformat() in body


def test_city_officer_sees_the_city_step_not_the_county_step(world, client):
    waiting = submitted(world)
    approved = at_city(world)
    county = page_of(client, world.city_officer, queue_url("county"))
    assert numbers_in(county) == set()
    assert waiting.number not in county.content.decode()
    city = client.get(queue_url("city"))
    assert numbers_in(city) == {approved.number}


def test_outsider_sees_nothing_and_gets_404_on_the_application(world, client):
    application = submitted(world)
    outsider = make_user(
        "outsider", (Role.LABOUR_OFFICER, world.regions["420502"])
    )  # 西陵区, another city
    response = page_of(client, outsider, queue_url("county"))
    assert numbers_in(response) == set()
    detail = reverse("subsidies:officer_detail", args=[application.pk])
    assert client.get(detail).status_code == 404
    action = reverse("subsidies:officer_action", args=[application.pk, "approve"])
    assert client.post(action, {"expected": S.SUBMITTED}).status_code == 404
    application.refresh_from_db()
    assert application.status == S.SUBMITTED


def test_people_without_an_officer_role_get_403_and_visitors_log_in(world, client):
    _person, user = applicant(world)
    application = submitted(world)
    client.force_login(user)
    assert client.get(reverse("subsidies:review_home")).status_code == 403
    assert client.get(queue_url("county")).status_code == 403
    assert client.get(reverse("subsidies:conflicts")).status_code == 403
    assert client.get(reverse("subsidies:publicity_list")).status_code == 403
    assert client.get(reverse("subsidies:officer_detail", args=[application.pk])).status_code == 403
    client.logout()
    assert client.get(queue_url("county")).status_code == 302


def test_queue_of_another_role_is_403_and_unknown_step_404(world, client):
    client.force_login(world.county_officer)
    assert client.get(queue_url("finance")).status_code == 403
    assert client.get(queue_url("nonsense")).status_code == 404
    client.force_login(world.finance_officer)
    assert client.get(reverse("subsidies:review_home"))["Location"] == queue_url("finance")


def test_filters_by_amount_kind_region_dates_and_overdue(world, client):
    big = submitted(world)  # ¥800
    small = submitted(world, hours="10.0")  # ¥300
    client.force_login(world.county_officer)
    url = queue_url("county")
    assert numbers_in(client.get(url, {"amount_min": "500"})) == {big.number}
    assert numbers_in(client.get(url, {"amount_max": "300.00"})) == {small.number}
    assert numbers_in(client.get(url, {"kind": Programme.LIVING_ALLOWANCE})) == set()
    assert numbers_in(client.get(url, {"region": world.jiangan.pk})) == {big.number, small.number}
    today = timezone.localdate()
    assert numbers_in(client.get(url, {"submitted_from": today + timedelta(1)})) == set()
    assert numbers_in(client.get(url, {"submitted_to": today})) == {big.number, small.number}
    assert numbers_in(client.get(url, {"overdue": "on"})) == set()
    Application.objects.filter(pk=small.pk).update(due_at=timezone.now() - timedelta(hours=1))
    response = client.get(url, {"overdue": "on"})
    assert numbers_in(response) == {small.number}
    assert 'data-testid="overdue"' in response.content.decode()


def test_bad_filter_values_are_field_errors_not_500(world, client):
    submitted(world)
    client.force_login(world.county_officer)
    response = client.get(
        queue_url("county"),
        {"amount_min": "1.234", "amount_max": "-5", "submitted_from": "2026-13-45"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "at most two decimals" in body
    assert "cannot be negative" in body
    assert "Enter a valid date." in body
    # A region outside the officer's scope is not a choice.
    response = client.get(queue_url("county"), {"region": world.regions["420502"].pk})
    assert "Select a valid choice" in response.content.decode()


def test_htmx_filter_returns_the_results_fragment(world, client):
    submitted(world)
    client.force_login(world.county_officer)
    response = client.get(queue_url("county"), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert 'data-testid="queue"' in body
    assert "<html" not in body


# --- Batch review -----------------------------------------------------------------------------


def test_batch_approval_reports_each_application(world, client):
    one, two = submitted(world), submitted(world)
    held_person, held_user = applicant(world)
    held = submitted(world, held_person, held_user)
    place_hold(held_person, reason="Case 9", by=world.county_officer)
    stale = submitted(world)
    stale_copy = Application.objects.get(pk=stale.pk)
    client.force_login(world.county_officer)
    # Someone else approved `stale` after the page was shown.
    workflow.approve_at_county(stale_copy, by=world.county_officer)
    response = client.post(
        reverse("subsidies:review_batch", args=["county"]),
        {"applications": [one.pk, two.pk, held.pk, stale.pk], "action": "approve", "note": ""},
    )
    assert response.status_code == 200
    outcomes = {o.pk: o for o in response.context["outcomes"]}
    assert outcomes[one.pk].done and outcomes[two.pk].done
    assert not outcomes[held.pk].done
    assert str(outcomes[held.pk].label) == "On hold"
    assert not outcomes[stale.pk].done  # no longer in the county queue
    for application, status in (
        (one, S.COUNTY_APPROVED),
        (two, S.COUNTY_APPROVED),
        (held, S.SUBMITTED),
    ):
        application.refresh_from_db()
        assert application.status == status
    body = response.content.decode()
    assert "2 of 4 applications done" in body
    assert "On hold" in body


def test_batch_refuses_self_review_and_declared_conflicts(world, client):
    officer_person = make_person_row(world.jiangan, name="赵官员")
    officer = make_user("county-2", (Role.LABOUR_OFFICER, world.jiangan), person=officer_person)
    own = submitted(world, officer_person, officer)
    cousin_person, cousin_user = applicant(world)
    cousin = submitted(world, cousin_person, cousin_user)
    workflow.declare_conflict(by=officer, person=cousin_person, reason="My cousin")
    other = submitted(world)
    client.force_login(officer)
    response = client.post(
        reverse("subsidies:review_batch", args=["county"]),
        {"applications": [own.pk, cousin.pk, other.pk], "action": "approve"},
    )
    labels = {o.pk: str(o.label) for o in response.context["outcomes"]}
    assert labels == {
        own.pk: "Self-review",
        cousin.pk: "Conflict of interest",
        other.pk: "Approved",
    }


def test_batch_return_needs_a_note_and_then_returns_all(world, client):
    one, two = submitted(world), submitted(world)
    client.force_login(world.county_officer)
    url = reverse("subsidies:review_batch", args=["county"])
    response = client.post(url, {"applications": [one.pk, two.pk], "action": "return"})
    assert response.status_code == 422
    assert "Write the note the applicants will read." in response.content.decode()
    one.refresh_from_db()
    assert one.status == S.SUBMITTED
    response = client.post(
        url,
        {"applications": [one.pk, two.pk], "action": "return", "note": "Attach the ID copy"},
    )
    assert all(o.done for o in response.context["outcomes"])
    for application in (one, two):
        application.refresh_from_db()
        assert application.status == S.RETURNED
        assert application.steps.last().note == "Attach the ID copy"


def test_batch_with_nothing_selected_or_a_foreign_action_is_a_field_error(world, client):
    application = submitted(world)
    client.force_login(world.county_officer)
    url = reverse("subsidies:review_batch", args=["county"])
    response = client.post(url, {"action": "approve"})
    assert response.status_code == 422
    assert "Select at least one application." in response.content.decode()
    response = client.post(url, {"applications": [application.pk], "action": "uphold"})
    assert response.status_code == 422
    response = client.post(url, {"applications": ["x"], "action": "approve"})
    assert response.status_code == 422
    application.refresh_from_db()
    assert application.status == S.SUBMITTED


def test_batch_on_every_match_of_the_filters(world, client):
    big, small = submitted(world), submitted(world, hours="10.0")
    client.force_login(world.county_officer)
    response = client.post(
        reverse("subsidies:review_batch", args=["county"]) + "?amount_min=500",
        {"all_matching": "on", "action": "approve"},
    )
    assert [o.pk for o in response.context["outcomes"]] == [big.pk]
    big.refresh_from_db()
    small.refresh_from_db()
    assert (big.status, small.status) == (S.COUNTY_APPROVED, S.SUBMITTED)


def test_batch_of_another_officers_region_does_nothing(world, client):
    application = submitted(world)
    outsider = make_user("outsider", (Role.LABOUR_OFFICER, world.regions["420502"]))
    client.force_login(outsider)
    response = client.post(
        reverse("subsidies:review_batch", args=["county"]),
        {"applications": [application.pk], "action": "approve"},
    )
    assert response.status_code == 200
    assert [o.message for o in response.context["outcomes"]] == ["Not in this queue."]
    application.refresh_from_db()
    assert application.status == S.SUBMITTED


def test_batch_post_without_csrf_is_refused(world):
    application = submitted(world)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.county_officer)
    response = client.post(
        reverse("subsidies:review_batch", args=["county"]),
        {"applications": [application.pk], "action": "approve"},
    )
    assert response.status_code == 403
    application.refresh_from_db()
    assert application.status == S.SUBMITTED


def test_finance_batch_approval_commits_funds(world, client):
    one, two = in_publicity(world), in_publicity(world)
    end_publicity(one)
    client.force_login(world.finance_officer)
    response = client.post(
        reverse("subsidies:review_batch", args=["finance"]),
        {"applications": [one.pk, two.pk], "action": "approve"},
    )
    outcomes = {o.pk: o for o in response.context["outcomes"]}
    assert outcomes[one.pk].done
    assert not outcomes[two.pk].done
    assert "public notice runs until" in outcomes[two.pk].message
    one.refresh_from_db()
    assert one.status == S.FINANCE_APPROVED


# --- One application --------------------------------------------------------------------------


def test_officer_detail_shows_applicant_reasons_history_and_actions(world, client):
    application = submitted(world)
    response = page_of(
        client, world.county_officer, reverse("subsidies:officer_detail", args=[application.pk])
    )
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    person = application.person
    assert person.name in body
    assert person.id_masked in body
    evaluation = workflow.latest_evaluation(application)
    assert evaluation is not None
    for result in evaluation.results:
        assert render(result).text in body
    assert 'data-testid="approve"' in body and 'data-testid="return"' in body
    assert 'data-testid="uphold"' not in body
    assert "Submitted" in body and 'data-testid="timeline"' in body
    # The finance officer sees it (same city) but has nothing to decide yet.
    response = page_of(
        client, world.finance_officer, reverse("subsidies:officer_detail", args=[application.pk])
    )
    assert 'data-testid="no-actions"' in response.content.decode()


def test_approve_from_the_detail_page_then_stale_copy_is_a_message(world, client):
    application = submitted(world)
    client.force_login(world.county_officer)
    url = reverse("subsidies:officer_action", args=[application.pk, "approve"])
    response = client.post(url, {"expected": S.SUBMITTED, "note": "ok"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.COUNTY_APPROVED
    # The same form sent again (a double click) does not approve a second step.
    response = client.post(url, {"expected": S.SUBMITTED}, follow=True)
    assert response.status_code == 200
    assert "someone else acted on it first" in response.content.decode()
    application.refresh_from_db()
    assert application.status == S.COUNTY_APPROVED


def test_return_and_reject_need_a_note(world, client):
    application = submitted(world)
    client.force_login(world.county_officer)
    for action in ("return", "reject"):
        response = client.post(
            reverse("subsidies:officer_action", args=[application.pk, action]),
            {"expected": S.SUBMITTED, "note": "  "},
        )
        assert response.status_code == 422
        assert 'class="errorlist' in response.content.decode()
    application.refresh_from_db()
    assert application.status == S.SUBMITTED
    response = client.post(
        reverse("subsidies:officer_action", args=[application.pk, "reject"]),
        {"expected": S.SUBMITTED, "note": "Course not finished"},
    )
    application.refresh_from_db()
    assert application.status == S.REJECTED


def test_declared_conflict_bars_the_officer_with_a_message(world, client):
    person, user = applicant(world)
    application = submitted(world, person, user)
    workflow.declare_conflict(by=world.county_officer, person=person, reason="Neighbour")
    client.force_login(world.county_officer)
    detail = client.get(reverse("subsidies:officer_detail", args=[application.pk]))
    body = detail.content.decode()
    assert 'data-testid="barred"' in body
    assert "declared a conflict of interest" in body
    assert 'data-testid="approve"' not in body
    response = client.post(
        reverse("subsidies:officer_action", args=[application.pk, "approve"]),
        {"expected": S.SUBMITTED},
        follow=True,
    )
    assert response.status_code == 200
    assert "declared a conflict of interest" in response.content.decode()
    application.refresh_from_db()
    assert application.status == S.SUBMITTED


def test_hold_refuses_approval_with_the_reason(world, client):
    person, user = applicant(world)
    application = submitted(world, person, user)
    place_hold(person, reason="Case 3", by=world.county_officer)
    client.force_login(world.county_officer)
    response = client.post(
        reverse("subsidies:officer_action", args=[application.pk, "approve"]),
        {"expected": S.SUBMITTED},
        follow=True,
    )
    assert "on hold" in response.content.decode()
    application.refresh_from_db()
    assert application.status == S.SUBMITTED


def test_city_officer_upholds_an_objection_during_the_public_notice(world, client):
    application = in_publicity(world)
    client.force_login(world.city_officer)
    body = client.get(reverse("subsidies:officer_detail", args=[application.pk])).content.decode()
    assert 'data-testid="uphold"' in body
    assert 'data-testid="publicity-running"' in body
    url = reverse("subsidies:officer_action", args=[application.pk, "uphold"])
    assert client.post(url, {"expected": S.IN_PUBLICITY}).status_code == 422
    client.post(url, {"expected": S.IN_PUBLICITY, "note": "Neighbour says not trained"})
    application.refresh_from_db()
    assert application.status == S.REJECTED


def test_finance_approval_waits_for_the_notice_then_commits(world, client):
    application = in_publicity(world)
    client.force_login(world.finance_officer)
    url = reverse("subsidies:officer_action", args=[application.pk, "approve"])
    response = client.post(url, {"expected": S.IN_PUBLICITY}, follow=True)
    assert "public notice runs until" in response.content.decode()
    end_publicity(application)
    client.post(url, {"expected": S.IN_PUBLICITY})
    application.refresh_from_db()
    assert application.status == S.FINANCE_APPROVED
    detail = client.get(reverse("subsidies:officer_detail", args=[application.pk]))
    assert detail.context["view"].committed_fen == 800_00
    assert "¥800.00" in detail.content.decode()


def test_unknown_action_is_404_and_get_is_405(world, client):
    application = submitted(world)
    client.force_login(world.county_officer)
    assert (
        client.post(
            reverse("subsidies:officer_action", args=[application.pk, "pay"]),
            {"expected": S.SUBMITTED},
        ).status_code
        == 404
    )
    assert (
        client.get(
            reverse("subsidies:officer_action", args=[application.pk, "approve"])
        ).status_code
        == 405
    )


def test_drafts_are_not_shown_to_officers(world, client):
    person, user = applicant(world)
    draft = workflow.start_application(
        Programme.LEARNER_TRAINING,
        by=user,
        person=person,
        inputs={"certificate": world.certificate(person).pk},
    )
    client.force_login(world.county_officer)
    assert client.get(reverse("subsidies:officer_detail", args=[draft.pk])).status_code == 404


# --- Public notice ----------------------------------------------------------------------------


def test_public_notice_list_masks_names_and_shows_end_dates(world, client):
    person, user = applicant(world, name="欧阳小芳")
    application = in_publicity(world, person=person, user=user)
    response = page_of(client, world.city_officer, reverse("subsidies:publicity_list"))
    body = response.content.decode()
    assert application.number in body
    assert "欧**芳" in body
    assert "欧阳小芳" not in body
    assert timezone.localtime(application.due_at).date().isoformat() in body
    outsider = make_user("yichang", (Role.LABOUR_OFFICER, world.regions["420500"]))
    response = page_of(client, outsider, reverse("subsidies:publicity_list"))
    assert application.number not in response.content.decode()
    client.force_login(world.finance_officer)
    assert client.get(reverse("subsidies:publicity_list")).status_code == 403


# --- Conflicts of interest --------------------------------------------------------------------


def test_declare_a_conflict_with_a_person_by_id_number_and_withdraw_it(world, client):
    number = make_id_number("420102", "19880305", seq=17)
    person = make_person(world.jiangan, name="钱多多", id_number=number)
    client.force_login(world.county_officer)
    url = reverse("subsidies:conflicts")
    response = client.post(
        url, {"party": "person", "id_number": number.lower(), "reason": "My brother-in-law"}
    )
    assert response.status_code == 302
    declaration = ConflictOfInterest.objects.get()
    assert declaration.person == person and declaration.officer == world.county_officer
    page = client.get(url).content.decode()
    assert "钱多多" in page and person.id_masked in page
    assert number not in page

    client.post(reverse("subsidies:conflict_withdraw", args=[declaration.pk]))
    declaration.refresh_from_db()
    assert declaration.withdrawn_at is not None


def test_unknown_id_number_or_missing_reason_are_field_errors(world, client):
    client.force_login(world.county_officer)
    url = reverse("subsidies:conflicts")
    response = client.post(
        url, {"party": "person", "id_number": make_id_number("420102"), "reason": "x"}
    )
    assert response.status_code == 422
    assert "No person with this ID number." in response.content.decode()
    response = client.post(url, {"party": "person", "id_number": "", "reason": ""})
    assert response.status_code == 422
    assert "Enter the person&#x27;s ID number." in response.content.decode()
    assert not ConflictOfInterest.objects.exists()


def test_declare_a_conflict_with_an_enterprise_by_credit_code_or_name(world, client):
    organisation = make_org(world.jiangan, "江岸精密制造有限公司", "enterprise")
    make_org(world.jiangan, "江岸精密铸造有限公司", "enterprise")
    client.force_login(world.county_officer)
    url = reverse("subsidies:conflicts")
    response = client.post(
        url, {"party": "enterprise", "enterprise": "江岸精密", "reason": "Former employer"}
    )
    assert response.status_code == 422
    assert "Several enterprises match" in response.content.decode()
    response = client.post(
        url, {"party": "enterprise", "enterprise": organisation.uscc, "reason": "Former employer"}
    )
    assert response.status_code == 302
    assert ConflictOfInterest.objects.get().enterprise == Enterprise.objects.get(
        organisation=organisation
    )
    response = client.post(
        url, {"party": "enterprise", "enterprise": "江岸精密制造", "reason": "Former employer"}
    )
    assert response.status_code == 302
    response = client.post(
        url, {"party": "enterprise", "enterprise": "不存在的公司", "reason": "x"}
    )
    assert "No enterprise with this credit code or name." in response.content.decode()


def test_another_officers_declaration_cannot_be_withdrawn(world, client):
    person, _user = applicant(world)
    declaration = workflow.declare_conflict(by=world.city_officer, person=person, reason="x")
    client.force_login(world.county_officer)
    response = client.post(reverse("subsidies:conflict_withdraw", args=[declaration.pk]))
    assert response.status_code == 404
    declaration.refresh_from_db()
    assert declaration.withdrawn_at is None


def test_conflict_post_without_csrf_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.county_officer)
    response = client.post(
        reverse("subsidies:conflicts"),
        {"party": "person", "id_number": make_id_number("420102"), "reason": "x"},
    )
    assert response.status_code == 403


def test_officers_find_review_and_conflicts_in_the_menu(world, client):
    client.force_login(world.finance_officer)
    body = client.get(reverse("subsidies:conflicts")).content.decode()
    assert f'href="{reverse("subsidies:review_home")}"' in body
    assert f'href="{reverse("subsidies:conflicts")}" aria-current="page"' in body
    assert f'href="{reverse("subsidies:my_applications")}"' not in body


def test_queue_runs_a_fixed_number_of_queries(world, client, django_assert_max_num_queries):
    for _ in range(3):
        submitted(world)
    client.force_login(world.county_officer)
    url = queue_url("county")
    client.get(url)
    # session, user, officer roles (steps), officer prefixes, labour levels, regions for the
    # filter, count, page (applicants and regions joined), menu roles
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 3


def test_the_public_notice_link_is_shown_only_to_who_may_open_it(world, client):
    publicity = reverse("subsidies:publicity_list")
    labour = page_of(client, world.city_officer, queue_url("county")).content.decode()
    assert f'href="{publicity}"' in labour
    finance = page_of(client, world.finance_officer, queue_url("finance"))
    assert finance.status_code == 200
    assert f'href="{publicity}"' not in finance.content.decode()  # its page is a 403
