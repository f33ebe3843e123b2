from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "zhipei.people"
    label = "people"
