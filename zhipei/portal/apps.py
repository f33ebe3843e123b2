from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "zhipei.portal"
    label = "portal"
