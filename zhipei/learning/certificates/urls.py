"""Public verification, mounted at /verify/ (config/urls.py)."""

from django.urls import path

from zhipei.learning.certificates import views

app_name = "verify"

urlpatterns = [
    path("completion/", views.verify_lookup, name="lookup"),
    path("completion/<str:token>", views.verify_completion, name="completion"),
]
