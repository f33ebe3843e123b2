from django.apps import AppConfig


class OccupationsConfig(AppConfig):
    name = "zhipei.occupations"
    label = "occupations"
