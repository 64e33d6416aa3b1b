"""listings, job openings and household matches

Revision ID: 0016_matching
Revises: 0010_timeframe_code
Create Date: 2026-11-27 10:25:41.302177

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_matching'
down_revision = '0010_timeframe_code'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_opening',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_code', sa.String(length=4), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('employer', sa.String(length=200), nullable=True),
    sa.Column('occupation', sa.String(length=200), nullable=True),
    sa.Column('ssyk_code', sa.String(length=4), nullable=True),
    sa.Column('extent', sa.Enum('full_time', 'part_time', name='extent', native_enum=False, length=20), nullable=True),
    sa.Column('employment_type', sa.String(length=100), nullable=True),
    sa.Column('last_application_date', sa.Date(), nullable=True),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('source', sa.Enum('manual', 'import', 'jobtech', name='jobsource', native_enum=False, length=20), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('status', sa.Enum('open', 'archived', name='jobstatus', native_enum=False, length=20), nullable=False),
    sa.Column('search_text', sa.String(length=500), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_job_opening_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_code'], ['municipality.code'], name=op.f('fk_job_opening_municipality_code_municipality')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_opening')),
    sa.UniqueConstraint('source', 'external_id', name=op.f('uq_job_opening_source'))
    )
    with op.batch_alter_table('job_opening', schema=None) as batch_op:
        batch_op.create_index('ix_job_opening_match', ['status', 'municipality_code', 'last_application_date', 'ssyk_code', 'search_text'], unique=False)

    op.create_table('listing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_code', sa.String(length=4), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('area', sa.String(length=120), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('tenure', sa.Enum('rent', 'buy', 'sublet', name='listingtenure', native_enum=False, length=20), nullable=False),
    sa.Column('type', sa.Enum('apartment', 'house', 'farm', 'room', name='listingtype', native_enum=False, length=20), nullable=False),
    sa.Column('rooms', sa.SmallInteger(), nullable=True),
    sa.Column('living_area', sa.Integer(), nullable=True),
    sa.Column('rent', sa.Integer(), nullable=True),
    sa.Column('price', sa.Integer(), nullable=True),
    sa.Column('available_from', sa.Date(), nullable=True),
    sa.Column('contact', sa.String(length=200), nullable=True),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('status', sa.Enum('available', 'reserved', 'taken', 'archived', name='listingstatus', native_enum=False, length=20), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_listing_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_code'], ['municipality.code'], name=op.f('fk_listing_municipality_code_municipality')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing')),
    sa.UniqueConstraint('external_id', name=op.f('uq_listing_external_id'))
    )
    with op.batch_alter_table('listing', schema=None) as batch_op:
        batch_op.create_index('ix_listing_status_municipality', ['status', 'municipality_code'], unique=False)

    op.create_table('household_match',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=True),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('suggested', 'sent', 'interested', 'declined', 'accepted', name='matchstatus', native_enum=False, length=20), nullable=False),
    sa.Column('score', sa.SmallInteger(), nullable=False),
    sa.Column('decline_reason', sa.String(length=300), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('responded_at', sa.DateTime(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('(listing_id IS NULL) <> (job_id IS NULL)', name=op.f('ck_household_match_one_target')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_household_match_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_household_match_household_id_household'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['job_opening.id'], name=op.f('fk_household_match_job_id_job_opening'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['listing_id'], ['listing.id'], name=op.f('fk_household_match_listing_id_listing'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_household_match_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_match')),
    sa.UniqueConstraint('household_id', 'job_id', 'person_id', name='uq_household_match_job'),
    sa.UniqueConstraint('household_id', 'listing_id', name='uq_household_match_listing')
    )
    with op.batch_alter_table('household_match', schema=None) as batch_op:
        batch_op.create_index('ix_household_match_job_id', ['job_id'], unique=False)
        batch_op.create_index('ix_household_match_listing_id', ['listing_id'], unique=False)



def downgrade():
    with op.batch_alter_table('household_match', schema=None) as batch_op:
        batch_op.drop_index('ix_household_match_listing_id')
        batch_op.drop_index('ix_household_match_job_id')

    op.drop_table('household_match')
    with op.batch_alter_table('listing', schema=None) as batch_op:
        batch_op.drop_index('ix_listing_status_municipality')

    op.drop_table('listing')
    with op.batch_alter_table('job_opening', schema=None) as batch_op:
        batch_op.drop_index('ix_job_opening_match')

    op.drop_table('job_opening')
