"""Officer pages of learning records, mounted at "records/" in config/urls.py."""

from django.urls import path

from zhipei.lrs import pages

app_name = "records"

urlpatterns = [
    path("", pages.record_list, name="list"),
    path("<int:seq>/", pages.record_detail, name="detail"),
]
