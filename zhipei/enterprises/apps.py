from django.apps import AppConfig


class EnterprisesConfig(AppConfig):
    """Layer 6: the enterprise's evidence for subsidy claims — shutdown declarations and
    rosters (employees, dispatched workers, platform workers)."""

    name = "zhipei.enterprises"
    label = "enterprises"
