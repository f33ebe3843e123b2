from django.urls import include, path

from zhipei.subsidies import views

app_name = "subsidies"
urlpatterns = [
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/new/<str:programme>/", views.policy_new, name="policy_new"),
    path("policies/in-force/<str:programme>/", views.policy_resolved, name="policy_resolved"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path("policies/<int:pk>/retire/", views.policy_retire, name="policy_retire"),
    path("funds/", views.fund_list, name="fund_list"),
    path("funds/allocate/", views.fund_allocate, name="fund_allocate"),
    path("funds/<str:source>/<int:region_pk>/", views.fund_detail, name="fund_detail"),
    path("", include("zhipei.subsidies.application_urls")),
    path("", include("zhipei.subsidies.batch_urls")),
]
