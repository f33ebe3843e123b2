"""Enterprise claim pages: an enterprise administrator picks a confirmed shutdown, gets the
certificates of staff on the roster pre-selected, optionally states the actual cost (parsed
as yuan: bad amounts are field errors), sees the reasons per person and submits; other
enterprises' claims and declarations are 404."""

from __future__ import annotations

import html
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from zhipei.accounts.models import Role, RoleAssignment
from zhipei.enterprises import services as enterprise_services
from zhipei.subsidies import workflow
from zhipei.subsidies.models import Application, ApplicationStatus, Programme
from zhipei.subsidies.reasons import render
from zhipei.subsidies.testing import build_claim_world, make_org, make_person_row, make_user

S = ApplicationStatus
pytestmark = pytest.mark.django_db
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def world():
    return build_claim_world()


@pytest.fixture
def firm(world):
    organisation = make_org(world.jiangan, "江岸精密制造有限公司", "enterprise")
    admin = make_user("hr")
    RoleAssignment.objects.create(
        user=admin,
        role=Role.ENTERPRISE_ADMIN,
        organisation=organisation,
        granted_at=world.course.created_at,
    )
    enterprise = organisation.enterprise
    declaration = enterprise_services.create_declaration(
        enterprise,
        kind="full",
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 4, 30),
        cause="epidemic",
        by=admin,
    )
    enterprise_services.add_evidence(
        declaration, SimpleUploadedFile("order.pdf", PDF_BYTES), by=admin
    )
    enterprise_services.submit_declaration(declaration, by=admin)
    declaration = enterprise_services.confirm_declaration(declaration, by=world.county_officer)
    staff = []
    for name in ("周杰", "吴敏"):
        person = make_person_row(world.jiangan, name=name)
        enterprise_services.insert_employment(
            enterprise, person, kind="employee", start_on=date(2025, 1, 1), by=admin
        )
        staff.append((person, world.certificate(person)))
    return {"enterprise": enterprise, "admin": admin, "declaration": declaration, "staff": staff}


def claim_url(firm):
    return reverse("subsidies:enterprise_claim", args=[firm["declaration"].pk])


def post_claim(client, firm, **overrides):
    data = {
        "certificates": [c.pk for _p, c in firm["staff"]],
        "actual_cost": "",
        "token": "t" * 22,
    }
    data.update(overrides)
    return client.post(claim_url(firm), data)


def test_claim_start_lists_confirmed_declarations(world, firm, client):
    client.force_login(firm["admin"])
    response = client.get(reverse("subsidies:enterprise_claim_start"))
    assert response.status_code == 200
    assert claim_url(firm) in response.content.decode()


def test_claim_page_preselects_the_eligible_certificates(world, firm, client):
    client.force_login(firm["admin"])
    response = client.get(claim_url(firm))
    assert response.status_code == 200
    body = response.content.decode()
    for person, certificate in firm["staff"]:
        assert person.name in body
        assert f'value="{certificate.pk}"' in body
    assert body.count("checked") >= 2


def test_claim_creates_a_draft_with_reasons_per_person(world, firm, client):
    client.force_login(firm["admin"])
    response = post_claim(client, firm, actual_cost="1,000.50")
    application = Application.objects.get()
    assert response.status_code == 302
    assert application.enterprise == firm["enterprise"]
    assert application.kind == Programme.ENTERPRISE_ONLINE_TRAINING
    assert application.inputs == {
        "shutdown": firm["declaration"].pk,
        "certificates": sorted(c.pk for _p, c in firm["staff"]),
        "actual_cost_fen": 1000_50,
    }
    page = client.get(response["Location"])
    body = html.unescape(page.content.decode())
    assert body.count('data-testid="line"') == 2
    evaluation = workflow.latest_evaluation(application)
    assert evaluation is not None
    for result in evaluation.results:
        assert render(result).text in body
    assert 'value="江岸精密制造有限公司"' in body  # payee prefilled with the enterprise

    submit = client.post(
        reverse("subsidies:application_submit", args=[application.pk]),
        {
            "payee_name": "江岸精密制造有限公司",
            "bank_name": "中国银行武汉分行",
            "account_number": "4000 1234 5678 9012",
        },
    )
    assert submit.status_code == 302
    application.refresh_from_db()
    assert application.status == S.SUBMITTED
    listing = client.get(reverse("subsidies:enterprise_applications")).content.decode()
    assert application.number in listing


def test_double_submitted_claim_form_gives_one_draft(world, firm, client):
    client.force_login(firm["admin"])
    first = post_claim(client, firm)
    second = post_claim(client, firm)
    assert first["Location"] == second["Location"]
    assert Application.objects.count() == 1


@pytest.mark.parametrize(
    ("cost", "message"),
    [
        ("12.345", "at most two decimals"),
        ("-5", "cannot be negative"),
        ("0", "must be more than zero"),
        ("99999999999", "too large"),
        ("twelve", "Enter an amount in yuan"),
    ],
)
def test_bad_actual_cost_is_a_field_error(world, firm, client, cost, message):
    client.force_login(firm["admin"])
    response = post_claim(client, firm, actual_cost=cost)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Application.objects.exists()


def test_certificate_of_someone_not_offered_is_refused(world, firm, client):
    stranger = make_person_row(world.jiangan, name="郑强")
    certificate = world.certificate(stranger)
    client.force_login(firm["admin"])
    response = post_claim(client, firm, certificates=[certificate.pk])
    assert response.status_code == 422
    assert "Choose among the staff whose certificates are listed." in response.content.decode()
    response = post_claim(client, firm, certificates=[])
    assert response.status_code == 422
    assert "Choose at least one person trained." in response.content.decode()
    assert not Application.objects.exists()


def test_other_enterprises_declaration_and_claims_are_404(world, firm, client):
    other_org = make_org(world.jiangan, "江岸物流有限公司", "enterprise")
    other_admin = make_user("other-hr")
    RoleAssignment.objects.create(
        user=other_admin,
        role=Role.ENTERPRISE_ADMIN,
        organisation=other_org,
        granted_at=world.course.created_at,
    )
    client.force_login(firm["admin"])
    post_claim(client, firm)
    application = Application.objects.get()
    client.force_login(other_admin)
    assert client.get(claim_url(firm)).status_code == 404
    assert post_claim(client, firm).status_code == 404
    assert (
        client.get(reverse("subsidies:application_detail", args=[application.pk])).status_code
        == 404
    )
    assert (
        application.number
        not in client.get(reverse("subsidies:enterprise_applications")).content.decode()
    )


def test_learners_and_officers_get_403_on_enterprise_pages(world, firm, client):
    learner = make_user("learner", (Role.LEARNER, None))
    for user in (learner, world.county_officer):
        client.force_login(user)
        assert client.get(reverse("subsidies:enterprise_applications")).status_code == 403
        assert client.get(reverse("subsidies:enterprise_claim_start")).status_code == 403
        assert client.get(claim_url(firm)).status_code == 403


def test_enterprise_admins_find_subsidy_claims_in_the_menu(world, firm, client):
    client.force_login(firm["admin"])
    body = client.get(reverse("subsidies:enterprise_applications")).content.decode()
    url = reverse("subsidies:enterprise_applications")
    assert f'href="{url}" aria-current="page"' in body
