"""household imports from spreadsheets: batches, row results, remembered column mappings

Revision ID: 0015_imports
Revises: 0013_job_health
Create Date: 2026-11-27 10:24:45.713065

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_imports'
down_revision = '0013_job_health'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('file_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=14), nullable=False),
    sa.Column('header', sa.JSON(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=True),
    sa.Column('options', sa.JSON(), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=True),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.Column('undone_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['undone_by_id'], ['user.id'], name=op.f('fk_import_batch_undone_by_id_user')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_import_batch_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batch'))
    )
    with op.batch_alter_table('import_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_batch_file_hash'), ['file_hash'], unique=False)
        batch_op.create_index('ix_import_batch_user_created', ['user_id', 'created_at'], unique=False)

    op.create_table('import_mapping',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_import_mapping_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_import_mapping'))
    )
    op.create_table('import_row',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('row_key', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('history', sa.Integer(), nullable=True),
    sa.Column('message', sa.String(length=1000), nullable=True),
    sa.Column('undone', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batch.id'], name=op.f('fk_import_row_batch_id_import_batch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_import_row_household_id_household'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_row'))
    )
    with op.batch_alter_table('import_row', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_row_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_row_household_id'), ['household_id'], unique=False)
        batch_op.create_index('ix_import_row_key_outcome', ['row_key', 'outcome'], unique=False)



def downgrade():
    with op.batch_alter_table('import_row', schema=None) as batch_op:
        batch_op.drop_index('ix_import_row_key_outcome')
        batch_op.drop_index(batch_op.f('ix_import_row_household_id'))
        batch_op.drop_index(batch_op.f('ix_import_row_batch_id'))

    op.drop_table('import_row')
    op.drop_table('import_mapping')
    with op.batch_alter_table('import_batch', schema=None) as batch_op:
        batch_op.drop_index('ix_import_batch_user_created')
        batch_op.drop_index(batch_op.f('ix_import_batch_file_hash'))

    op.drop_table('import_batch')
