"""audit: append-only audit_entry table (PostgreSQL refuses UPDATE/DELETE by trigger)

Revision ID: 0021_audit
Revises: 0014_pipeline
Create Date: 2026-11-27 11:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0021_audit'
down_revision = '0014_pipeline'
branch_labels = None
depends_on = None

# Rows may only be added. A DELETE passes only while the transaction has set
# lotsen.audit_purge = 'on' (SET LOCAL, see lotsen.audit.services.purge_entries), and an
# UPDATE that only empties `changes` only while lotsen.audit_forget = 'on' (an anonymised
# household's old values, see forget_household_values): the two narrow doors for the
# disposal rules. Any other UPDATE, and TRUNCATE, never pass.
APPEND_ONLY = """
CREATE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('lotsen.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND current_setting('lotsen.audit_forget', true) = 'on'
            AND NEW.changes IS NULL AND NEW.id = OLD.id AND NEW.at = OLD.at
            AND NEW.user_id IS NOT DISTINCT FROM OLD.user_id AND NEW.action = OLD.action
            AND NEW.household_id IS NOT DISTINCT FROM OLD.household_id
            AND NEW.target IS NOT DISTINCT FROM OLD.target
            AND NEW.ip IS NOT DISTINCT FROM OLD.ip THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_entry is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql
"""


def upgrade():
    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('target', sa.String(length=120), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_audit_entry_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entry_action_at', ['action', 'at'], unique=False)
        batch_op.create_index('ix_audit_entry_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_entry_household_at', ['household_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_entry_user_at', ['user_id', 'at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(APPEND_ONLY)
        op.execute(
            'CREATE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_entry '
            'FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()'
        )
        op.execute(
            'CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry '
            'FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()'
        )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER audit_entry_no_truncate ON audit_entry')
        op.execute('DROP TRIGGER audit_entry_no_change ON audit_entry')
        op.execute('DROP FUNCTION audit_entry_append_only()')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entry_user_at')
        batch_op.drop_index('ix_audit_entry_household_at')
        batch_op.drop_index('ix_audit_entry_at')
        batch_op.drop_index('ix_audit_entry_action_at')
    op.drop_table('audit_entry')
