"""Checking the values a person submits on a screen, field by field.

Used by the engine before anything is stored, and by the Work Guide to show
errors next to each field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchlab.definition.fields import blank, check, coerce
from orchlab.definition.model import FieldKind, Screen
from orchlab.errors import FormInvalid

__all__ = ["FormInvalid", "check_form", "clean_form"]  # FormInvalid: from orchlab.errors


def check_form(screen: Screen, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean values (typed, defaults filled) and per-field errors; errors empty means valid."""
    known = {f.name for f in screen.fields}
    errors = {
        name: f"screen {screen.name!r} has no such field; expected one of {sorted(known)}"
        for name in values
        if name not in known
    }
    clean: dict[str, Any] = {}
    for f in screen.fields:
        value = values.get(f.name, f.default)
        if blank(value):
            if f.required:
                must = "must be checked" if f.kind is FieldKind.CHECKBOX else "is required"
                errors[f.name] = f"{f.label or f.name} {must}"
            clean[f.name] = [] if f.kind is FieldKind.MULTI_SELECT else None
            if f.kind is FieldKind.CHECKBOX:
                clean[f.name] = False
            continue
        try:
            typed = coerce(f, value)
        except ValueError as exc:
            errors[f.name] = str(exc)
            continue
        problem = check(f, typed)
        if f.kind is FieldKind.CHECKBOX and f.required and typed is not True:
            problem = f"{f.label or f.name} must be checked"
        if problem:
            errors[f.name] = problem
        else:
            clean[f.name] = typed
    return clean, errors


def clean_form(screen: Screen, values: Mapping[str, Any]) -> dict[str, Any]:
    """Typed values for a valid submission; raises FormInvalid naming every bad field."""
    clean, errors = check_form(screen, values)
    if errors:
        raise FormInvalid(screen.name, errors)
    return clean
