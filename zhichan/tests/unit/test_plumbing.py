"""The kernel's plumbing that needs no database: vocabularies, answers, region scoping of a select,
the indexes and states of an aggregate's table."""

from datetime import UTC, date, datetime
from typing import Literal

import pytest
from fastapi import Response
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.dialects import sqlite
from sqlmodel import Field

from zhichan import metrics_catalogue, vocabulary
from zhichan.api.answers import answer, listing, shape
from zhichan.api.pagination import Page
from zhichan.api.problems import Invalid
from zhichan.api.scope import scoped
from zhichan.auth import User
from zhichan.db import Aggregate, region_indexes, state_of
from zhichan.vocabulary import Vocabulary

COLOURS = Vocabulary({"red": "红", "green": "绿"})


def test_a_vocabulary_is_its_codes_in_order_with_their_labels():
    assert COLOURS.codes == ("red", "green")
    assert dict(COLOURS) == {"red": "红", "green": "绿"}
    assert COLOURS["green"] == "绿" and "red" in COLOURS and "blue" not in COLOURS and len(COLOURS) == 2
    with pytest.raises(ValueError):
        Vocabulary({})


def test_a_vocabularys_literal_is_the_field_type_a_literal_written_out_gives():
    assert COLOURS.literal == Literal["red", "green"]
    adapter = TypeAdapter(COLOURS.literal)
    assert adapter.validate_python("green") == "green"
    with pytest.raises(ValidationError):
        adapter.validate_python("blue")
    assert adapter.json_schema() == TypeAdapter(Literal["red", "green"]).json_schema()


def test_the_catalogue_filters_by_the_shared_vocabularies_codes():
    assert metrics_catalogue.IP_TYPES == vocabulary.IP_TYPES.codes
    assert metrics_catalogue.CATALOGUE["financing.pledge_amount"].filters["kind"].values == (
        vocabulary.PLEDGE_KINDS.codes
    )
    assert metrics_catalogue.CATALOGUE["financing.transaction_count"].filters["type"].values == (
        vocabulary.TRANSACTION_TYPES.codes
    )


class Part(BaseModel):
    name: str


class ThingState(BaseModel):
    id: str
    version: int
    parts: list[Part]


class ThingPublic(ThingState):
    shown: str


class ThingList(Page[ThingPublic]):
    pass


def test_an_answer_is_the_public_model_of_the_state_with_its_etag_and_location():
    state = ThingState(id="T1", version=3, parts=[Part(name="a")])
    response = Response()
    public = answer(response, ThingPublic, state, location="/things/T1", shown="x")
    assert public == ThingPublic(id="T1", version=3, parts=[Part(name="a")], shown="x")
    assert public.parts[0] is state.parts[0], "nested models pass as they are"
    assert response.headers["ETag"] == '"T1.3"' and response.headers["Location"] == "/things/T1"
    read = Response()
    answer(read, ThingPublic, state, tag="thing-key", shown="x")
    assert "Location" not in read.headers and read.headers["ETag"] == '"thing-key.3"'


def test_a_listing_is_the_list_model_of_a_page_of_states():
    states = [ThingState(id=f"T{i}", version=1, parts=[]) for i in range(2)]
    page = listing(ThingList, ThingPublic, (states, "next"), lambda s: {"shown": s.id.lower()})
    assert [(t.id, t.shown) for t in page.items] == [("T0", "t0"), ("T1", "t1")] and page.next_cursor == "next"
    assert ThingList.model_json_schema()["title"] == "ThingList"
    assert shape(ThingPublic, states[0], shown="y").shown == "y"


class Record(Aggregate, table=True):
    __tablename__ = "plumbing_unit_record"
    __table_args__ = region_indexes("plumbing_unit_record", "filed_on")

    filed_on: date
    note: str = Field(max_length=20)


class RecordState(BaseModel):
    id: str
    region: str
    filed_on: date
    note: str
    version: int
    created_at: datetime
    updated_at: datetime


def test_an_aggregates_table_has_its_id_region_stamps_and_region_indexes():
    columns = Record.__table__.c
    assert {"id", "region", "version", "created_at", "updated_at"} <= set(columns.keys())
    assert [c.name for c in Record.__table__.primary_key] == ["id"]
    assert {(i.name, tuple(c.name for c in i.columns)) for i in Record.__table__.indexes} == {
        ("ix_plumbing_unit_record_region_id", ("region", "id")),
        ("ix_plumbing_unit_record_region_filed_on", ("region", "filed_on")),
    }


def test_a_new_aggregate_is_version_one_created_and_updated_at_once_and_touch_counts_a_change():
    record = Record.new(region="320311", filed_on=date(2025, 1, 1), note="n")
    assert len(record.id) == 26 and record.version == 1 and record.created_at == record.updated_at
    assert record.created_at.tzinfo is UTC
    assert Record.new(id="GIVEN", region="320311", filed_on=date(2025, 1, 1), note="n").id == "GIVEN"
    record.touch()
    assert record.version == 2 and record.updated_at >= record.created_at


def test_the_state_of_a_row_takes_its_fields_by_name_unless_given():
    record = Record.new(region="320311", filed_on=date(2025, 1, 1), note="n")
    state = state_of(RecordState, record, note="shaped")
    assert state.id == record.id and state.filed_on == date(2025, 1, 1) and state.note == "shaped"


def where(query) -> str:
    return str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))


XUZHOU, QUANSHAN, FUZHOU_GULOU = "320300", "320311", "350102"


def test_scoped_cuts_a_select_to_the_callers_regions_and_the_region_asked_for():
    query = select(Record.id)
    officer = User(sub="o", roles=["officer"], regions=[XUZHOU])
    mine = where(scoped(query, Record.region, officer))
    assert f"'{QUANSHAN}'" in mine and f"'{XUZHOU}'" in mine and FUZHOU_GULOU not in mine
    asked = where(scoped(query, Record.region, officer, QUANSHAN))
    assert f"'{QUANSHAN}'" in asked and f"'{XUZHOU}'" not in asked
    elsewhere = where(scoped(query, Record.region, officer, FUZHOU_GULOU))
    assert "WHERE 1!=1" in elsewhere, "a region outside yours answers nothing"
    admin = User(sub="a", roles=["admin"])
    assert "WHERE" not in where(scoped(query, Record.region, admin))
    assert f"'{FUZHOU_GULOU}'" in where(scoped(query, Record.region, None, FUZHOU_GULOU)), "public: any region"
    assert "WHERE" not in where(scoped(query, Record.region, None))


def test_scoped_refuses_a_region_that_does_not_exist():
    with pytest.raises(Invalid) as refused:
        scoped(select(Record.id), Record.region, None, "999999")
    assert refused.value.errors == [{"loc": ["region"], "msg": "unknown region code '999999'"}]
