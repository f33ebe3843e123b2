from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Layer 0: helpers every app may use (errors, env checks, client IP, money formatting)."""

    name = "zhipei.core"
    label = "core"

    def ready(self) -> None:
        from zhipei.core import checks  # noqa: F401  (registers system checks)
