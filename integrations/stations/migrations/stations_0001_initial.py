"""Public computer stations: stations, visitors, sessions and the audit log.

Revision ID: stations_0001
Revises: (none: the first revision of the ``stations`` branch; depends on the core's 0002)
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "stations_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("stations",)
depends_on: str | Sequence[str] | None = "0002"

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "stations_stations",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=False),
        sa.Column("device_id", sa.String(32), nullable=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("mac", sa.String(32), nullable=True),
        sa.Column("maintenance", sa.Boolean(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_stations_stations_tenant_id_tenants", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name="fk_stations_stations_device_id_devices", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_stations_stations"),
        sa.UniqueConstraint("tenant_id", "name", name="uq_stations_stations_tenant_id_name"),
    )
    op.create_index("ix_stations_stations_tenant_id", "stations_stations", ["tenant_id"])
    op.create_index("ix_stations_stations_address", "stations_stations", ["address"])

    op.create_table(
        "stations_visitors",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=False),
        sa.Column("last_name", sa.String(128), nullable=True),
        sa.Column("first_name", sa.String(128), nullable=True),
        sa.Column("email", sa.String(255), nullable=True),
        sa.Column("phone", sa.String(64), nullable=True),
        sa.Column("id_document", sa.String(128), nullable=True),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.Column("photo_type", sa.String(32), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("consent_at", sa.Float(), nullable=True),
        sa.Column("erased_at", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_stations_visitors_tenant_id_tenants", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_stations_visitors"),
    )
    op.create_index("ix_stations_visitors_tenant_id_last_name", "stations_visitors", ["tenant_id", "last_name"])

    op.create_table(
        "stations_sessions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=False),
        sa.Column("station_id", sa.String(32), nullable=True),
        sa.Column("visitor_id", sa.String(32), nullable=True),
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("live_code", sa.String(8), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=True),
        sa.Column("ends_at", sa.Float(), nullable=True),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("warned", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_stations_sessions_tenant_id_tenants", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations_stations.id"],
            name="fk_stations_sessions_station_id_stations_stations",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["stations_visitors.id"],
            name="fk_stations_sessions_visitor_id_stations_visitors",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_stations_sessions"),
        sa.UniqueConstraint("live_code", name="uq_stations_sessions_live_code"),
    )
    op.create_index("ix_stations_sessions_station_id", "stations_sessions", ["station_id"])
    op.create_index("ix_stations_sessions_visitor_id", "stations_sessions", ["visitor_id"])
    op.create_index("ix_stations_sessions_status", "stations_sessions", ["status"])
    op.create_index("ix_stations_sessions_tenant_id_created_at", "stations_sessions", ["tenant_id", "created_at"])

    op.create_table(
        "stations_logs",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=False),
        sa.Column("time", sa.Float(), nullable=False),
        sa.Column("actor", sa.String(160), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("station_id", sa.String(32), nullable=True),
        sa.Column("session_id", sa.String(32), nullable=True),
        sa.Column("visitor_id", sa.String(32), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("address", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_stations_logs_tenant_id_tenants", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_stations_logs"),
    )
    op.create_index("ix_stations_logs_tenant_id_time", "stations_logs", ["tenant_id", "time"])
    op.create_index("ix_stations_logs_time", "stations_logs", ["time"])
    op.create_index("ix_stations_logs_station_id", "stations_logs", ["station_id"])
    op.create_index("ix_stations_logs_session_id", "stations_logs", ["session_id"])


def downgrade() -> None:
    op.drop_table("stations_logs")
    op.drop_table("stations_sessions")
    op.drop_table("stations_visitors")
    op.drop_table("stations_stations")
