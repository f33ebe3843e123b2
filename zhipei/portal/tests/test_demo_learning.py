"""The demo learning history: two learners credited through the real pass, certificates issued,
an uncredited session explained, and a second run that changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest

from zhipei.learning.models import CompletionCertificate, Enrolment
from zhipei.learning.queries import class_hours_credited, uncredited_reasons
from zhipei.lrs.models import Statement
from zhipei.portal.demo import load_demo
from zhipei.portal.demo_learning import load_demo_learning


@pytest.mark.django_db(transaction=True)
def test_demo_learners_earn_certificates_with_explained_minutes() -> None:
    from zhipei.catalog.demo import load_demo_catalog
    from zhipei.subsidies.demo import load_demo_policies

    load_demo(StringIO())
    load_demo_catalog(StringIO())
    load_demo_policies()

    report = load_demo_learning(StringIO())

    assert len(report.certificates) == 2
    for enrolment in Enrolment.objects.all():
        assert class_hours_credited(enrolment) >= enrolment.course.class_hours
    certificate = CompletionCertificate.objects.order_by("pk").first()
    assert certificate is not None and certificate.status == CompletionCertificate.Status.VALID
    reasons = [r.code for e in Enrolment.objects.all() for r in uncredited_reasons(e)]
    assert reasons == ["face_check_missing"]

    stored = Statement.objects.count()
    again = load_demo_learning(StringIO())
    assert again.certificates == []
    assert Statement.objects.count() == stored
    assert CompletionCertificate.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_demo_waits_out_a_transaction_open_elsewhere() -> None:
    # The crediting pass reads only below the oldest transaction open in this database (on
    # the whole server, until the horizon became the database's own); another process's open
    # transaction once made the demo take the first empty pass for the end, and issue no
    # certificates.
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    import threading

    import psycopg

    from zhipei.catalog.demo import load_demo_catalog
    from zhipei.subsidies.demo import load_demo_policies

    load_demo(StringIO())
    load_demo_catalog(StringIO())
    load_demo_policies()
    elsewhere = psycopg.connect(**connection.get_connection_params())
    elsewhere.execute("SELECT txid_current()")  # an open transaction with an xid
    timer = threading.Timer(1.0, elsewhere.rollback)
    timer.start()
    try:
        report = load_demo_learning(StringIO())
    finally:
        timer.join()
        elsewhere.close()
    assert len(report.certificates) == 2
