"""The statement store (ARCHITECTURE "Scale-out"; decision record docs/decisions/0002)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Statement(models.Model):
    """One xAPI statement as the LRS stored it. Append-only: rows are inserted by
    `zhipei.lrs.services.store_statements` (COPY through `services.copy_rows` on PostgreSQL)
    and never updated, except `voided`, which the service sets when a voiding statement for
    this one arrives (Data §2.3.2). Nothing is deleted.

    `seq` increases with every insert but is NOT commit order on PostgreSQL: readers that
    want "everything after N" go through `queries.statements_after`, which reads only rows of
    transactions that have finished (a hidden `xid` column, PostgreSQL only, holds the inserting
    transaction id; see the migration and docs/decisions/0002-statement-store.md).

    On PostgreSQL the table is partitioned by month on `stored` (migration 0006,
    `zhipei.lrs.partitions`): the real primary key is (seq, stored), and `statement_id` is kept
    unique across partitions by the unpartitioned table `lrs_statement_id (statement_id,
    stored, seq)`, which the service writes in the same transaction. The partitions have no
    index of statement ids (migration 0008): find statements by id with
    `queries.rows_by_id` or `queries.with_ids`, which go through the id table to the primary
    key, never with a plain `statement_id` filter, which would read every partition whole.
    Insert only through the service. On SQLite this is an ordinary table with the unique
    index the field declares.

    `payload` is the statement JSON as stored, with id, stored, authority, version and
    timestamp filled in; the other columns are extracted from it for filtering and crediting.
    Statements naming unknown learners (`person` null) or unknown courses (`course` null),
    off-profile ones and those with odd timestamps are stored all the same: crediting decides
    what counts. `statement_id` is unique across the whole store, which is what makes a
    repeated POST of the same statement a no-op and a different body under the same id a 409.
    No ID number is ever stored here: learners appear only under their per-platform pseudonym.
    """

    seq = models.BigAutoField(primary_key=True)
    statement_id = models.UUIDField(unique=True)
    # The single-column FK indexes Django would add are left out: the composite indexes in
    # Meta start with the same columns, and every index costs on the ingest path.
    # No foreign-key constraints in the database either (db_constraint=False; PROTECT still
    # holds in the ORM, docs/decisions/0009): a constraint checks every row and locks the row
    # it points at, 6-9 µs of PostgreSQL per statement naming a learner. The ids are sound
    # by construction: platform from the authenticated credential, person from the
    # platform's pseudonym row read in the same transaction (whose own constraint keeps the
    # person), course from the catalogue; none of the three is ever deleted.
    platform = models.ForeignKey(
        "orgs.Platform",
        on_delete=models.PROTECT,
        related_name="statements",
        db_index=False,
        db_constraint=False,
    )
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statements",
        db_index=False,
        db_constraint=False,
        help_text=_("The learner, when the actor is a pseudonym this platform registered."),
    )
    course = models.ForeignKey(
        "catalog.Course",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statements",
        db_index=False,
        db_constraint=False,
        help_text=_("The course whose (or whose lesson's) activity IRI is the object."),
    )
    actor_ifi = models.CharField(max_length=600)
    object_agent_ifi = models.CharField(max_length=600, blank=True)
    verb_id = models.CharField(max_length=500)
    activity_id = models.CharField(max_length=500, blank=True)
    object_statement_id = models.UUIDField(null=True, blank=True)
    registration = models.UUIDField(null=True, blank=True)
    timestamp = models.DateTimeField()
    stored = models.DateTimeField()
    duration_seconds = models.FloatField(null=True, blank=True)
    voided = models.BooleanField(default=False)
    is_voiding = models.BooleanField(default=False)
    # "\n"-delimited (leading and trailing "\n"), for related_activities / related_agents:
    # every activity IRI and every agent key anywhere in the statement.
    related_activities = models.TextField(blank=True)
    related_agents = models.TextField(blank=True)
    # Members of a Group that is the actor or the object: the `agent` filter matches them too
    # (Communication §2.1.3).
    member_agents = models.TextField(blank=True)
    payload = models.TextField()
    has_attachments = models.BooleanField(default=False)
    # A session statement's profile evidence (session id, face check, media positions, seek,
    # idle pause) as `zhipei.lrs.evidence` encodes it, extracted at ingest for the crediting
    # pass; empty for other verbs and for statements stored before the column existed. The
    # database default lets code that predates the column insert during a rolling deploy.
    evidence = models.TextField(blank=True, default="", db_default="")

    class Meta:
        indexes = [
            models.Index(fields=["platform", "stored"], name="lrs_stmt_platform_stored"),
            models.Index(fields=["person", "timestamp"], name="lrs_stmt_person_time"),
            models.Index(fields=["platform", "actor_ifi"], name="lrs_stmt_platform_actor"),
            models.Index(fields=["verb_id"], name="lrs_stmt_verb"),
            models.Index(fields=["activity_id"], name="lrs_stmt_activity"),
            models.Index(fields=["registration"], name="lrs_stmt_registration"),
            # Only voiding statements are looked up by their target (Data §2.3.2); a partial
            # index keeps that lookup independent of the table's size.
            models.Index(
                fields=["object_statement_id"],
                condition=models.Q(is_voiding=True),
                name="lrs_stmt_voiding_target",
            ),
            models.Index(fields=["course", "timestamp"], name="lrs_stmt_course_time"),
            # Statements whose object is a StatementRef, for the StatementRef filter rule.
            models.Index(
                fields=["platform", "seq"],
                condition=models.Q(object_statement_id__isnull=False),
                name="lrs_stmt_platform_refs",
            ),
        ]

    def __str__(self) -> str:
        return str(self.statement_id)


class Attachment(models.Model):
    """The raw data of an attachment sent in a multipart/mixed statement request, stored once
    per (platform, sha2) however many statements name it (Communication §1.5.2)."""

    platform = models.ForeignKey("orgs.Platform", on_delete=models.PROTECT, related_name="+")
    sha2 = models.CharField(max_length=128)
    content_type = models.CharField(max_length=200)
    content = models.BinaryField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "sha2"], name="lrs_attachment_once")
        ]

    def __str__(self) -> str:
        return self.sha2
