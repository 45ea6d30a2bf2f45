"""The exported cattrs converter: previews (and every value class) to JSON and back.

A server can keep the :class:`~userimport.Preview` between the review and Done as
JSON::

    text = userimport.converter.dumps(preview)
    preview = userimport.converter.loads(text, userimport.Preview)

``commit`` binds a preview to its actor and options and recomputes every row, but a
client that edits the JSON consistently could still add or change rows: a preview
kept by a client travels sealed (:func:`userimport.seal`), never as plain JSON.
"""

from __future__ import annotations

from typing import Any

from cattrs.preconf.json import JsonConverter, make_converter

from userimport.persistence import FieldValue

__all__ = ["converter"]


def _structure_field_value(value: Any, _: object) -> FieldValue:
    # A stored field is text, a tuple of group names (a JSON list), or None.
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise TypeError(f"not a user field value: {value!r}")


def _make() -> JsonConverter:
    conv = make_converter()
    conv.register_structure_hook_func(
        lambda type_: type_ == FieldValue, _structure_field_value
    )
    return conv


#: The JSON converter for userimport's value classes (``dumps``/``loads``,
#: ``unstructure``/``structure``).
converter: JsonConverter = _make()
