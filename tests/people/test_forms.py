"""Form values checked field by field, as the Work Guide and the engine see them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from orchlab.definition.model import Field, Screen
from orchlab.people.forms import FormInvalid, check_form, clean_form

SCREEN = Screen(
    "everything",
    (
        Field("name", "text", "Name", required=True, min_length=2, max_length=5),
        Field("notes", "long_text"),
        Field("count", "number", min=1, max=10),
        Field("price", "currency", min=0),
        Field("ok", "checkbox"),
        Field("due", "date"),
        Field("at", "datetime"),
        Field("level", "picklist", choices=("Low", "High")),
        Field("tags", "multi_select", choices=("a", "b", "c")),
        Field("mail", "email"),
        Field("code", "text", regex=r"[A-Z]-\d{3}"),
    ),
)


def test_text_from_a_form_becomes_typed_values() -> None:
    clean = clean_form(
        SCREEN,
        {"name": "Ada", "count": "7", "price": "12.50", "ok": "yes", "due": "2026-03-02",
         "at": "2026-03-02T09:30", "level": "High", "tags": "a; c", "mail": "a@b.org",
         "code": "B-204"},
    )  # fmt: skip
    assert clean == {
        "name": "Ada", "notes": None, "count": 7, "price": Decimal("12.50"), "ok": True,
        "due": dt.date(2026, 3, 2), "at": dt.datetime(2026, 3, 2, 9, 30), "level": "High",
        "tags": ["a", "c"], "mail": "a@b.org", "code": "B-204",
    }  # fmt: skip


def test_every_bad_field_is_named_once() -> None:
    _, errors = check_form(
        SCREEN,
        {"name": "A", "count": 11, "price": "-1", "ok": "maybe", "due": "next week",
         "level": "Mid", "tags": ["z"], "mail": "nope", "code": "b-2", "extra": 1},
    )  # fmt: skip
    assert errors == {
        "extra": "screen 'everything' has no such field; expected one of ['at', 'code', 'count', "
        "'due', 'level', 'mail', 'name', 'notes', 'ok', 'price', 'tags']",
        "name": "must have at least 2 characters, got 1",
        "count": "must be at most 10, got 11",
        "price": "must be at least 0, got -1",
        "ok": "expected true or false, got 'maybe'",
        "due": "expected a date like 2026-01-31, got 'next week'",
        "level": "expected one of ['Low', 'High'], got 'Mid'",
        "tags": "['z'] not among the choices ['a', 'b', 'c']",
        "mail": "expected an email address, got 'nope'",
        "code": "must match the pattern '[A-Z]-\\\\d{3}', got 'b-2'",
    }


def test_required_fields_and_clean_form_raises() -> None:
    with pytest.raises(FormInvalid) as err:
        clean_form(SCREEN, {})
    assert err.value.errors == {"name": "Name is required"}
    assert "screen 'everything': field 'name': Name is required" in str(err.value)
