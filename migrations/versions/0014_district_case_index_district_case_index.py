"""district case index: the case list sorted by 행정동 reads an index in its order

Revision ID: 0014_district_case_index
Revises: 0013_data_version
Create Date: 2026-11-24 16:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014_district_case_index'
down_revision = '0013_data_version'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index('ix_household_district_case', ['district', 'case_year', 'case_seq'], unique=False)
        batch_op.drop_index('ix_household_district')


def downgrade():
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index('ix_household_district', ['district'], unique=False)
        batch_op.drop_index('ix_household_district_case')
