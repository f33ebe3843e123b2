"""Routes for the whole /xapi/ prefix (mounted at "xapi/" in config/urls.py): the statement
store's resources here and the document resources of zhipei.lrs_documents. Each pattern
accepts an optional trailing slash, so CommonMiddleware never redirects an xAPI request (a
redirected POST or PUT loses its body), and every view is CSRF-exempt (xapi_endpoint)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import re_path
from django.views.decorators.common import no_append_slash
from django.views.decorators.csrf import csrf_exempt

from zhipei.lrs import views
from zhipei.lrs_documents import views as documents

app_name = "lrs"


def _xapi(view: Callable[..., HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """Belt and braces: whatever a resource module does, /xapi/ is CSRF-exempt and never
    slash-redirected."""
    return csrf_exempt(no_append_slash(view))


urlpatterns = [
    re_path(r"^about/?$", _xapi(views.about), name="about"),
    re_path(r"^statements/?$", _xapi(views.statements), name="statements"),
    re_path(r"^activities/state/?$", _xapi(documents.activity_state), name="activity_state"),
    re_path(r"^activities/profile/?$", _xapi(documents.activity_profile), name="activity_profile"),
    re_path(r"^activities/?$", _xapi(documents.activities), name="activities"),
    re_path(r"^agents/profile/?$", _xapi(documents.agent_profile), name="agent_profile"),
    re_path(r"^agents/?$", _xapi(documents.agents), name="agents"),
]
