"""active actions index: an agency's open and in-progress actions in the list's order (due date, id)

Revision ID: 0024_active_actions_index
Revises: 0023_user_phone
Create Date: 2026-12-11 10:00:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_active_actions_index'
down_revision = '0023_user_phone'
branch_labels = None
depends_on = None

ACTIVE = "status IN ('open', 'in_progress')"


def upgrade():
    op.create_index('ix_action_item_active_agency_due', 'action_item', ['agency_id', 'due_on', 'id'], unique=False,
                    sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))


def downgrade():
    op.drop_index('ix_action_item_active_agency_due', table_name='action_item')
