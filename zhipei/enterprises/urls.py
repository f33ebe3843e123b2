from django.urls import path

from zhipei.enterprises import views

app_name = "enterprises"

urlpatterns = [
    path("declarations/", views.declaration_list, name="declarations"),
    path("declarations/new/", views.declaration_create, name="declaration_create"),
    path("declarations/<int:pk>/", views.declaration_detail, name="declaration_detail"),
    path("declarations/<int:pk>/edit/", views.declaration_edit, name="declaration_edit"),
    path(
        "declarations/<int:pk>/evidence/<int:evidence_pk>/",
        views.evidence_download,
        name="evidence_download",
    ),
    path(
        "declarations/<int:pk>/<slug:action>/",
        views.declaration_action,
        name="declaration_action",
    ),
    path("roster/", views.roster, name="roster"),
    path("roster/add/", views.employment_add, name="employment_add"),
    path("roster/<int:pk>/end/", views.employment_end, name="employment_end"),
    path("roster/import/", views.import_upload, name="import"),
    path("roster/import/template/", views.import_template, name="import_template"),
    path("roster/import/<int:pk>/", views.import_detail, name="import_detail"),
    path("roster/import/<int:pk>/<slug:action>/", views.import_action, name="import_action"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/<int:pk>/", views.review_detail, name="review_detail"),
    path("review/<int:pk>/<slug:action>/", views.review_action, name="review_action"),
    path("review/enterprises/", views.officer_enterprises, name="officer_enterprises"),
    path("review/enterprises/<int:pk>/roster/", views.officer_roster, name="officer_roster"),
]
