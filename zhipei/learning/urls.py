from django.urls import path

from zhipei.learning import views

app_name = "learning"

urlpatterns = [
    path("", views.my_learning, name="mine"),
]
