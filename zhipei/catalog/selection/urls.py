from django.urls import path

from zhipei.catalog.selection import views

app_name = "selection"
urlpatterns = [
    # Public
    path("platforms/", views.public_platforms, name="public_platforms"),
    # Officers: calls, applications, listed platforms
    path("calls/", views.call_list, name="calls"),
    path("calls/new/", views.call_create, name="call_create"),
    path("calls/<int:pk>/", views.call_detail, name="call_detail"),
    path("calls/<int:pk>/open/", views.call_open, name="call_open"),
    path("calls/<int:pk>/review/", views.call_start_review, name="call_start_review"),
    path("calls/<int:pk>/reviewers/", views.call_assign_reviewers, name="call_assign_reviewers"),
    path("calls/<int:pk>/publish/", views.call_publish, name="call_publish"),
    path("applications/<int:pk>/", views.application_detail, name="application_detail"),
    path(
        "applications/<int:pk>/reviewers/",
        views.application_assign_reviewers,
        name="application_assign_reviewers",
    ),
    path("applications/<int:pk>/decide/", views.application_decide, name="application_decide"),
    path("listed/", views.listed_platforms, name="listed_platforms"),
    path("listed/<int:pk>/", views.platform_manage, name="platform_manage"),
    path(
        "listed/<int:pk>/<str:action>/",
        views.platform_change,
        name="platform_change",
    ),
    # Reviewers
    path("reviews/", views.my_reviews, name="my_reviews"),
    path("reviews/<int:pk>/", views.review_detail, name="review"),
    path("reviews/<int:pk>/conflict/", views.review_conflict, name="review_conflict"),
    # Platform operators
    path("open/", views.open_calls, name="open_calls"),
    path("open/<int:pk>/apply/", views.apply, name="apply"),
    path("mine/", views.my_applications, name="my_applications"),
    path("mine/<int:pk>/", views.my_application, name="my_application"),
    path("mine/<int:pk>/documents/", views.my_application_upload, name="my_application_upload"),
    path(
        "mine/<int:pk>/documents/<int:document_pk>/remove/",
        views.my_application_remove_document,
        name="my_application_remove_document",
    ),
    path("mine/<int:pk>/submit/", views.my_application_submit, name="my_application_submit"),
    path("mine/<int:pk>/withdraw/", views.my_application_withdraw, name="my_application_withdraw"),
    path("my-platform/", views.my_platform, name="my_platform"),
    # Documents (operator, officer of the call, assigned reviewer)
    path("documents/<int:pk>/", views.document_download, name="document"),
]
