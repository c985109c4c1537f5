"""The initial schema: tenants, config entries, devices, entities, recorded states and events, device uptime.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 64-bit ids on PostgreSQL; SQLite's rowid alias must be spelled INTEGER to autoincrement.
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
        sa.UniqueConstraint("code", name="uq_tenants_code"),
    )
    op.create_table(
        "config_entries",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_config_entries_tenant_id_tenants", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_config_entries"),
    )
    op.create_index("ix_config_entries_domain", "config_entries", ["domain"])
    op.create_index("ix_config_entries_tenant_id", "config_entries", ["tenant_id"])

    op.create_table(
        "devices",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("manufacturer", sa.String(64), nullable=False),
        sa.Column("serial_number", sa.String(128), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("model", sa.String(128), nullable=True),
        sa.Column("sw_version", sa.String(128), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=True),
        sa.Column("config_entry_id", sa.String(32), nullable=True),
        sa.Column("claimed_at", sa.Float(), nullable=True),
        sa.Column("last_seen", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["config_entry_id"],
            ["config_entries.id"],
            name="fk_devices_config_entry_id_config_entries",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_devices_tenant_id_tenants", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_devices"),
        sa.UniqueConstraint("manufacturer", "serial_number", name="uq_devices_identity"),
    )
    op.create_index("ix_devices_tenant_id", "devices", ["tenant_id"])

    op.create_table(
        "entities",
        sa.Column("entity_id", sa.String(255), nullable=False),
        sa.Column("platform", sa.String(64), nullable=False),
        sa.Column("unique_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("device_id", sa.String(32), nullable=True),
        sa.Column("config_entry_id", sa.String(32), nullable=True),
        sa.Column("tenant_id", sa.String(32), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["config_entry_id"],
            ["config_entries.id"],
            name="fk_entities_config_entry_id_config_entries",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name="fk_entities_device_id_devices", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_entities_tenant_id_tenants", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("entity_id", name="pk_entities"),
        sa.UniqueConstraint("platform", "unique_id", name="uq_entities_platform_unique_id"),
    )
    op.create_index("ix_entities_device_id", "entities", ["device_id"])
    op.create_index("ix_entities_tenant_id", "entities", ["tenant_id"])

    op.create_table(
        "states",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("entity_id", sa.String(255), nullable=False),
        sa.Column("state", sa.String(255), nullable=False),
        sa.Column("attributes", sa.Text(), nullable=False),
        sa.Column("last_changed", sa.Float(), nullable=False),
        sa.Column("last_updated", sa.Float(), nullable=False),
        sa.Column("context_id", sa.String(32), nullable=True),
        sa.Column("tenant_id", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_states"),
    )
    op.create_index("ix_states_entity_id_last_updated", "states", ["entity_id", "last_updated"])
    op.create_index("ix_states_last_updated", "states", ["last_updated"])
    op.create_index("ix_states_tenant_id", "states", ["tenant_id"])

    op.create_table(
        "events",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("time_fired", sa.Float(), nullable=False),
        sa.Column("context_id", sa.String(32), nullable=True),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.Column("tenant_id", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_event_type_time_fired", "events", ["event_type", "time_fired"])
    op.create_index("ix_events_time_fired", "events", ["time_fired"])
    op.create_index("ix_events_tenant_id", "events", ["tenant_id"])

    op.create_table(
        "health_uptime",
        sa.Column("device_key", sa.String(255), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("observed_seconds", sa.Float(), nullable=False),
        sa.Column("online_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("device_key", "day", name="pk_health_uptime"),
    )


def downgrade() -> None:
    # Indexes go with their tables; children before parents for the foreign keys.
    for table in ("health_uptime", "events", "states", "entities", "devices", "config_entries", "tenants"):
        op.drop_table(table)
