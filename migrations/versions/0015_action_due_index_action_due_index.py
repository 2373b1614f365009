"""action due index: an agency's action list picks its page from one covering index

Revision ID: 0015_action_due_index
Revises: 0014_district_case_index
Create Date: 2026-11-24 19:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015_action_due_index'
down_revision = '0014_district_case_index'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.create_index('ix_action_item_agency_status_due', ['agency_id', 'status', 'due_on'], unique=False)
        batch_op.drop_index('ix_action_item_agency_status')


def downgrade():
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.create_index('ix_action_item_agency_status', ['agency_id', 'status'], unique=False)
        batch_op.drop_index('ix_action_item_agency_status_due')
