from django.urls import path

from zhipei.catalog.public import views

app_name = "catalogue"
urlpatterns = [
    path("", views.home, name="home"),
    path("courses/", views.course_list, name="courses"),
    path("courses/<int:pk>/", views.course_detail, name="course"),
    path("standards/", views.standard_list, name="standards"),
    path("standards/new/", views.standard_edit, name="standard_new"),
    path("standards/<int:pk>/edit/", views.standard_edit, name="standard_edit"),
    path("materials/new/", views.material_edit, name="material_new"),
    path("materials/<int:pk>/edit/", views.material_edit, name="material_edit"),
]
