"""materials: học liệu, their review, lessons they belong to, downloads and team comments

Revision ID: 0014_materials
Revises: 0013
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0014_materials'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('materials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=True),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.Column('file_key', sa.String(length=100), nullable=True),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('mime', sa.String(length=120), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('review_comment', sa.Text(), nullable=False),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('published_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['classes.id'], name=op.f('fk_materials_class_id_classes'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_materials_owner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by'], ['users.id'], name=op.f('fk_materials_reviewed_by_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_materials_school_id_schools'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_materials_subject_id_subjects'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['subject_teams.id'], name=op.f('fk_materials_team_id_subject_teams'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_materials'))
    )
    op.create_index('ix_materials_school_status', 'materials', ['school_id', 'status'], unique=False)
    op.create_index(op.f('ix_materials_class_id'), 'materials', ['class_id'], unique=False)
    op.create_index(op.f('ix_materials_owner_id'), 'materials', ['owner_id'], unique=False)
    op.create_table('lesson_materials',
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['lesson_id'], ['lessons.id'], name=op.f('fk_lesson_materials_lesson_id_lessons'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'],
                            name=op.f('fk_lesson_materials_material_id_materials'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('lesson_id', 'material_id', name=op.f('pk_lesson_materials'))
    )
    op.create_index(op.f('ix_lesson_materials_material_id'), 'lesson_materials', ['material_id'], unique=False)
    op.create_table('material_downloads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'],
                            name=op.f('fk_material_downloads_material_id_materials'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_material_downloads_user_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_material_downloads'))
    )
    op.create_index(op.f('ix_material_downloads_material_id'), 'material_downloads', ['material_id'], unique=False)
    op.create_table('material_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_material_comments_author_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'],
                            name=op.f('fk_material_comments_material_id_materials'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_material_comments'))
    )
    op.create_index(op.f('ix_material_comments_material_id'), 'material_comments', ['material_id'], unique=False)


def downgrade() -> None:
    op.drop_table('material_comments')
    op.drop_table('material_downloads')
    op.drop_table('lesson_materials')
    op.drop_table('materials')
