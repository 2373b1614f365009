"""name search indexes: heads' names lowered from their 1st to 4th character on, and the longer names on their own

Revision ID: 0025_name_search_indexes
Revises: 0024_active_actions_index
Create Date: 2026-12-11 11:00:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025_name_search_indexes'
down_revision = '0024_active_actions_index'
branch_labels = None
depends_on = None

PLACES = 4
SQLITE_HEADS, POSTGRESQL_HEADS = "is_head IS 1", "is_head IS true"
LONG = f"length(name) > {PLACES}"


def _from(place):
    return sa.text("lower(name)" if place == 1 else f"substr(lower(name), {place})")


def upgrade():
    for place in range(1, PLACES + 1):
        op.create_index(f'ix_member_head_name_from_{place}', 'household_member', [_from(place), 'household_id'],
                        unique=False, sqlite_where=sa.text(SQLITE_HEADS), postgresql_where=sa.text(POSTGRESQL_HEADS))
    op.create_index('ix_member_head_long_name', 'household_member', [_from(1), 'household_id'], unique=False,
                    sqlite_where=sa.text(f"{SQLITE_HEADS} AND {LONG}"),
                    postgresql_where=sa.text(f"{POSTGRESQL_HEADS} AND {LONG}"))


def downgrade():
    op.drop_index('ix_member_head_long_name', table_name='household_member')
    for place in range(PLACES, 0, -1):
        op.drop_index(f'ix_member_head_name_from_{place}', table_name='household_member')
