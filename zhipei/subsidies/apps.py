from django.apps import AppConfig


class SubsidiesConfig(AppConfig):
    name = "zhipei.subsidies"
    label = "subsidies"
