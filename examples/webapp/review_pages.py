"""Step 2 of Import: the column step, the review with Check again and the error
report, and Done."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import attrs
from flask import (
    current_app,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue

# Flask-Babel and Flask-WTF ship no type information (no py.typed): their names
# are Any here.
from flask_babel import (  # type: ignore[import-untyped]
    gettext,
    lazy_gettext,
    ngettext,
)

from import_pages import (
    ALTERED_UPLOAD,
    is_left_out,
    keep_upload,
    keeps_upload,
    kept_upload,
    missing_optional,
    needs_columns,
    review_options,
    review_page,
    server_options,
)
from plumbing import (
    COLUMN_CODES,
    COLUMN_TITLES,
    LANGUAGES,
    MAX_SAMPLE_READINGS,
    ON_EXISTING_CHOICES,
    SAMPLES_PER_COLUMN,
    Refused,
    choose_language,
    page_language,
    refused_page,
    request_tree,
    row_numbers,
    seal_keys,
    signed_in,
    state,
)
from userimport import (
    CommitBlocked,
    CommitConflict,
    ImportOptions,
    ImportResult,
    OnExisting,
    Preview,
    PreviewMismatch,
    ReviewRow,
    SealError,
    Summary,
    commit,
    error_report,
    prepare,
    revise,
    seal,
    unseal,
)
from userimport.reading import read_upload
from userimport.schema import COLUMNS, REQUIRED_COLUMNS

# -- step 2: the column step ------------------------------------------------------


def _headers(preview: Preview) -> list[str]:
    """The header cells of the file as written, each once, in file order."""
    return list(dict.fromkeys(match.header for match in preview.columns))


def _samples(data: bytes, headers: Sequence[str]) -> dict[str, list[str]]:
    """A few values of each header cell, as the library reads them.

    The library gives a record's values by canonical column only, so the header
    cells are read in turn as the canonical columns (``ImportOptions.columns``),
    up to seven per reading, the first three as the required columns (a reading
    without them has no records), at most ``MAX_SAMPLE_READINGS`` readings. A cell
    written twice in the header gets no samples (it cannot be told apart).
    """
    once = [h for h in headers if sum(1 for other in headers if other == h) == 1]
    found: dict[str, list[str]] = {}
    if len(once) < len(REQUIRED_COLUMNS):
        return found
    options = state().options
    for start in range(0, len(once), len(COLUMNS))[:MAX_SAMPLE_READINGS]:
        batch = once[start : start + len(COLUMNS)]
        # A short last batch borrows cells already read for the required columns.
        batch += [h for h in once if h not in batch][
            : max(0, len(REQUIRED_COLUMNS) - len(batch))
        ]
        mapping: dict[str, str | None] = dict.fromkeys(headers)
        mapping.update(zip(batch, COLUMNS, strict=False))
        upload = read_upload(
            data,
            max_bytes=options.max_bytes,
            max_rows=None,
            encoding=options.encoding,
            delimiter=options.delimiter,
            columns=mapping,
        )
        for header, column in zip(batch, COLUMNS, strict=False):
            values = (
                record.values.get(column, "").strip() for record in upload.records
            )
            found.setdefault(
                header, [value for value in values if value][:SAMPLES_PER_COLUMN]
            )
    return found


def _columns_page(
    data: bytes,
    preview: Preview,
    upload: str,
    chosen: Mapping[str, str | None] | None = None,
) -> str:
    """The column step: each header cell as written, the column it holds (a
    select, "ignore" included) and a few of its values."""
    headers = _headers(preview)
    current = (
        chosen
        if chosen is not None
        else {match.header: match.column for match in preview.columns}
    )
    samples = _samples(data, headers)
    return render_template(
        "columns.html",
        headers=[
            (header, current.get(header), samples.get(header, [])) for header in headers
        ],
        issues=[i for i in preview.file_issues if i.code in COLUMN_CODES],
        missing=missing_optional(preview, signed_in().actor),
        required=[COLUMN_TITLES[column] for column in REQUIRED_COLUMNS],
        titles=COLUMN_TITLES,
        upload_token=upload,
        language_form="columns-form",
        language_action=url_for("columns"),
        language_default=gettext("Continue"),
    )


def _posted_columns(headers: Sequence[str]) -> dict[str, str | None]:
    """The column step's choices: each header cell to a canonical column, or to
    ``None`` to ignore it.

    Raises:
        Refused: A choice is missing or names no column (the form was not this
            application's).
    """
    chosen: dict[str, str | None] = {}
    for index, header in enumerate(headers):
        column = request.form.get(f"column-{index}")
        if column is None or (column and column not in COLUMNS):
            raise Refused(
                gettext(
                    "This form does not match the file it was made for; nothing "
                    "was done."
                )
            )
        chosen[header] = column or None
    return chosen


def columns_view() -> ResponseReturnValue:
    """The column step sent: read the kept upload again with the administrator's
    matching (``ImportOptions.columns``) and review it, or show the step again
    while a required column is still missing or given twice. Its language switch
    shows the step again in the other language."""
    token = request.form.get("upload", "")
    data, on_existing = kept_upload(token)
    switching = request.form.get("language", "") in LANGUAGES
    if switching:
        choose_language(request.form["language"])
    options = server_options(on_existing, locale=page_language())
    headers = _headers(_prepare(data, options))
    chosen = _posted_columns(headers)
    preview = _prepare(data, attrs.evolve(options, columns=chosen))
    if switching or needs_columns(preview):
        return _columns_page(data, preview, token, chosen)
    return review_page(preview, seal(preview, seal_keys()), upload=token)


def _prepare(data: bytes, options: ImportOptions) -> Preview:
    return prepare(
        data,
        actor=signed_in().actor,
        orgs=request_tree(),
        store=state().store,
        options=options,
    )


def review_view() -> ResponseReturnValue:
    """Step 2: ``prepare`` the upload and show what would happen to every row, or
    first the column step when the header needs it."""
    choice = request.form.get("on_existing", OnExisting.SKIP.value)
    on_existing = next(
        (o for o in ON_EXISTING_CHOICES if o.value == choice), OnExisting.SKIP
    )
    upload = request.files.get("file")
    # No file is an empty upload: the library says so (``empty_file``). One byte
    # past the limit is enough for the library to say the file is too large.
    limit = state().options.max_bytes
    data = upload.stream.read(limit + 1) if upload is not None else b""
    preview = _prepare(data, server_options(on_existing, locale=page_language()))
    kept = keep_upload(data, on_existing) if keeps_upload(preview) else None
    if kept is not None and needs_columns(preview):
        return _columns_page(data, preview, kept)
    # The page keeps the review only sealed: what comes back at Done is exactly
    # this preview (the policy chosen above included), or it is refused.
    return review_page(preview, seal(preview, seal_keys()), upload=kept)


_ALTERED: Final = lazy_gettext(
    "This review was altered, has expired, or was made for another "
    "administrator, so nothing was imported."
)


def _sealed_review() -> tuple[str, Preview, ImportOptions]:
    """The sealed review the page sent back, for the administrator signed in, and
    the server's options for it (:func:`review_options`).

    Raises:
        Refused: The token was altered, has expired or is not a token at all
            (400); the review was made for another administrator, or is not one
            this application makes (409).
    """
    token = request.form.get("review", "")
    try:
        preview = unseal(
            token, seal_keys(), max_age=current_app.config["REVIEW_MAX_AGE"]
        )
        if preview.actor != signed_in().actor:
            raise PreviewMismatch(
                gettext(
                    "This review was made for another administrator; upload the "
                    "file again."
                )
            )
        options = review_options(preview)
    except SealError as error:
        raise Refused(str(_ALTERED), cause=error) from error
    except PreviewMismatch as error:
        raise Refused(str(_ALTERED), status=409, cause=error) from error
    return token, preview, options


#: An edited cell's field: ``e.<row>.<column>``.
_EDIT_FIELD: Final = re.compile(r"e\.([0-9]{1,9})\.([a-z_]{1,32})")


def _posted_changes(preview: Preview) -> tuple[dict[int, dict[str, str]], set[int]]:
    """The review form's edits (the cells whose value differs from the review's)
    and the rows it leaves out.

    Row numbers and columns are the form's, untrusted: ``revise`` refuses any that
    the review does not have, and validates every value like an uploaded one.

    Raises:
        Refused: A field is not one this application's form has.
    """
    rows = {row.row: row for row in preview.rows}
    edits: dict[int, dict[str, str]] = {}
    for name, value in request.form.items(multi=True):
        if not name.startswith("e."):
            continue
        found = _EDIT_FIELD.fullmatch(name)
        if found is None:
            raise Refused(_FORGED_CHANGE)
        number, column = int(found[1]), found[2]
        row = rows.get(number)
        if row is not None and row.values.get(column, "") == value:
            continue
        edits.setdefault(number, {})[column] = value
    dropped = request.form.getlist("drop")
    if not all(number.isdigit() and len(number) < 10 for number in dropped):
        raise Refused(_FORGED_CHANGE)
    return edits, {int(number) for number in dropped}


_FORGED_CHANGE: Final = lazy_gettext(
    "Nothing was changed: the form names a row or a column that this review "
    "does not have."
)


def _outcome(row: ReviewRow) -> tuple[object, ...]:
    """What a row's review says, whatever the language it says it in."""
    return (
        row.action,
        row.values,
        row.user,
        row.changes,
        tuple((i.code, i.column, i.severity) for i in row.issues),
    )


def _revised(
    preview: Preview,
    options: ImportOptions,
    edits: Mapping[int, Mapping[str, str]],
    dropped: Iterable[int],
    message: str | None = None,
) -> str:
    """The review again after the administrator's edits and rows left out
    (``revise``), saying which rows changed.

    When the page's language is no longer the review's and the page keeps the
    upload, the file is reviewed again in the page's language and every cell the
    administrator changed so far is applied to it again.

    Raises:
        Refused: An edit or a row left out names a row or a column the review does
            not have, or a value no file can hold; the kept upload is not this
            review's.
    """
    kept = request.form.get("upload") or None
    base, base_options = preview, options
    changes = {number: dict(cells) for number, cells in edits.items()}
    if kept is not None and page_language() != preview.locale:
        data, _ = kept_upload(kept)
        if hashlib.sha256(data).hexdigest() != preview.upload_sha256:
            raise Refused(str(ALTERED_UPLOAD))
        base_options = attrs.evolve(options, locale=page_language())
        base = _prepare(data, base_options)
        changes = _edits_between(base, preview)
        for number, cells in edits.items():
            changes.setdefault(number, {}).update(cells)
    try:
        revised = revise(
            base,
            edits=changes,
            drop=dropped,
            actor=signed_in().actor,
            orgs=request_tree(),
            store=state().store,
            options=base_options,
        )
    except (ValueError, TypeError) as error:
        raise Refused(str(_FORGED_CHANGE), cause=error) from error
    changed = {
        after.row
        for before, after in zip(preview.rows, revised.rows, strict=True)
        if after.row is not None and _outcome(before) != _outcome(after)
    }
    return review_page(
        revised,
        seal(revised, seal_keys()),
        message,
        upload=kept,
        checked=_checked_text(changed, revised),
        changed=changed,
    )


def _edits_between(upload: Preview, reviewed: Preview) -> dict[int, dict[str, str]]:
    """The cells whose value in ``reviewed`` differs from ``upload``'s: the edits
    that turn a fresh review of the file into ``reviewed``."""
    fresh = {row.row: row.values for row in upload.rows}
    edits: dict[int, dict[str, str]] = {}
    for row in reviewed.rows:
        values = fresh.get(row.row, {})
        cells = {
            column: row.values.get(column, "")
            for column in COLUMNS
            if row.values.get(column, "") != values.get(column, "")
        }
        if cells and row.row is not None:
            edits[row.row] = cells
    return edits


def _checked_text(changed: set[int], preview: Preview) -> str:
    """What Check again did: the rows whose review changed, the errors left."""
    if changed:
        said = ngettext(
            "Checked again: row %(rows)s changed.",
            "Checked again: rows %(rows)s changed.",
            len(changed),
            rows=row_numbers(changed),
        )
    else:
        said = gettext("Checked again: nothing changed.")
    invalid = preview.summary.invalid
    left = (
        ngettext(
            "%(num)d row still has errors.", "%(num)d rows still have errors.", invalid
        )
        if invalid
        else gettext("No row has errors now.")
    )
    return f"{said} {left}"


def check_view() -> ResponseReturnValue:
    """Check again: the sealed review with the administrator's edits and rows left
    out, reviewed again by ``revise`` with the server's options for it. The
    review's language switch comes here too, and checks the edits as well."""
    _, preview, options = _sealed_review()
    language = request.form.get("language", "")
    if language in LANGUAGES:
        choose_language(language)
    edits, dropped = _posted_changes(preview)
    return _revised(preview, options, edits, dropped)


def report_view() -> ResponseReturnValue:
    """The error report of a sealed review (step 2's, or the rows Done left out)."""
    _, preview, _ = _sealed_review()
    return send_file(
        io.BytesIO(error_report(preview)),
        mimetype="text/csv",
        as_attachment=True,
        download_name="users-errors.csv",
    )


def commit_view() -> ResponseReturnValue:
    """Done: ``commit`` the sealed review with the server's options; the library
    writes exactly what was reviewed, or nothing and says why.

    A review form sent with changes that were not checked yet (an edited cell, a
    row left out or taken back) is checked again instead, and nothing is imported:
    Done imports only what the administrator has seen reviewed.
    """
    token, preview, options = _sealed_review()
    if request.form.get("changes"):
        edits, dropped = _posted_changes(preview)
        if edits or dropped != {row.row for row in preview.rows if is_left_out(row)}:
            return _revised(
                preview,
                options,
                edits,
                dropped,
                gettext(
                    "Your changes were checked again and nothing was imported yet: "
                    "press Done when the review is as you want it."
                ),
            ), 409
    try:
        result = commit(
            preview,
            actor=signed_in().actor,
            orgs=request_tree(),
            store=state().store,
            skip_invalid=request.form.get("skip_invalid") == "1",
            options=options,
        )
    except PreviewMismatch as error:
        return refused_page(error, summary=str(_ALTERED)), 409
    except CommitConflict as conflict:
        return _conflict_page(preview, conflict), 409
    except CommitBlocked as error:
        # The review as sealed: its rows show why (invalid rows, a file error).
        said = gettext("Nothing was imported. %(reason)s", reason=str(error))
        return review_page(
            preview, token, said, upload=request.form.get("upload") or None
        ), 409
    return _done_page(preview, result)


def _conflict_page(preview: Preview, conflict: CommitConflict) -> str:
    """Why Done was refused: each row that would not be written as reviewed, with
    its email as uploaded and what changed since the review."""
    emails = {row.row: row.values.get("email", "") for row in preview.rows}
    reasons = [
        (number, emails.get(number, ""), reason)
        for number, reason in sorted(conflict.reasons.items())
    ]
    numbers = [number for number, _, _ in reasons] or list(conflict.rows)
    if numbers:
        summary = ngettext(
            "Since your review, row %(rows)s would not be imported as you reviewed "
            "it, so nothing was imported.",
            "Since your review, rows %(rows)s would not be imported as you reviewed "
            "them, so nothing was imported.",
            len(numbers),
            rows=row_numbers(numbers),
        )
    else:
        summary = gettext(
            "The users changed since your review, so nothing was imported."
        )
    # The library's message repeats the reasons; it is shown only without them.
    return refused_page(
        None if reasons else conflict, summary=str(summary), reasons=reasons
    )


def _left_out_review(preview: Preview, rows: Sequence[ReviewRow]) -> Preview:
    """The review narrowed to the rows Done left out, for their error report: the
    rows still to fix, on the rows of the file they came from. Its report is
    ``error_report(result)``'s; it is the review that the page can carry sealed."""
    return attrs.evolve(
        preview,
        rows=tuple(rows),
        issues=tuple(issue for row in rows for issue in row.issues),
        summary=Summary.of(rows),
    )


def _done_page(preview: Preview, result: ImportResult) -> str:
    """Done: the counts, and the error report of the rows left out (invalid, or
    left out by the administrator).

    The page is the answer to Done's POST, not a redirect: the rows left out
    travel to the report only sealed, and a page that is sent again (a reload)
    meets the users already written and is refused, never imported twice.
    """
    left_out = result.left_out
    report = (
        seal(_left_out_review(preview, left_out), seal_keys()) if left_out else None
    )
    return render_template(
        "done.html",
        result=result,
        report_token=report,
        left_out=len(left_out),
        dropped=sum(1 for row in left_out if is_left_out(row)),
    )
