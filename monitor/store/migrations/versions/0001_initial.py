"""Initial schema: the tables of the schema contract, and an append-only audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the column types as they were at this revision (models may change later).
UTC = sa.DateTime(timezone=True)
SECONDS = sa.Double()
APPEND_ONLY = "audit_event is append-only"


def _fk(table: str, column: str, target: str, nullable: bool = False) -> sa.Column:
    """A foreign key column with the name the models' naming convention gives it."""
    name = op.f(f"fk_{table}_{column}_{target}")
    foreign_key = sa.ForeignKey(f"{target}.id", name=name)
    return sa.Column(column, sa.Integer(), foreign_key, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "monitoring_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor_id", sa.String(), nullable=False),
        sa.Column("bed_label", sa.String(), nullable=False),
        sa.Column("encounter_id", sa.String(), nullable=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("model_name", sa.String(), nullable=True),
        sa.Column("model_sha256", sa.String(), nullable=True),
        sa.Column("device", sa.String(), nullable=True),
        sa.Column("app_version", sa.String(), nullable=False),
        sa.Column("settings_json", sa.Text(), nullable=True),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("clock_origin_utc", UTC, nullable=False),
        sa.Column("ended_at", UTC, nullable=True),
        sa.Column("end_reason", sa.String(), nullable=True),
        sa.Column("heartbeat_at", UTC, nullable=True),
        sa.Column("frames", sa.Integer(), nullable=True),
        sa.Column("frames_scored", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_session")),
    )
    op.create_index(op.f("ix_monitoring_session_monitor_id"), "monitoring_session", ["monitor_id"])
    op.create_index(op.f("ix_monitoring_session_started_at"), "monitoring_session", ["started_at"])

    op.create_table(
        "sample",
        sa.Column("id", sa.Integer(), nullable=False),
        _fk("sample", "session_id", "monitoring_session"),
        sa.Column("t", SECONDS, nullable=False),
        sa.Column("s", SECONDS, nullable=True),
        sa.Column("f", SECONDS, nullable=True),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("frames_scored", sa.Integer(), nullable=False),
        sa.Column("frames_no_face", sa.Integer(), nullable=False),
        sa.Column("frames_poor_quality", sa.Integer(), nullable=False),
        sa.Column("p_mean", SECONDS, nullable=True),
        sa.Column("p_max", SECONDS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample")),
    )
    op.create_index("ix_sample_session_id_t", "sample", ["session_id", "t"])

    op.create_table(
        "frame_trace",
        sa.Column("id", sa.Integer(), nullable=False),
        _fk("frame_trace", "session_id", "monitoring_session"),
        sa.Column("t0", SECONDS, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frame_trace")),
    )
    op.create_index("ix_frame_trace_session_id_t0", "frame_trace", ["session_id", "t0"])

    op.create_table(
        "episode",
        sa.Column("id", sa.Integer(), nullable=False),
        _fk("episode", "session_id", "monitoring_session"),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("start_at", SECONDS, nullable=False),
        sa.Column("alarm_at", SECONDS, nullable=True),
        sa.Column("end_at", SECONDS, nullable=True),
        sa.Column("end_reason", sa.String(), nullable=True),
        sa.Column("peak_s", SECONDS, nullable=True),
        sa.Column("mean_s", SECONDS, nullable=True),
        sa.Column("max_share", SECONDS, nullable=True),
        sa.Column("max_band", sa.Integer(), nullable=True),
        sa.Column("max_priority", sa.String(), nullable=True),
        sa.Column("ack_at", SECONDS, nullable=True),
        sa.Column("ack_by", sa.String(), nullable=True),
        sa.Column("mode", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_episode")),
        sa.UniqueConstraint("session_id", "number", name=op.f("uq_episode_session_id_number")),
    )

    op.create_table(
        "alarm_event",
        sa.Column("id", sa.Integer(), nullable=False),
        _fk("alarm_event", "session_id", "monitoring_session"),
        _fk("alarm_event", "episode_id", "episode", nullable=True),
        sa.Column("t", SECONDS, nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("priority", sa.String(), nullable=True),
        sa.Column("transition", sa.String(), nullable=False),
        sa.Column("user", sa.String(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_event")),
    )
    op.create_index(op.f("ix_alarm_event_episode_id"), "alarm_event", ["episode_id"])
    op.create_index("ix_alarm_event_session_id_t", "alarm_event", ["session_id", "t"])

    op.create_table(
        "annotation",
        sa.Column("id", sa.Integer(), nullable=False),
        _fk("annotation", "episode_id", "episode"),
        sa.Column("t", SECONDS, nullable=False),
        sa.Column("author", sa.String(), nullable=False),
        sa.Column("intervention", sa.String(), nullable=True),
        sa.Column("nips", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotation")),
    )
    op.create_index("ix_annotation_episode_id_t", "annotation", ["episode_id", "t"])

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        _fk("audit_event", "session_id", "monitoring_session", nullable=True),
        sa.Column("t", SECONDS, nullable=True),
        sa.Column("at", UTC, nullable=False),
        sa.Column("user", sa.String(), nullable=True),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("detail_json", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    op.create_index("ix_audit_event_session_id_t", "audit_event", ["session_id", "t"])
    _refuse_audit_changes()


def _refuse_audit_changes() -> None:
    """The audit log is evidence: the database itself refuses UPDATE and DELETE on it."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{statement.lower()} BEFORE {statement} "
                f"ON audit_event BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_event_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_refuse()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION audit_event_refuse()")
    for table in (
        "audit_event", "annotation", "alarm_event", "episode", "frame_trace", "sample",
        "monitoring_session",
    ):
        op.drop_table(table)
