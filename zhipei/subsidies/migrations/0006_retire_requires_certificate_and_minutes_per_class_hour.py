"""Remove `requires_certificate` (learner training) and `minutes_per_class_hour` (learner
training, enterprise online training) from stored policy versions.

Neither ever changed a decision, so the programmes no longer offer them
(subsidies.parameters.RETIRED): a learner-training claim always rests on a completion
certificate — policy-rules §15 `requires_certificate: 培训合格证明` names that document, it is
not a switch — and class hours are credited by the learning app under the region's crediting
policy (§15 `class_hour`), so certificates carry them already.

Policy versions are otherwise never edited after creation (models.PolicyVersion); this is the
one exception, and it changes no resolved policy: resolution reads only the names the
programme offers, so these values stopped applying with the change to parameters.py. A
version that set nothing else is left setting nothing (it inherits everything, as before).
Each version changed gets an audit event `subsidies.policy.parameters_retired` with the
values removed, the way the policy services record every other change to a version
(`subsidies.policy.version_closed` and the like); the sealer chains it like any other.

Applications keep their stored parameter snapshots as they were: those record the policy a
decision was made under.

Reversing is a no-op: the values never had an effect, so the schema goes back unchanged and
nothing needs restoring (they stay in the audit events).
"""

from typing import Any

from django.db import migrations
from django.utils import timezone

# Frozen here rather than imported from subsidies.parameters, which may change later.
RETIRED: dict[str, tuple[str, ...]] = {
    "learner_training": ("requires_certificate", "minutes_per_class_hour"),
    "enterprise_online_training": ("minutes_per_class_hour",),
}
MIGRATION = "subsidies.0006_retire_requires_certificate_and_minutes_per_class_hour"


def remove_retired_parameters(apps: Any, schema_editor: Any) -> None:
    PolicyVersion = apps.get_model("subsidies", "PolicyVersion")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    now = timezone.now()
    for programme, names in RETIRED.items():
        versions = (
            PolicyVersion.objects.filter(
                line__programme=programme, parameters__has_any_keys=list(names)
            )
            .select_related("line__region")
            .order_by("pk")
        )
        for version in versions:
            removed = {
                name: version.parameters[name] for name in names if name in version.parameters
            }
            if not removed:  # pragma: no cover - the filter selects only versions with one
                continue
            kept = {k: v for k, v in version.parameters.items() if k not in removed}
            PolicyVersion.objects.filter(pk=version.pk).update(parameters=kept)
            region = version.line.region
            AuditEvent.objects.create(
                at=now,
                action="subsidies.policy.parameters_retired",
                actor_id=None,
                actor_label="system",
                object_type="subsidies.policyversion",
                object_id=str(version.pk),
                region_code=region.code if region is not None else "",
                data={
                    "programme": programme,
                    "parameters": {
                        name: {"old": value, "new": None} for name, value in removed.items()
                    },
                    "reason": "parameter_retired",
                    "migration": MIGRATION,
                },
            )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("subsidies", "0005_drop_unused_application_shutdown"),
    ]

    operations = [
        # Reverse: a deliberate no-op (see the module docstring).
        migrations.RunPython(remove_retired_parameters, migrations.RunPython.noop),
    ]
