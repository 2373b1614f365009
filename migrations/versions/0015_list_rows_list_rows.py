"""list rows: the action list and the heads' name search read their pages off covering indexes

Revision ID: 0015_list_rows
Revises: 0014_district_case_index
Create Date: 2026-11-24 19:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_list_rows'
down_revision = '0014_district_case_index'
branch_labels = None
depends_on = None

HEADS_SQLITE = sa.text('is_head IS 1')
HEADS_POSTGRESQL = sa.text('is_head IS true')


def upgrade():
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.create_index('ix_action_item_agency_status_due', ['agency_id', 'status', 'due_on'], unique=False)
        batch_op.drop_index('ix_action_item_agency_status')
    with op.batch_alter_table('household_member', schema=None) as batch_op:
        batch_op.drop_index('ix_member_head_name', sqlite_where=HEADS_SQLITE, postgresql_where=HEADS_POSTGRESQL)
        batch_op.create_index('ix_member_head_name', ['name', 'household_id', 'is_head'], unique=False,
                              sqlite_where=HEADS_SQLITE, postgresql_where=HEADS_POSTGRESQL)


def downgrade():
    with op.batch_alter_table('household_member', schema=None) as batch_op:
        batch_op.drop_index('ix_member_head_name', sqlite_where=HEADS_SQLITE, postgresql_where=HEADS_POSTGRESQL)
        batch_op.create_index('ix_member_head_name', ['name'], unique=False,
                              sqlite_where=HEADS_SQLITE, postgresql_where=HEADS_POSTGRESQL)
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.create_index('ix_action_item_agency_status', ['agency_id', 'status'], unique=False)
        batch_op.drop_index('ix_action_item_agency_status_due')
