"""Object detection: the detection events table.

Revision ID: detection_0001
Revises: (none: the first revision of the ``detection`` branch; depends on the core's 0002)
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "detection_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("detection",)
depends_on: str | Sequence[str] | None = "0002"


def upgrade() -> None:
    op.create_table(
        "detection_events",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=True),
        sa.Column("camera", sa.String(255), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("track_id", sa.String(64), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=True),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("top_confidence", sa.Float(), nullable=False),
        sa.Column("zones", sa.JSON(), nullable=False),
        sa.Column("box", sa.JSON(), nullable=False),
        sa.Column("updates", sa.Integer(), nullable=False),
        sa.Column("snapshot_key", sa.String(512), nullable=True),
        sa.Column("clean_key", sa.String(512), nullable=True),
        sa.Column("clip_key", sa.String(512), nullable=True),
        sa.Column("media_error", sa.String(512), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("acknowledged_at", sa.Float(), nullable=True),
        sa.Column("acknowledged_by", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_detection_events_tenant_id_tenants", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_detection_events"),
    )
    op.create_index("ix_detection_events_tenant_id_start", "detection_events", ["tenant_id", "start"])
    op.create_index("ix_detection_events_tenant_id_camera_start", "detection_events", ["tenant_id", "camera", "start"])
    op.create_index("ix_detection_events_label_start", "detection_events", ["label", "start"])


def downgrade() -> None:
    op.drop_table("detection_events")
