from django.urls import path

from zhipei.orgs import views

app_name = "orgs"
urlpatterns = [
    path("", views.organisation_list, name="list"),
    path("new/", views.organisation_register, name="register"),
    path("<int:pk>/", views.organisation_detail, name="detail"),
    path("<int:pk>/capacities/", views.organisation_add_capacity, name="add_capacity"),
    path("<int:pk>/holds/", views.organisation_place_hold, name="place_hold"),
    path("<int:pk>/holds/<int:hold_pk>/lift/", views.organisation_lift_hold, name="lift_hold"),
    path("<int:pk>/credentials/", views.credential_issue, name="issue_credential"),
    path(
        "<int:pk>/credentials/<int:credential_pk>/rotate/",
        views.credential_rotate,
        name="rotate_credential",
    ),
    path(
        "<int:pk>/credentials/<int:credential_pk>/revoke/",
        views.credential_revoke,
        name="revoke_credential",
    ),
]
