"""URL patterns included by subsidies.urls (namespace "subsidies")."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
