from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Layer 3: platform calls and selection, the two catalogues, courses, filings, skill
    standards."""

    name = "zhipei.catalog"
    label = "catalog"
