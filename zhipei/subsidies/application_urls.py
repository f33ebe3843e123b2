"""URL patterns included by subsidies.urls (namespace "subsidies"): applicants' and
reviewers' application pages (views_applications)."""

from django.urls import URLPattern, URLResolver, path

from zhipei.subsidies import views_applications as views

urlpatterns: list[URLPattern | URLResolver] = [
    # Applicants
    path("mine/", views.my_applications, name="my_applications"),
    path("claim/", views.claim, name="claim"),
    path("applications/<int:pk>/", views.application_detail, name="application_detail"),
    path("applications/<int:pk>/submit/", views.application_submit, name="application_submit"),
    path("applications/<int:pk>/bank/", views.application_bank, name="application_bank"),
    path("applications/<int:pk>/revise/", views.application_revise, name="application_revise"),
    path(
        "applications/<int:pk>/withdraw/",
        views.application_withdraw,
        name="application_withdraw",
    ),
    path("applications/<int:pk>/confirm/", views.application_confirm, name="application_confirm"),
    path("enterprise/", views.enterprise_applications, name="enterprise_applications"),
    path("enterprise/claim/", views.enterprise_claim_start, name="enterprise_claim_start"),
    path(
        "enterprise/claim/<int:declaration_pk>/",
        views.enterprise_claim,
        name="enterprise_claim",
    ),
    # Officers
    path("review/", views.review_home, name="review_home"),
    path("review/applications/<int:pk>/", views.officer_detail, name="officer_detail"),
    path(
        "review/applications/<int:pk>/<slug:action>/",
        views.officer_action,
        name="officer_action",
    ),
    path("review/<slug:step>/", views.review_queue, name="review_queue"),
    path("review/<slug:step>/batch/", views.review_batch, name="review_batch"),
    path("publicity/", views.publicity_list, name="publicity_list"),
    path("conflicts/", views.conflicts, name="conflicts"),
    path("conflicts/<int:pk>/withdraw/", views.conflict_withdraw, name="conflict_withdraw"),
]
