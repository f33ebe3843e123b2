"""Browser journey: a completion certificate issued through the services is checked on the
public verification page at phone size, first through its QR link, then by number and the
holder's full name; the page fits the phone's width and shows the holder masked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from tests.browser.support import PHONE, fits_phone, shoot
from zhipei.accounts.models import Role
from zhipei.accounts.services import create_user, grant_role
from zhipei.learning.certificates.queries import verify_url
from zhipei.learning.certificates.services import issue_certificate
from zhipei.learning.models import CompletionCertificate, CreditedTime
from zhipei.learning.services import enrol
from zhipei.learning.tests.helpers import make_course
from zhipei.lrs.tests.helpers import make_platform
from zhipei.occupations.models import Occupation
from zhipei.people.testing import make_person
from zhipei.regions.testing import make_region_tree

pytestmark = [pytest.mark.browser, pytest.mark.chinese, pytest.mark.django_db(transaction=True)]

PASSWORD = "Zhipei-test-2026"


@pytest.fixture
def certificate() -> CompletionCertificate:
    regions = make_region_tree()
    region = regions["420102"]
    platform, _credential, _secret = make_platform(region)
    person = make_person(region, name="王小芳")
    learner = create_user(username="wangxf", password=PASSWORD, person=person)
    grant_role(learner, role=Role.LEARNER, by=None)
    major = Occupation.objects.create(code="6", level=1, name="生产制造及有关人员")
    welder = Occupation.objects.create(code="6-18", level=2, name="焊工", parent=major)
    course = make_course(platform, region, "weld", [welder])
    course.title = "焊工安全操作与实训"
    course.requires_test = False
    course.save(update_fields=["title", "requires_test"])
    enrolment = enrol(person, course, by=learner)
    today = timezone.localdate()
    for days_ago, minutes in ((3, 50), (1, 45)):
        CreditedTime.objects.create(
            enrolment=enrolment,
            day=today - timedelta(days=days_ago),
            credited_seconds=minutes * 60,
            computed_at=timezone.now(),
        )
    return issue_certificate(enrolment, by=learner)


def test_public_verification_on_a_phone(
    browser: Any, live_server: Any, certificate: CompletionCertificate
) -> None:
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    try:
        # What the QR code opens (the site part of the URL is this test server's).
        path = verify_url(certificate).removeprefix(settings.SITE_URL)
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200
        status = page.locator("#certificate-status")
        assert status.locator(".badge-ok").is_visible()
        facts = page.locator("#certificate-facts").inner_text()
        assert certificate.number in facts
        assert "王*芳" in facts
        assert "焊工安全操作与实训" in facts
        assert "6-18" in facts and "焊工" in facts
        assert certificate.started_on.isoformat() in facts
        assert certificate.completed_on.isoformat() in facts
        assert "Platform 1" in facts
        content = page.content()
        assert "王小芳" not in content
        assert certificate.person.id_masked not in content
        assert fits_phone(page)
        shoot(page, "certificate-verify-phone")

        # By number and full name, typed the way people do (spaces, lower case).
        page.goto(f"{live_server.url}/verify/completion/")
        assert fits_phone(page)
        page.fill("#id_number", certificate.number.replace("-", " ").lower())
        page.fill("#id_name", "王小明")
        with page.expect_navigation():
            page.locator("#lookup-form button[type=submit]").click()
        assert page.locator("#lookup-errors").is_visible()
        assert page.locator("#certificate-facts").count() == 0

        page.fill("#id_number", certificate.number)
        page.fill("#id_name", "王小芳")
        with page.expect_navigation():
            page.locator("#lookup-form button[type=submit]").click()
        assert page.locator("#certificate-status .badge-ok").is_visible()
        assert certificate.number in page.locator("#certificate-facts").inner_text()
        assert "王小芳" not in page.content()
        shoot(page, "certificate-lookup-phone")
    finally:
        context.close()
