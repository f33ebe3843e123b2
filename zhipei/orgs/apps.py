from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "zhipei.orgs"
    label = "orgs"
