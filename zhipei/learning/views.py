"""Learner pages: "My learning" — each enrolment's credited class hours against the course's
hours, and the reasons for minutes that were not credited, in plain words."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from zhipei.accounts.queries import signed_in_user
from zhipei.learning import queries
from zhipei.learning.certificates import queries as certificate_queries


@login_required
@require_GET
def my_learning(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    person = user.person
    progress = queries.learning_of(person) if person is not None else []
    certificates = certificate_queries.valid_certificates_of(person) if person is not None else []
    return render(
        request,
        "learning/my_learning.html",
        {"person": person, "progress": progress, "certificates": certificates},
    )
