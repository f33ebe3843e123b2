from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "zhipei.regions"
    label = "regions"
