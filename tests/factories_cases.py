"""Case-register factories shared by test modules: ask for ``make_household`` (conftest.py registers this module)."""
import io
import itertools
from datetime import date

import pytest

from conference.cases import services
from sqlalchemy import func, select

from conference.extensions import db
from conference.models import Household


@pytest.fixture
def make_household(app):
    """Register a household through the service (head member, stage 발굴, audit) and commit it.

    Relationships of the model are ``lazy="raise"``: reload with ``queries.load_case_file`` to read them.
    """
    numbers = itertools.count(1)

    def factory(name: str | None = None, *, by=None, birth_year: int = 1968, birth_date: date | None = None,
                sex: str = "", has_disability: bool = False, district: str = "중앙동", address: str = "중앙로 1",
                discovery_route: str = "이웃·주민 제보", discovered_on: date = date(2021, 2, 3),
                **values) -> Household:
        head = services.HeadOfHousehold(
            name=name or f"김가구{next(numbers)}", birth_year=birth_date.year if birth_date else birth_year,
            birth_date=birth_date, sex=sex, has_disability=has_disability)
        household = services.register_household(
            by=by, head=head, district=district, address=address, discovery_route=discovery_route,
            discovered_on=discovered_on, **values)
        db.session.commit()
        return household

    return factory


# --- the discovery-list import (test_import_web, test_import_help) ---

@pytest.fixture
def importer_client(client, auth, coordinator):
    """A client signed in as a coordinator, who may import discovery lists."""
    auth.login("coord1")
    return client


def upload(client, data: bytes, filename="list.csv"):
    """Post a discovery list to the import page."""
    return client.post("/cases/import", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def household_count() -> int:
    return db.session.execute(select(func.count(Household.id))).scalar_one()
