"""coursework's parts (materials, assignments, online tests, parents' notices, records) joined into
one line of history

Revision ID: 0015
Revises: 0014_materials, 0014_assignments, 0014_online_tests, 0014_parents_notices, 0014_records
Create Date: 2026-11-30
"""
from __future__ import annotations

revision = '0015'
down_revision = ('0014_materials', '0014_assignments', '0014_online_tests', '0014_parents_notices', '0014_records')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
