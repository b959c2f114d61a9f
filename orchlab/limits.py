"""The limits orchlab enforces, in one place: beyond them input is refused in well under a second.

They bound time and memory for hostile or careless input, and they are generous for real
use (Salesforce's own limits, where it has one, are noted). This module imports nothing.
"""

from __future__ import annotations

__all__ = [
    "MAX_DEFINITION_BYTES",
    "MAX_DEFINITION_NODES",
    "MAX_NESTING",
    "MAX_ELEMENTS",
    "MAX_STEPS_PER_STAGE",
    "MAX_TEXT",
    "MAX_SHORT_TEXT",
    "MAX_DATA_ITEMS",
    "MAX_NAME",
]

MAX_DEFINITION_BYTES = 2_000_000  # a definition file; real ones are tens of kilobytes
MAX_DEFINITION_NODES = 200_000  # values in a parsed file, YAML aliases counted as expanded
MAX_NESTING = 64  # lists and mappings inside one another, in files and in run data
MAX_ELEMENTS = 2_000  # stages + decisions + ends (Salesforce: 2,000 elements per flow)
MAX_STEPS_PER_STAGE = 200
MAX_TEXT = 131_072  # one text value: record field, input, long text (Salesforce long text area)
MAX_SHORT_TEXT = 255  # a text screen field without its own max_length (Salesforce: 255)
MAX_DATA_ITEMS = 10_000  # entries in one list or mapping of run data
MAX_NAME = 255  # a username, queue, record id or other name
