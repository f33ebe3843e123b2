"""Certificates under /learning/certificates/ (config/urls.py): the PDF download for the holder
and officers, and the officers' list, detail and revocation pages."""

from django.urls import path

from zhipei.learning.certificates import officer_views, views

app_name = "certificates"

urlpatterns = [
    path("", officer_views.certificate_list, name="list"),
    path("<int:pk>/", officer_views.certificate_detail, name="detail"),
    path("<int:pk>/revoke", officer_views.certificate_revoke, name="revoke"),
    path("<int:pk>/pdf", views.certificate_pdf, name="pdf"),
]
