"""Correcting an enterprise claim on its page: the administrator of a returned (or draft)
claim sees the officer's note and a "Correct the claim" form prefilled with the staff and the
cost, saves it, sees the reasons computed again and submits; bad input is a field error (422,
nothing changed), a claim past review offers no form, and officers and other enterprises get
404 — never a 500."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from zhipei.accounts.models import Role
from zhipei.audit.models import AuditEvent
from zhipei.enterprises.models import Employment
from zhipei.subsidies import workflow
from zhipei.subsidies.models import Application, ApplicationLine, ApplicationStatus, Programme
from zhipei.subsidies.reasons import render
from zhipei.subsidies.testing import build_claim_world, make_person_row, make_user
from zhipei.subsidies.tests.test_revise_inputs import (
    inputs_for,
    make_firm,
    pin_policy,
    returned,
    staff,
    with_bank,
)

S = ApplicationStatus
pytestmark = pytest.mark.django_db
NOTE = "李四 did not finish the course; fix the cost"
FIRST_NOTE = "张三 did not finish the course; fix the cost"  # test_revise_inputs.returned


@pytest.fixture
def world():
    world = build_claim_world()
    pin_policy(world)
    return world


@pytest.fixture
def firm(world):
    return make_firm(world)


@pytest.fixture
def claim(world, firm):
    """A claim for 张三 and 李四 (¥2,000 of cost stated) returned by the county with a note;
    王五's certificate is not claimed yet."""
    first, second, third = (staff(world, firm, n) for n in ("张三", "李四", "王五"))
    application = workflow.start_application(
        Programme.ENTERPRISE_ONLINE_TRAINING,
        by=firm.admin,
        enterprise=firm.enterprise,
        inputs=inputs_for(firm, [first, second], actual_cost_fen=2000_00),
    )
    application = workflow.submit(with_bank(application, firm), by=firm.admin)
    application = workflow.return_for_correction(application, by=world.county_officer, note=NOTE)
    return application, (first, second, third)


def detail_url(application):
    return reverse("subsidies:application_detail", args=[application.pk])


def revise_url(application):
    return reverse("subsidies:application_revise", args=[application.pk])


def page(client, application):
    response = client.get(detail_url(application))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def checked(body, certificate):
    """Whether the correction form's box for `certificate` is ticked."""
    match = re.search(
        rf'<input[^>]*name="revise-certificates"[^>]*value="{certificate.pk}"[^>]*>', body
    )
    assert match is not None, f"certificate {certificate.pk} not offered"
    return "checked" in match.group(0)


def state(application):
    fresh = Application.objects.get(pk=application.pk)
    lines = ApplicationLine.objects.filter(application=fresh).order_by("pk")
    return (
        fresh.status,
        fresh.inputs,
        fresh.amount_fen,
        [(line.certificate_id, line.amount_fen, line.live) for line in lines],
        AuditEvent.objects.filter(action="subsidies.application.revised").count(),
    )


def test_returned_claim_offers_the_prefilled_correction_form_with_the_note(
    world, firm, claim, client
):
    application, (first, second, third) = claim
    client.force_login(firm.admin)
    body = page(client, application)
    assert 'data-testid="revise-form"' in body
    assert "Correct the claim" in body
    assert f"{NOTE}" in body
    assert body.count('data-testid="returned-note"') == 1
    assert checked(body, first) and checked(body, second)
    assert not checked(body, third)  # on offer, not claimed yet
    assert 'name="revise-actual_cost"' in body and 'value="2000.00"' in body
    assert 'data-testid="submit"' in body  # and submit again below


def test_a_draft_offers_the_form_too(world, firm, client):
    certificate = staff(world, firm, "张三")
    application = workflow.start_application(
        Programme.ENTERPRISE_ONLINE_TRAINING,
        by=firm.admin,
        enterprise=firm.enterprise,
        inputs=inputs_for(firm, [certificate]),
    )
    client.force_login(firm.admin)
    body = page(client, application)
    assert 'data-testid="revise-form"' in body
    assert 'data-testid="returned-note"' not in body
    assert checked(body, certificate)
    assert re.search(r'<input[^>]*name="revise-actual_cost"(?![^>]*value=)[^>]*>', body)


def test_saving_a_correction_shows_the_new_reasons_then_submits(world, firm, claim, client):
    application, (first, second, third) = claim
    assert application.amount_fen == 1600_00  # 2 × ¥800, within 95% of ¥2,000
    client.force_login(firm.admin)
    response = client.post(
        revise_url(application),
        {"revise-certificates": [first.pk, third.pk], "revise-actual_cost": "1,000"},
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(application) + "#eligibility"

    application.refresh_from_db()
    assert application.inputs == inputs_for(firm, [first, third], actual_cost_fen=1000_00)
    assert application.amount_fen == 950_00
    assert application.status == S.RETURNED
    body = page(client, application)
    assert "The claim is corrected and was checked again" in body
    evaluation = workflow.latest_evaluation(application)
    assert evaluation is not None and evaluation.stage == "revision"
    for result in evaluation.results:
        assert render(result).text in body
    assert "Cut from ¥1,600.00 to ¥950.00" in body
    assert checked(body, first) and checked(body, third) and not checked(body, second)
    assert 'value="1000.00"' in body

    response = client.post(
        reverse("subsidies:application_submit", args=[application.pk]),
        {"payee_name": "江岸制造有限公司", "bank_name": "中国建设银行", "account_number": ""},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.SUBMITTED
    assert application.amount_fen == 950_00
    assert 'data-testid="revise-form"' not in page(client, application)


def timeline(body):
    """The timeline's entries as their data-status, in page order."""
    section = body.split('data-testid="timeline"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'<li data-status="([a-z_]+)"', section)


def test_the_timeline_shows_the_correction_between_the_return_and_the_resubmission(
    world, firm, claim, client
):
    application, (first, _second, third) = claim
    client.force_login(firm.admin)
    client.post(
        revise_url(application),
        {"revise-certificates": [first.pk, third.pk], "revise-actual_cost": "1,000"},
    )
    application.refresh_from_db()
    workflow.submit(application, by=firm.admin)
    body = page(client, application)
    assert timeline(body) == ["submitted", "returned", "revised", "submitted"]
    assert "Corrected by the applicant" in body
    assert "amount now ¥950.00" in body

    client.force_login(world.county_officer)  # the officer reviewing it again sees it too
    response = client.get(reverse("subsidies:officer_detail", args=[application.pk]))
    assert response.status_code == 200
    officer_body = html.unescape(response.content.decode())
    assert timeline(officer_body) == ["submitted", "returned", "revised", "submitted"]
    assert "amount now ¥950.00" in officer_body


def test_the_same_correction_again_changes_nothing(world, firm, claim, client):
    application, (first, second, _third) = claim
    before = state(application)
    client.force_login(firm.admin)
    response = client.post(
        revise_url(application),
        {"revise-certificates": [second.pk, first.pk], "revise-actual_cost": "2000"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Nothing was changed." in html.unescape(response.content.decode())
    assert state(application) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"revise-actual_cost": "12.345"}, "at most two decimals"),
        ({"revise-actual_cost": "-5"}, "cannot be negative"),
        ({"revise-actual_cost": "0"}, "must be more than zero"),
        ({"revise-actual_cost": "twelve"}, "Enter an amount in yuan"),
        ({"revise-certificates": []}, "Choose at least one person trained."),
        ({"revise-certificates": ["abc"]}, "Choose among the staff whose certificates are listed."),
    ],
)
def test_bad_input_is_a_field_error_and_changes_nothing(firm, claim, client, data, message):
    application, (first, second, _third) = claim
    before = state(application)
    client.force_login(firm.admin)
    response = client.post(
        revise_url(application),
        {"revise-certificates": [first.pk, second.pk], "revise-actual_cost": "2000"} | data,
    )
    assert response.status_code == 422
    body = html.unescape(response.content.decode())
    assert message in body
    # Next to the field it is about: inside the correction form, before the button.
    form = body[body.index('data-testid="revise-form"') : body.index('data-testid="revise-save"')]
    assert message in form
    assert state(application) == before


def test_a_certificate_of_someone_not_offered_is_refused(world, firm, claim, client):
    application, (first, _second, _third) = claim
    stranger = world.certificate(make_person_row(world.jiangan, name="路人"))
    before = state(application)
    client.force_login(firm.admin)
    response = client.post(
        revise_url(application), {"revise-certificates": [first.pk, stranger.pk]}
    )
    assert response.status_code == 422
    assert "Choose among the staff whose certificates are listed." in response.content.decode()
    assert state(application) == before


def test_a_refusal_of_the_service_shows_on_its_field(world, firm, claim, client):
    """The form offers the certificates the claim names; when the person's roster entry has
    since been removed, the service refuses the certificate and the page says so."""
    application, (first, second, _third) = claim
    Employment.objects.filter(person=second.person).delete()
    before = state(application)
    client.force_login(firm.admin)
    response = client.post(
        revise_url(application),
        {"revise-certificates": [first.pk, second.pk], "revise-actual_cost": "1500"},
    )
    assert response.status_code == 422
    body = html.unescape(response.content.decode())
    message = (
        f"Certificate {second.pk} is not the certificate of anyone on the enterprise's roster."
    )
    form = body[body.index('data-testid="revise-form"') : body.index('data-testid="revise-save"')]
    assert message in form
    assert state(application) == before


def test_a_claim_past_review_offers_no_form_and_refuses_a_post(world, firm, claim, client):
    application, (first, _second, _third) = claim
    application = workflow.submit(application, by=firm.admin)
    before = state(application)
    client.force_login(firm.admin)
    assert 'data-testid="revise-form"' not in page(client, application)
    response = client.post(
        revise_url(application), {"revise-certificates": [first.pk]}, follow=True
    )
    assert response.status_code == 200
    assert "This claim can no longer be corrected." in html.unescape(response.content.decode())
    assert state(application) == before


def test_a_learners_claim_offers_no_form(world, client):
    person = make_person_row(world.jiangan, name="李娜")
    learner = make_user("lina", (Role.LEARNER, None), person=person)
    application = workflow.start_application(
        Programme.LEARNER_TRAINING,
        by=learner,
        person=person,
        inputs={"certificate": world.certificate(person).pk},
    )
    client.force_login(learner)
    assert 'data-testid="revise-form"' not in page(client, application)
    response = client.post(revise_url(application), {"revise-certificates": ["1"]})
    assert response.status_code == 302
    assert Application.objects.get(pk=application.pk).inputs == application.inputs


def test_officers_and_other_enterprises_get_404(world, firm, claim, client):
    application, (first, _second, _third) = claim
    before = state(application)
    other = make_firm(world, "江岸物流有限公司", "other-admin")
    for user in (world.county_officer, world.city_officer, other.admin):
        client.force_login(user)
        assert client.get(detail_url(application)).status_code == 404
        response = client.post(revise_url(application), {"revise-certificates": [first.pk]})
        assert response.status_code == 404
    assert state(application) == before
    # The officer's own page of the claim shows the review, not the correction form.
    client.force_login(world.county_officer)
    response = client.get(reverse("subsidies:officer_detail", args=[application.pk]))
    assert response.status_code == 200
    assert 'data-testid="revise-form"' not in response.content.decode()


def test_the_correction_page_needs_a_login_and_a_post(world, firm, claim, client):
    application, _certificates = claim
    response = client.post(revise_url(application), {})
    assert response.status_code == 302 and "login" in response["Location"]
    client.force_login(firm.admin)
    assert client.get(revise_url(application)).status_code == 405


def test_a_returned_claim_corrected_from_the_page_can_be_returned_again(world, firm, client):
    """The round trip twice: the second return's note is the one shown."""
    first, second = staff(world, firm, "张三"), staff(world, firm, "李四")
    application = returned(world, firm, [first, second], actual_cost_fen=2000_00)
    client.force_login(firm.admin)
    client.post(revise_url(application), {"revise-certificates": [first.pk]})
    application = workflow.submit(Application.objects.get(pk=application.pk), by=firm.admin)
    application = workflow.return_for_correction(
        application, by=world.county_officer, note="State the cost"
    )
    body = page(client, application)
    above_history = body.split('data-testid="timeline"')[0]
    assert "State the cost" in above_history
    assert FIRST_NOTE not in above_history
    assert FIRST_NOTE in body  # in the history
    assert checked(body, first) and not checked(body, second)
