"""Eager loading with statements built once (conference/core/loading.py): the same objects, in the same order, as
SQLAlchemy's ``selectinload`` gives, in one statement per relationship whatever the number of parents."""
import pytest
from factories import counting_queries
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from conference.cases import services as case_services
from conference.core import loading
from conference.core.loading import fill
from conference.extensions import db
from conference.models import Assessment, Consent, Household, Member, StatusChange


def households(ids):
    return db.session.execute(select(Household).where(Household.id.in_(ids)).order_by(Household.id)).scalars().all()


def shape(household) -> tuple:
    """What the case file reads of a household, in the order it reads it."""
    return (household.coordinator.username if household.coordinator else None,
            household.referring_agency.name if household.referring_agency else None,
            [(m.id, m.name, m.is_head) for m in household.members],
            [(c.id, [a.name for a in c.agencies]) for c in household.consents],
            [(a.id, [(r.domain, r.rating) for r in a.ratings]) for a in household.assessments])


@pytest.fixture
def agencies(make_agency):
    return [make_agency("천사운동본부"), make_agency("가나다복지관"), make_agency("동두천경찰서")]


@pytest.fixture
def three_cases(make_case, agencies):
    return [make_case(consent=agencies[:2], adults=2, children=1).id,
            make_case(consent=None, assessment=False).id,
            make_case(consent=agencies[2:], adults=3).id]


def test_fill_gives_what_selectinload_gives(three_cases, agencies, coordinator):
    # a second consent on the first case, so that the order within a collection counts
    first = db.session.get(Household, three_cases[0])
    case_services.record_consent(first, by=coordinator, consented_on=first.discovered_on,
                                 agency_ids=[agencies[2].id], covers_sensitive=True)
    db.session.commit()
    db.session.expunge_all()
    expected = [shape(h) for h in db.session.execute(
        select(Household).where(Household.id.in_(three_cases)).order_by(Household.id).options(
            joinedload(Household.coordinator), joinedload(Household.referring_agency),
            selectinload(Household.members), selectinload(Household.consents).selectinload(Consent.agencies),
            selectinload(Household.assessments).selectinload(Assessment.ratings))).unique().scalars()]
    db.session.expunge_all()

    loaded = households(three_cases)
    with counting_queries() as statements:
        fill(loaded, Household.coordinator)
        fill(loaded, Household.referring_agency)
        fill(loaded, Household.members)
        fill(fill(loaded, Household.consents), Consent.agencies)
        fill(fill(loaded, Household.assessments), Assessment.ratings)
    assert [shape(h) for h in loaded] == expected
    assert len(expected[0][3]) == 2 and expected[1][3] == [] and expected[1][4] == []
    # one statement per relationship, even one that finds nothing (no case here has a referring agency): the
    # number of statements of a page does not depend on its data
    assert expected[0][1] is None and len(statements) == len(set(statements)) == 7, statements


def test_a_one_to_many_fill_sets_each_childs_parent_and_a_loaded_attribute_is_kept(three_cases):
    loaded = households(three_cases)
    members = fill(loaded, Household.members)
    assert {m.household.id for m in members} == set(three_cases)  # without SQL (the attribute is lazy="raise")
    extra = Member(household_id=loaded[0].id, name="새가구원", relation="자녀", birth_year=2016, is_head=False)
    loaded[0].members.append(extra)  # a change not yet saved
    with counting_queries() as statements:
        again = fill(loaded, Household.members)
    assert statements == [] and extra in again and extra in loaded[0].members


def test_parents_are_read_in_chunks(three_cases, monkeypatch):
    monkeypatch.setattr(loading, "CHUNK", 2)
    loaded = households(three_cases)
    with counting_queries() as statements:
        members = fill(loaded, Household.members)
    assert len(statements) == 2 and len(members) == sum(len(h.members) for h in loaded) == 4 + 2 + 4


def test_only_plain_foreign_key_relationships_can_be_filled(three_cases):
    with pytest.raises(ValueError, match="one foreign-key column"):
        fill(households(three_cases), Household.head)  # joined on is_head as well


def test_a_many_to_one_of_the_loaded_objects_comes_in_the_same_statement(three_cases):
    loaded = households(three_cases)
    with counting_queries() as statements:
        changes = fill(loaded, Household.status_changes, StatusChange.changed_by)
    assert len(statements) == 1 and changes
    with counting_queries() as statements:
        assert {c.changed_by.username for c in changes} == {"coord1"}
    assert statements == []
    # a collection loaded earlier without it gets it with a statement of its own
    db.session.expunge_all()
    loaded = households(three_cases)
    changes = fill(loaded, Household.status_changes)
    with counting_queries() as statements:
        fill(loaded, Household.status_changes, StatusChange.changed_by)
        assert {c.changed_by.username for c in changes} == {"coord1"}
    assert len(statements) == 1
