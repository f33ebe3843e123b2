"""Create (or reuse) a selected benchmark platform and print a fresh Basic credential for it.

    DATABASE_URL=postgres://… .venv/bin/python bench/xapi_fixture.py [--learners N --actors FILE]
prints `KEY_ID SECRET` on one line, for bench/xapi_load.py --user/--password. With
--learners, the platform also gets N registered learners (people with a pseudonym on it, as
POST /api/v1/learners gives), and FILE their xAPI actors, one JSON object per line, for
xapi_load.py --actors: statements that name real learners, as a platform following
docs/xapi-profile.md sends them, so the LRS looks each one up.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zhipei.orgs.models import Platform
    from zhipei.regions.models import Region

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

NAME = "xAPI benchmark platform"


def _learners(platform: Platform, region: Region, count: int, actors: Path) -> None:
    """`count` learners of `platform` (those it has, then new ones), their actors in `actors`."""
    from zhipei.people.models import PlatformPseudonym
    from zhipei.people.queries import learners_home_page
    from zhipei.people.services import pseudonym_for
    from zhipei.people.testing import make_id_number, make_person

    names = list(
        PlatformPseudonym.objects.filter(platform=platform)
        .order_by("pk")
        .values_list("pseudonym", flat=True)[:count]
    )
    for n in range(len(names), count):
        # a distinct number for each n: one birth date per 999 sequence numbers
        birth = (date(1970, 1, 1) + timedelta(days=n // 999)).strftime("%Y%m%d")
        number = make_id_number(region.code, birth=birth, seq=n % 999 + 1)
        person = make_person(region, id_number=number)
        names.append(pseudonym_for(person, platform=platform)[0])
    home = learners_home_page()
    with actors.open("w", encoding="utf-8") as out:
        for name in names:
            actor = {"objectType": "Agent", "account": {"homePage": home, "name": name}}
            out.write(json.dumps(actor, separators=(",", ":")) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=0, help="registered learners to make")
    parser.add_argument("--actors", type=Path, help="where to write their actors (JSON lines)")
    args = parser.parse_args()
    if args.learners and args.actors is None:
        parser.error("--learners needs --actors FILE")
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
    platform = Platform.objects.get(organisation=organisation)
    if args.learners:
        _learners(platform, region, args.learners, args.actors)
    credential, secret = issue_credential(platform, by=None)
    print(credential.key_id, secret)


if __name__ == "__main__":
    main()
