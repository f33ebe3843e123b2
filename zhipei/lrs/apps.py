from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LrsConfig(AppConfig):
    name = "zhipei.lrs"
    label = "lrs"
    verbose_name = _("Learning records")

    def ready(self) -> None:
        from zhipei.lrs import checks  # noqa: F401 - registers the system checks
