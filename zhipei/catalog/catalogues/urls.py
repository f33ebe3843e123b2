from django.urls import path

from zhipei.catalog.catalogues import views

app_name = "courses"
urlpatterns = [
    path("", views.my_courses, name="mine"),
    path("new/", views.course_create, name="create"),
    path("<int:pk>/", views.course_detail, name="detail"),
    path("<int:pk>/edit/", views.course_edit, name="edit"),
    path("<int:pk>/submit/", views.course_submit, name="submit"),
    path("<int:pk>/withdraw/", views.course_withdraw, name="withdraw"),
    path(
        "<int:pk>/sessions/<int:session_pk>/attendance/",
        views.session_attendance,
        name="session_attendance",
    ),
    path("import/", views.course_import, name="import"),
    path("import/template.xlsx", views.import_template, name="import_template"),
    path("import/commit/", views.course_import_commit, name="import_commit"),
    path("review/", views.review_queue, name="review"),
    path("review/<int:pk>/<slug:action>/", views.review_action, name="review_action"),
    path("catalogues/institutions/", views.institution_list, name="institution_list"),
    path("catalogues/institutions/new/", views.institution_create, name="institution_create"),
    path("catalogues/institutions/<int:pk>/", views.institution_detail, name="institution_detail"),
    path(
        "catalogues/institutions/<int:pk>/<slug:action>/",
        views.institution_action,
        name="institution_action",
    ),
    path("catalogues/projects/", views.project_list, name="project_list"),
    path("catalogues/projects/new/", views.project_create, name="project_create"),
    path("catalogues/projects/<int:pk>/", views.project_detail, name="project_detail"),
    path(
        "catalogues/projects/<int:pk>/<slug:action>/",
        views.project_action,
        name="project_action",
    ),
]
