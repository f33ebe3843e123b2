"""URL patterns included by subsidies.urls (namespace "subsidies"): payment batches."""

from django.urls import URLPattern, URLResolver, path

from zhipei.subsidies import views_batches

urlpatterns: list[URLPattern | URLResolver] = [
    path("batches/", views_batches.batch_list, name="batch_list"),
    path("batches/new/", views_batches.batch_new, name="batch_new"),
    path("batches/<int:pk>/", views_batches.batch_detail, name="batch_detail"),
    path(
        "batches/<int:pk>/export/<str:file_format>/",
        views_batches.batch_export,
        name="batch_export",
    ),
    path("batches/<int:pk>/return-file/", views_batches.batch_import, name="batch_import"),
]
