from django.urls import path

from zhipei.people import views

app_name = "people"
urlpatterns = [
    path("", views.person_list, name="list"),
    path("new/", views.person_create, name="create"),
    path("<int:pk>/", views.person_detail, name="detail"),
    path("<int:pk>/reveal/", views.person_reveal, name="reveal"),
    path("<int:pk>/holds/", views.person_place_hold, name="place_hold"),
    path("<int:pk>/holds/<int:hold_pk>/lift/", views.person_lift_hold, name="lift_hold"),
    path("<int:pk>/categories/", views.person_add_category, name="add_category"),
]
