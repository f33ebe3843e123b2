"""Create (or reuse) a selected benchmark platform and print a fresh Basic credential for it.

    DATABASE_URL=postgres://… .venv/bin/python bench/xapi_fixture.py
prints `KEY_ID SECRET` on one line, for bench/xapi_load.py --user/--password.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

NAME = "xAPI benchmark platform"


def main() -> None:
    import django

    django.setup()
    from zhipei.orgs.models import Organisation, Platform
    from zhipei.orgs.services import issue_credential, register_organisation
    from zhipei.orgs.tests.helpers import make_uscc
    from zhipei.regions.models import Region
    from zhipei.regions.testing import make_region_tree

    region = Region.objects.filter(code="420102").first()
    if region is None:
        region = make_region_tree()["420102"]
    organisation = Organisation.objects.filter(name=NAME).first()
    if organisation is None:
        organisation = register_organisation(
            uscc=make_uscc(region.code, 990001),
            name=NAME,
            region=region,
            capacities={"platform"},
            by=None,
        )
    Platform.objects.filter(organisation=organisation).update(status=Platform.Status.SELECTED)
    credential, secret = issue_credential(Platform.objects.get(organisation=organisation), by=None)
    print(credential.key_id, secret)


if __name__ == "__main__":
    main()
