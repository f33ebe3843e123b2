"""The certificate PDF download, mounted at /learning/certificates/ (config/urls.py)."""

from django.urls import path

from zhipei.learning.certificates import views

app_name = "certificates"

urlpatterns = [
    path("<int:pk>/pdf", views.certificate_pdf, name="pdf"),
]
