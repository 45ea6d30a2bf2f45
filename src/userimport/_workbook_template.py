"""The Excel template: a workbook with drop-down lists, written by XlsxWriter.

:func:`userimport.template` decides what goes in (headers, example rows, the roles,
organizations and languages offered); this module only lays it out as Excel expects:

- the data sheet (named :data:`userimport._workbook.TEMPLATE_SHEETS`, which the
  reader looks for) with a frozen, styled header row;
- every column formatted as text (``@``), so Excel keeps what is typed: leading
  zeros, ``1-2`` (not a date), ``1E5`` (not a number), a long digit string;
- drop-down lists (data validation) for role, organization and language: roles in
  the rule itself, the longer lists on a hidden sheet the rules refer to. Only the
  role list refuses other values; an organization may also be given by its id or
  name, and a language with a region (``pt-BR``), so those lists warn instead.

Every text is written as a string (``write_string``): nothing the library writes
into a workbook can become a formula or a link.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any, Final

__all__ = ["write_template"]

# Excel's last row; a list's rule covers the whole column below the header.
_LAST_ROW: Final = 1_048_575
_WIDTHS: Final = {
    "first_name": 18,
    "last_name": 22,
    "email": 32,
    "organization": 32,
    "role": 14,
    "groups": 26,
    "language": 12,
}


def write_template(
    *,
    columns: Sequence[str],
    headers: Mapping[str, str],
    examples: Sequence[Mapping[str, str]],
    sheet_name: str,
    lists_name: str,
    choices: Mapping[str, tuple[Sequence[str], str]],
    titles: Mapping[str, str],
) -> bytes:
    """The template workbook's bytes.

    Args:
        columns: The canonical columns, in order.
        headers: Each column's header cell.
        examples: Rows to write below the header, by column.
        sheet_name: The data sheet's name.
        lists_name: The hidden sheet's name, which holds the longer lists.
        choices: For each column with a drop-down list: the values offered and
            whether other values are refused (``"stop"``) or only warned about
            (``"warning"``).
        titles: For each column with a drop-down list, the input message's title
            and text, separated by a line break.
    """
    # Imported here: XlsxWriter comes with the `xlsx` extra and is needed by
    # nothing else.
    import xlsxwriter

    buffer = io.BytesIO()
    options = {
        "in_memory": True,
        # Text stays text: never a formula, a link or a number.
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    with xlsxwriter.Workbook(buffer, options) as book:
        text = book.add_format({"num_format": "@"})
        header = book.add_format(
            {
                "num_format": "@",
                "bold": True,
                "font_color": "#FFFFFF",
                "bg_color": "#1F4E78",
                "border": 1,
                "valign": "vcenter",
            }
        )
        sheet = book.add_worksheet(sheet_name)
        lists = book.add_worksheet(lists_name)
        for index, column in enumerate(columns):
            sheet.set_column(index, index, _WIDTHS.get(column, 16), text)
            sheet.write_string(0, index, headers[column], header)
        sheet.set_row(0, 22)
        sheet.freeze_panes(1, 0)
        for number, example in enumerate(examples, start=1):
            for index, column in enumerate(columns):
                sheet.write_string(number, index, example.get(column, ""), text)
        list_column = 0
        for column, (values, error_type) in choices.items():
            index = columns.index(column)
            title, _, prompt = titles.get(column, "").partition("\n")
            rule: dict[str, Any] = {
                "validate": "list",
                "ignore_blank": True,
                "error_type": error_type,
                "input_title": title[:32],
                "input_message": prompt[:255],
            }
            # A list in the rule itself is a quoted, comma-separated formula of at
            # most 255 characters: values with a comma or a quote go on the sheet.
            inline = ",".join(values)
            if len(inline) <= 255 and not any(
                "," in value or '"' in value for value in values
            ):
                rule["source"] = list(values)
            else:
                for row, value in enumerate(values):
                    lists.write_string(row, list_column, value, text)
                letter = _letters(list_column)
                rule["source"] = (
                    f"='{lists_name}'!${letter}$1:${letter}${max(len(values), 1)}"
                )
                list_column += 1
            sheet.data_validation(1, index, _LAST_ROW, index, rule)
        lists.hide()
        sheet.activate()
    return buffer.getvalue()


def _letters(index: int) -> str:
    """A column's letters: 0 is A, 25 Z, 26 AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters
