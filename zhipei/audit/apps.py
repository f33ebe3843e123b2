from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "zhipei.audit"
    label = "audit"
