from django.urls import path

from zhipei.learning import views
from zhipei.learning.policies import views as policy_views

app_name = "learning"

urlpatterns = [
    path("", views.my_learning, name="mine"),
    path("policies/", policy_views.policy_list, name="policy_list"),
    path("policies/new", policy_views.policy_new, name="policy_new"),
    path("policies/recredit/", policy_views.recredit, name="recredit"),
    path("policies/recredit/<int:pk>/", policy_views.recredit_run, name="recredit_run"),
]
