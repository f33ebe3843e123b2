from django.apps import AppConfig


class LrsDocumentsConfig(AppConfig):
    """Layer 4: the xAPI document resources (state, activity profile, agent profile) and the
    activities and agents resources, beside the statement store in zhipei.lrs."""

    name = "zhipei.lrs_documents"
    label = "lrs_documents"
