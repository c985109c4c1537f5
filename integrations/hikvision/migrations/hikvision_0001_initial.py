"""Hikvision: access records (de-duplicated on the device's serialNo), known devices, push tokens.

Revision ID: hikvision_0001
Revises: (none: the first revision of the ``hikvision`` branch; depends on the core's 0002)
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "hikvision_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("hikvision",)
depends_on: str | Sequence[str] | None = "0002"

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "hikvision_access_events",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("serial", sa.String(64), nullable=False),
        sa.Column("event_key", sa.String(96), nullable=False),
        sa.Column("serial_no", sa.BigInteger(), nullable=True),
        sa.Column("tenant_id", sa.String(32), nullable=True),
        sa.Column("device_id", sa.String(32), nullable=True),
        sa.Column("major", sa.Integer(), nullable=False),
        sa.Column("minor", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("method", sa.String(32), nullable=True),
        sa.Column("employee_no", sa.String(64), nullable=True),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("card_no", sa.String(64), nullable=True),
        sa.Column("door", sa.Integer(), nullable=True),
        sa.Column("time", sa.String(40), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hikvision_access_events"),
        sa.UniqueConstraint("serial", "event_key", name="uq_hikvision_access_events_serial"),
    )
    op.create_index("ix_hikvision_access_events_serial_serial_no", "hikvision_access_events", ["serial", "serial_no"])
    op.create_index("ix_hikvision_access_events_serial_id", "hikvision_access_events", ["serial", "id"])
    op.create_index("ix_hikvision_access_events_tenant_id_id", "hikvision_access_events", ["tenant_id", "id"])

    op.create_table(
        "hikvision_devices",
        sa.Column("serial", sa.String(64), nullable=False),
        sa.Column("entry_id", sa.String(32), nullable=True),
        sa.Column("gateway", sa.String(64), nullable=True),
        sa.Column("dev_index", sa.String(64), nullable=True),
        sa.Column("ehome_id", sa.String(64), nullable=True),
        sa.Column("device_type", sa.String(64), nullable=True),
        sa.Column("model", sa.String(128), nullable=True),
        sa.Column("firmware", sa.String(128), nullable=True),
        sa.Column("mac_address", sa.String(32), nullable=True),
        sa.Column("channels", sa.Integer(), nullable=True),
        sa.Column("doors", sa.Integer(), nullable=True),
        sa.Column("info", sa.JSON(), nullable=False),
        sa.Column("first_seen", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["config_entries.id"],
            name="fk_hikvision_devices_entry_id_config_entries",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("serial", name="pk_hikvision_devices"),
    )
    op.create_index("ix_hikvision_devices_entry_id", "hikvision_devices", ["entry_id"])

    op.create_table(
        "hikvision_push_tokens",
        sa.Column("entry_id", sa.String(32), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["config_entries.id"],
            name="fk_hikvision_push_tokens_entry_id_config_entries",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", name="pk_hikvision_push_tokens"),
        sa.UniqueConstraint("token", name="uq_hikvision_push_tokens_token"),
    )


def downgrade() -> None:
    op.drop_table("hikvision_push_tokens")
    op.drop_table("hikvision_devices")
    op.drop_table("hikvision_access_events")
