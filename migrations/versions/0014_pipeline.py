"""pipeline: export log, index on the first entry of each stage history

Revision ID: 0014_pipeline
Revises: 0016_matching
Create Date: 2026-11-27 10:55:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0014_pipeline'
down_revision = '0016_matching'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('format', sa.String(length=5), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_export_log_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_log'))
    )
    with op.batch_alter_table('export_log', schema=None) as batch_op:
        batch_op.create_index('ix_export_log_user_at', ['user_id', 'at'], unique=False)
    with op.batch_alter_table('stage_change', schema=None) as batch_op:
        batch_op.create_index('ix_stage_change_from_stage_at', ['from_stage', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('stage_change', schema=None) as batch_op:
        batch_op.drop_index('ix_stage_change_from_stage_at')
    with op.batch_alter_table('export_log', schema=None) as batch_op:
        batch_op.drop_index('ix_export_log_user_at')
    op.drop_table('export_log')
