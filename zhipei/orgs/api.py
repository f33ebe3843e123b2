"""Platform-facing endpoints of orgs (mounted at /api/v1/platform by zhipei/api.py)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from zhipei.orgs.models import Platform, PlatformCredential
from zhipei.orgs.signing import PlatformSignatureAuth

router = Router(tags=["platform"])

# A registered platform (still applying for selection) may call this to test its signing.
_whoami_auth = PlatformSignatureAuth(
    statuses=frozenset({Platform.Status.REGISTERED, Platform.Status.SELECTED})
)


class PlatformOut(Schema):
    name: str
    uscc: str
    status: str
    key_id: str


@router.get(
    "",
    auth=_whoami_auth,
    response=PlatformOut,
    summary="The calling platform (test your request signing here)",
)
def whoami(request: HttpRequest) -> PlatformOut:
    credential: PlatformCredential = request.auth  # type: ignore[attr-defined]
    platform = credential.platform
    return PlatformOut(
        name=platform.organisation.name,
        uscc=platform.organisation.uscc,
        status=platform.status,
        key_id=credential.key_id,
    )
