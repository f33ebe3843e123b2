from django.urls import path

from zhipei.catalog.filings import views

app_name = "filings"
urlpatterns = [
    path("", views.my_filings, name="mine"),
    path("new/<slug:kind>/", views.new_filing, name="new"),
    path("<int:pk>/", views.filing_detail, name="detail"),
    path("<int:pk>/edit/", views.edit_filing, name="edit"),
    path("<int:pk>/attachments/", views.attach, name="attach"),
    path(
        "<int:pk>/attachments/<int:upload_pk>/remove/",
        views.remove_attachment,
        name="remove_attachment",
    ),
    path("<int:pk>/attachments/<int:upload_pk>/", views.attachment_file, name="attachment"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("review/", views.review_queue, name="queue"),
    path("review/<int:pk>/", views.review_detail, name="review_detail"),
    path("review/<int:pk>/decide/", views.decide, name="decide"),
]
