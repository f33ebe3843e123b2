"""Applicant pages: My subsidies, claiming from a certificate with the explained eligibility,
bank details and submission, corrections after a return or a failed payment, withdrawal,
proposed claims, and the scope (another person's application is a 404)."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from zhipei.accounts.models import Role
from zhipei.people.models import PersonCategory
from zhipei.people.services import add_category, place_hold
from zhipei.subsidies import workflow
from zhipei.subsidies.models import Application, ApplicationStatus, Programme
from zhipei.subsidies.reasons import render
from zhipei.subsidies.testing import build_claim_world, make_person_row, make_user

S = ApplicationStatus
pytestmark = pytest.mark.django_db
ACCOUNT = "6222 0212 3456 7890 123"


@pytest.fixture
def world():
    return build_claim_world()


@pytest.fixture
def learner(world):
    person = make_person_row(world.jiangan, name="李娜")
    user = make_user("lina", (Role.LEARNER, None), person=person)
    return person, user


@pytest.fixture
def learner_client(client, learner):
    client.force_login(learner[1])
    return client


def token() -> str:
    return "tok-" + "a" * 20


def start(world, learner, certificate=None, **kwargs):
    person, user = learner
    certificate = certificate or world.certificate(person)
    return workflow.start_application(
        Programme.LEARNER_TRAINING,
        by=user,
        person=person,
        inputs={"certificate": certificate.pk},
        **kwargs,
    )


def with_bank(application, user, bank="中国工商银行"):
    return workflow.set_bank_details(
        application, payee_name="李娜", bank_name=bank, account_number=ACCOUNT, by=user
    )


def submitted(world, learner):
    application = with_bank(start(world, learner), learner[1])
    return workflow.submit(application, by=learner[1])


def reasons_of(application):
    evaluation = workflow.latest_evaluation(application)
    assert evaluation is not None
    return [render(r).text for r in evaluation.results]


def html_text(response) -> str:
    """The page's text with the HTML escaping of quotes undone (reasons quote course titles)."""
    return str(html.unescape(response.content.decode()))


# --- My subsidies -----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client):
    for name in ("subsidies:my_applications", "subsidies:claim"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_my_subsidies_lists_own_applications_only(world, learner, learner_client):
    mine = submitted(world, learner)
    other_person = make_person_row(world.jiangan, name="张伟")
    other_user = make_user("zhangwei", (Role.LEARNER, None), person=other_person)
    other = start(world, (other_person, other_user))
    response = learner_client.get(reverse("subsidies:my_applications"))
    assert response.status_code == 200
    body = response.content.decode()
    assert mine.number in body
    assert other.number not in body
    assert "¥800.00" in body
    assert "Submitted" in body


def test_paid_application_shows_the_paid_date(world, learner, learner_client):
    application = submitted(world, learner)
    application = workflow.approve_at_county(application, by=world.county_officer)
    application = workflow.approve_at_city(application, by=world.city_officer)
    Application.objects.filter(pk=application.pk).update(due_at=timezone.now() - timedelta(1))
    application = workflow.approve_for_payment(application, by=world.finance_officer)
    application = workflow.place_in_batch(application, by=world.finance_officer)
    paid_at = timezone.now()
    workflow.record_paid(application, by=world.finance_officer, paid_at=paid_at)
    day = timezone.localtime(paid_at).date().isoformat()

    listing = learner_client.get(reverse("subsidies:my_applications"))
    assert f"Paid on {day}" in listing.content.decode()
    detail = learner_client.get(reverse("subsidies:application_detail", args=[application.pk]))
    body = detail.content.decode()
    assert f"Paid on {day}" in body
    assert 'data-testid="time-to-payment"' in body


def test_proposed_claim_is_highlighted_with_one_tap_confirm(world, learner, learner_client):
    person, user = learner
    proposed = workflow.start_application(
        Programme.LEARNER_TRAINING,
        by=None,
        person=person,
        inputs={"certificate": world.certificate(person).pk},
        proposed=True,
    )
    body = learner_client.get(reverse("subsidies:my_applications")).content.decode()
    assert "Zhipei found a subsidy you can claim" in body
    confirm = reverse("subsidies:application_confirm", args=[proposed.pk])
    assert confirm in body

    # Without bank details the tap leads to the form for them.
    response = learner_client.post(confirm)
    assert response.status_code == 302
    assert response["Location"].endswith("#bank")
    proposed.refresh_from_db()
    assert proposed.status == S.DRAFT

    with_bank(proposed, user)
    response = learner_client.post(confirm)
    assert response.status_code == 302
    proposed.refresh_from_db()
    assert proposed.status == S.SUBMITTED


# --- Claiming ---------------------------------------------------------------------------------


def test_claim_page_lists_valid_certificates_with_the_kinds_offered(world, learner, learner_client):
    person, _user = learner
    certificate = world.certificate(person)
    response = learner_client.get(reverse("subsidies:claim"))
    assert response.status_code == 200
    body = response.content.decode()
    assert certificate.number in body
    assert 'value="learner_training"' in body
    assert re.search(r'name="token" value="[A-Za-z0-9_-]{16,}"', body)


def test_claim_creates_a_draft_and_shows_every_reason_and_the_amount(
    world, learner, learner_client
):
    person, _user = learner
    certificate = world.certificate(person)
    response = learner_client.post(
        reverse("subsidies:claim"),
        {"certificate": certificate.pk, "kind": Programme.LEARNER_TRAINING, "token": token()},
    )
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("subsidies:application_detail", args=[application.pk])
    assert application.status == S.DRAFT
    assert application.person == person

    page = learner_client.get(response["Location"])
    text = html_text(page)
    for reason in reasons_of(application):
        assert reason in text
    # How the amount was computed: rate × hours, then the project cap.
    assert "40.0 class hours × ¥30.00 per class hour = ¥1,200.00." in text
    assert "Capped at ¥800.00 per person per project (was ¥1,200.00)." in text
    assert 'data-outcome="pass"' in text and 'data-outcome="info"' in text
    assert "Meets the rules: ¥800.00." in text


def test_double_click_on_claim_returns_the_same_draft(world, learner, learner_client):
    certificate = world.certificate(learner[0])
    data = {"certificate": certificate.pk, "kind": Programme.LEARNER_TRAINING, "token": token()}
    first = learner_client.post(reverse("subsidies:claim"), data)
    second = learner_client.post(reverse("subsidies:claim"), data)
    assert first["Location"] == second["Location"]
    assert Application.objects.count() == 1


def test_retried_request_with_the_same_idempotency_key_returns_the_same_draft(
    world, learner, learner_client
):
    certificate = world.certificate(learner[0])
    url = reverse("subsidies:claim")
    data = {"certificate": certificate.pk, "kind": Programme.LEARNER_TRAINING}
    first = learner_client.post(
        url, data | {"token": "a" * 22}, headers={"Idempotency-Key": "retry-7f3a"}
    )
    # The page was reloaded (a new form token) but the client retries with its key.
    second = learner_client.post(
        url, data | {"token": "b" * 22}, headers={"Idempotency-Key": "retry-7f3a"}
    )
    assert first["Location"] == second["Location"]
    assert Application.objects.count() == 1


def test_claiming_with_another_persons_certificate_is_a_field_error(world, learner, learner_client):
    stranger = make_person_row(world.jiangan, name="张伟")
    certificate = world.certificate(stranger)
    response = learner_client.post(
        reverse("subsidies:claim"),
        {"certificate": certificate.pk, "kind": Programme.LEARNER_TRAINING, "token": token()},
    )
    assert response.status_code == 422
    assert "Choose one of your own valid certificates." in response.content.decode()
    assert not Application.objects.exists()


def test_claim_without_the_form_token_or_with_an_unknown_kind_is_refused(
    world, learner, learner_client
):
    certificate = world.certificate(learner[0])
    url = reverse("subsidies:claim")
    response = learner_client.post(
        url, {"certificate": certificate.pk, "kind": Programme.LEARNER_TRAINING}
    )
    assert response.status_code == 422
    assert "This form has expired" in response.content.decode()
    response = learner_client.post(
        url, {"certificate": certificate.pk, "kind": "apprenticeship", "token": token()}
    )
    assert response.status_code == 422
    assert "This subsidy cannot be claimed here." in response.content.decode()
    response = learner_client.post(
        url, {"certificate": "x", "kind": Programme.LEARNER_TRAINING, "token": token()}
    )
    assert response.status_code == 422
    assert not Application.objects.exists()


def test_claim_post_without_csrf_token_is_refused(world, learner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner[1])
    certificate = world.certificate(learner[0])
    response = client.post(
        reverse("subsidies:claim"),
        {"certificate": certificate.pk, "kind": Programme.LEARNER_TRAINING, "token": token()},
    )
    assert response.status_code == 403
    assert not Application.objects.exists()


def test_a_claimed_certificate_links_to_its_claim(world, learner, learner_client):
    application = start(world, learner)
    body = learner_client.get(reverse("subsidies:claim")).content.decode()
    assert f"claimed in {application.number}" in body
    assert 'value="learner_training"' not in body


def test_account_without_a_person_sees_an_explanation(world, client):
    user = make_user("nobody", (Role.LEARNER, None))
    client.force_login(user)
    assert "not linked to a learner" in client.get(reverse("subsidies:claim")).content.decode()
    page = client.get(reverse("subsidies:my_applications")).content.decode()
    assert "not linked to a learner" in page


# --- One application --------------------------------------------------------------------------


def test_another_persons_application_is_404_everywhere(world, learner, client):
    application = start(world, learner)
    stranger = make_user(
        "stranger", (Role.LEARNER, None), person=make_person_row(world.jiangan, name="张伟")
    )
    client.force_login(stranger)
    assert (
        client.get(reverse("subsidies:application_detail", args=[application.pk])).status_code
        == 404
    )
    for name in (
        "subsidies:application_submit",
        "subsidies:application_bank",
        "subsidies:application_withdraw",
        "subsidies:application_confirm",
    ):
        assert client.post(reverse(name, args=[application.pk])).status_code == 404
    application.refresh_from_db()
    assert application.status == S.DRAFT


def test_submit_with_bank_details_in_one_step(world, learner, learner_client):
    application = start(world, learner)
    response = learner_client.post(
        reverse("subsidies:application_submit", args=[application.pk]),
        {"payee_name": "李娜", "bank_name": "中国工商银行", "account_number": ACCOUNT},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.SUBMITTED
    assert application.account_masked == "6222 **** 0123"
    page = learner_client.get(reverse("subsidies:application_detail", args=[application.pk]))
    body = page.content.decode()
    assert "6222 **** 0123" in body
    assert "6222021234567890123" not in body
    assert 'data-testid="due"' in body  # the county's deadline
    # Sending the form again (a double click) changes nothing.
    again = learner_client.post(
        reverse("subsidies:application_submit", args=[application.pk]),
        {"payee_name": "李娜", "bank_name": "中国工商银行", "account_number": ACCOUNT},
    )
    assert again.status_code == 302
    assert application.steps.count() == 1


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"payee_name": "李娜", "bank_name": "工行", "account_number": "12ab"}, "8 to 32 digits"),
        ({"payee_name": "李娜", "bank_name": "", "account_number": ACCOUNT}, "required"),
        ({"payee_name": "", "bank_name": "工行", "account_number": ACCOUNT}, "required"),
        ({"payee_name": "李娜", "bank_name": "工行", "account_number": ""}, "account number"),
    ],
)
def test_bad_bank_details_are_field_errors_and_nothing_is_submitted(
    world, learner, learner_client, data, field_error
):
    application = start(world, learner)
    response = learner_client.post(
        reverse("subsidies:application_submit", args=[application.pk]), data
    )
    assert response.status_code == 422
    assert field_error in response.content.decode()
    application.refresh_from_db()
    assert application.status == S.DRAFT
    assert application.account_masked == ""


def test_bank_details_are_prefilled_from_the_last_application_but_not_the_number(
    world, learner, learner_client
):
    with_bank(start(world, learner), learner[1], bank="招商银行武汉分行")
    second = start(world, learner, certificate=world.certificate(learner[0], hours="10.0"))
    body = learner_client.get(
        reverse("subsidies:application_detail", args=[second.pk])
    ).content.decode()
    assert 'value="招商银行武汉分行"' in body
    assert 'value="李娜"' in body
    assert "Last time you used 6222 **** 0123" in body
    assert "6222021234567890123" not in body


def test_submit_refused_by_the_rules_shows_why_and_stays_a_draft(world, learner, learner_client):
    application = with_bank(start(world, learner), learner[1])
    place_hold(learner[0], reason="Case 12", by=world.county_officer)
    response = learner_client.post(
        reverse("subsidies:application_submit", args=[application.pk]),
        {"payee_name": "李娜", "bank_name": "中国工商银行", "account_number": ""},
    )
    assert response.status_code == 422
    assert "on hold" in response.content.decode()
    application.refresh_from_db()
    assert application.status == S.DRAFT


def test_returned_application_shows_the_note_and_is_submitted_again(world, learner, learner_client):
    application = submitted(world, learner)
    workflow.return_for_correction(
        application, by=world.county_officer, note="Use an account in your own name."
    )
    url = reverse("subsidies:application_detail", args=[application.pk])
    body = learner_client.get(url).content.decode()
    assert "Use an account in your own name." in body
    assert "Submit again" in body

    response = learner_client.post(
        reverse("subsidies:application_submit", args=[application.pk]),
        {
            "payee_name": "李娜",
            "bank_name": "中国建设银行",
            "account_number": "6217 0000 1111 2222",
        },
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.SUBMITTED
    assert application.bank_name == "中国建设银行"
    assert application.account_masked == "6217 **** 2222"


def test_changing_the_bank_without_retyping_the_number_is_a_field_error(
    world, learner, learner_client
):
    application = with_bank(start(world, learner), learner[1])
    response = learner_client.post(
        reverse("subsidies:application_submit", args=[application.pk]),
        {"payee_name": "李娜", "bank_name": "另一家银行", "account_number": ""},
    )
    assert response.status_code == 422
    assert "Enter the account number again" in response.content.decode()
    application.refresh_from_db()
    assert application.status == S.DRAFT
    assert application.bank_name == "中国工商银行"


def test_withdraw(world, learner, learner_client):
    application = submitted(world, learner)
    response = learner_client.post(
        reverse("subsidies:application_withdraw", args=[application.pk]), {"note": "Moved away"}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.WITHDRAWN
    body = learner_client.get(
        reverse("subsidies:application_detail", args=[application.pk])
    ).content.decode()
    assert 'data-testid="withdraw"' not in body


def test_withdrawing_a_rejected_claim_is_a_message_not_an_error(world, learner, learner_client):
    application = submitted(world, learner)
    workflow.reject(application, by=world.county_officer, note="Not a course of the catalogue")
    response = learner_client.post(
        reverse("subsidies:application_withdraw", args=[application.pk]), follow=True
    )
    assert response.status_code == 200
    assert "Cannot move from Rejected to Withdrawn." in response.content.decode()
    assert "Not a course of the catalogue" in response.content.decode()


def _failed_payment(world, learner):
    application = submitted(world, learner)
    application = workflow.approve_at_county(application, by=world.county_officer)
    application = workflow.approve_at_city(application, by=world.city_officer)
    Application.objects.filter(pk=application.pk).update(due_at=timezone.now() - timedelta(1))
    application = workflow.approve_for_payment(application, by=world.finance_officer)
    application = workflow.place_in_batch(application, by=world.finance_officer)
    return workflow.record_payment_failed(
        application, by=world.finance_officer, note="Account closed (bank code 05)"
    )


def test_after_a_failed_payment_the_bank_details_are_corrected(world, learner, learner_client):
    application = _failed_payment(world, learner)
    url = reverse("subsidies:application_detail", args=[application.pk])
    body = learner_client.get(url).content.decode()
    assert "Account closed (bank code 05)" in body
    assert reverse("subsidies:application_bank", args=[application.pk]) in body

    bad = learner_client.post(
        reverse("subsidies:application_bank", args=[application.pk]),
        {"payee_name": "李娜", "bank_name": "中国农业银行", "account_number": "123"},
    )
    assert bad.status_code == 422
    response = learner_client.post(
        reverse("subsidies:application_bank", args=[application.pk]),
        {
            "payee_name": "李娜",
            "bank_name": "中国农业银行",
            "account_number": "6228 4800 1234 5678",
        },
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.PAYMENT_FAILED
    assert application.bank_name == "中国农业银行"
    assert workflow.account_number(application) == "6228480012345678"


def test_bank_details_cannot_be_changed_while_under_review(world, learner, learner_client):
    application = submitted(world, learner)
    response = learner_client.post(
        reverse("subsidies:application_bank", args=[application.pk]),
        {
            "payee_name": "李娜",
            "bank_name": "中国农业银行",
            "account_number": "6228 4800 1234 5678",
        },
        follow=True,
    )
    assert "can no longer be changed" in response.content.decode()
    application.refresh_from_db()
    assert application.bank_name == "中国工商银行"


def test_get_on_post_only_urls_is_405(world, learner, learner_client):
    application = start(world, learner)
    for name in ("subsidies:application_submit", "subsidies:application_withdraw"):
        assert learner_client.get(reverse(name, args=[application.pk])).status_code == 405


def test_learners_find_my_subsidies_in_the_menu(learner, learner_client):
    body = learner_client.get(reverse("subsidies:my_applications")).content.decode()
    assert f'href="{reverse("subsidies:my_applications")}" aria-current="page"' in body


def test_living_allowance_is_offered_only_to_members_of_a_group(world, learner, learner_client):
    person, _user = learner
    certificate = world.certificate(person)
    body = learner_client.get(reverse("subsidies:claim")).content.decode()
    assert 'value="living_allowance"' not in body

    add_category(
        person,
        category=PersonCategory.Category.REGISTERED_POOR_LABOURER,
        source="扶贫办建档立卡名册",
        valid_from=date(2025, 1, 1),
        by=None,
    )
    body = learner_client.get(reverse("subsidies:claim")).content.decode()
    assert 'value="living_allowance"' in body
    response = learner_client.post(
        reverse("subsidies:claim"),
        {"certificate": certificate.pk, "kind": Programme.LIVING_ALLOWANCE, "token": token()},
    )
    application = Application.objects.get()
    assert application.kind == Programme.LIVING_ALLOWANCE
    page = html_text(learner_client.get(response["Location"]))
    for reason in reasons_of(application):
        assert reason in page


def test_my_subsidies_runs_a_fixed_number_of_queries(
    world, learner, learner_client, django_assert_max_num_queries
):
    for hours in ("10.0", "20.0", "30.0"):
        start(world, learner, certificate=world.certificate(learner[0], hours=hours))
    # session, user, count, page of applications (regions and applicants joined),
    # administered enterprises, menu roles
    with django_assert_max_num_queries(7):
        response = learner_client.get(reverse("subsidies:my_applications"))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 3
