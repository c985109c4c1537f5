"""TM20 terminals: terminals, people and their credentials, users per terminal, logs, queued commands.

Revision ID: tm20_0001
Revises: (none: the first revision of the ``tm20`` branch; depends on the core's 0002)
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "tm20_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("tm20",)
depends_on: str | Sequence[str] | None = "0002"

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tm20_terminals",
        sa.Column("sn", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(32), nullable=True),
        sa.Column("time_zone", sa.String(64), nullable=True),
        sa.Column("model", sa.String(128), nullable=True),
        sa.Column("firmware", sa.String(128), nullable=True),
        sa.Column("devinfo", sa.JSON(), nullable=False),
        sa.Column("first_seen", sa.Float(), nullable=False),
        sa.Column("last_registered", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name="fk_tm20_terminals_device_id_devices", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("sn", name="pk_tm20_terminals"),
    )
    op.create_index("ix_tm20_terminals_device_id", "tm20_terminals", ["device_id"])

    op.create_table(
        "tm20_people",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=False),
        sa.Column("enrollid", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("admin", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_tm20_people_tenant_id_tenants", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tm20_people"),
        sa.UniqueConstraint("tenant_id", "enrollid", name="uq_tm20_people_tenant_id_enrollid"),
    )
    op.create_index("ix_tm20_people_tenant_id", "tm20_people", ["tenant_id"])

    op.create_table(
        "tm20_credentials",
        sa.Column("person_id", sa.String(32), nullable=False),
        sa.Column("backupnum", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["tm20_people.id"], name="fk_tm20_credentials_person_id_tm20_people", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("person_id", "backupnum", name="pk_tm20_credentials"),
    )

    op.create_table(
        "tm20_terminal_users",
        sa.Column("sn", sa.String(64), nullable=False),
        sa.Column("enrollid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("admin", sa.Integer(), nullable=False),
        sa.Column("backupnums", sa.JSON(), nullable=False),
        sa.Column("seen_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("sn", "enrollid", name="pk_tm20_terminal_users"),
    )

    op.create_table(
        "tm20_logs",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("sn", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=True),
        sa.Column("enrollid", sa.BigInteger(), nullable=False),
        sa.Column("time", sa.String(32), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=True),
        sa.Column("mode", sa.Integer(), nullable=False),
        sa.Column("inout", sa.Integer(), nullable=False),
        sa.Column("event", sa.Integer(), nullable=False),
        sa.Column("verifymode", sa.Integer(), nullable=True),
        sa.Column("temp", sa.Float(), nullable=True),
        sa.Column("logindex", sa.BigInteger(), nullable=True),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tm20_logs"),
        sa.UniqueConstraint("sn", "enrollid", "time", "mode", "event", name="uq_tm20_logs_identity"),
    )
    op.create_index("ix_tm20_logs_tenant_id_timestamp", "tm20_logs", ["tenant_id", "timestamp"])
    op.create_index("ix_tm20_logs_sn_timestamp", "tm20_logs", ["sn", "timestamp"])

    op.create_table(
        "tm20_pending_commands",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("sn", sa.String(64), nullable=False),
        sa.Column("command", sa.String(32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tm20_pending_commands"),
    )
    op.create_index("ix_tm20_pending_commands_sn", "tm20_pending_commands", ["sn"])


def downgrade() -> None:
    op.drop_table("tm20_pending_commands")
    op.drop_table("tm20_logs")
    op.drop_table("tm20_terminal_users")
    op.drop_table("tm20_credentials")
    op.drop_table("tm20_people")
    op.drop_table("tm20_terminals")
