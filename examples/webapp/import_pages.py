"""Step 1 of Import (the upload form and the templates), the review page, the
options the server builds, and the upload kept for the column step."""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Final

import attrs
from flask import (
    current_app,
    redirect,
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
from itsdangerous import BadData, TimestampSigner
from werkzeug.exceptions import RequestEntityTooLarge

from plumbing import (
    ACTION_TITLES,
    COLUMN_CODES,
    COLUMN_TITLES,
    DELIMITER_NAMES,
    ISSUE_TITLES,
    LANGUAGES,
    MAX_REQUEST_BYTES,
    ON_EXISTING_CHOICES,
    ROLE_TITLES,
    TEMPLATE_TITLES,
    Refused,
    by_column,
    changes_of,
    current_admin,
    page_language,
    request_tree,
    seal_keys,
    signed_in,
    state,
)
from userimport import (
    Actor,
    ImportOptions,
    IssueCode,
    OnExisting,
    Preview,
    PreviewMismatch,
    ReviewRow,
    Role,
    template,
)
from userimport.outputs import TEMPLATE_LANGUAGES, list_separator
from userimport.schema import OPTIONAL_COLUMNS

# -- Import -----------------------------------------------------------------------


#: A language tag as browsers send them (BCP 47 subtags): ``es``, ``es-MX``, ``es-419``.
_LANGUAGE_TAG: Final = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


@attrs.frozen
class TemplateLink:
    """A template the upload page offers for download.

    Attributes:
        tag: The language tag it is written for (``"es-MX"``), the link's path.
        title: The language's name.
        separator: How its delimiter, the list separator of spreadsheets in that
            language and region, is named ("semicolon (;)").
    """

    tag: str
    title: str
    separator: str


def _admin_language() -> str:
    """The administrator's language: the pages' (the switch's, else the browser's),
    with the region the browser names for it (``es-MX``), since the region decides
    the list separator."""
    language = page_language()
    for tag, _ in request.accept_languages:
        if not _LANGUAGE_TAG.fullmatch(tag) or _primary(tag) != language:
            continue  # "*", not a language tag at all, or another language
        try:
            list_separator(tag)
        except ValueError:
            continue
        return tag
    return language


def _template_links() -> list[TemplateLink]:
    """The template in the administrator's language first, then the others."""
    mine = _admin_language()
    mine_primary = _primary(mine)
    tags = [mine, *(code for code in TEMPLATE_LANGUAGES if code != mine_primary)]
    return [
        TemplateLink(
            tag,
            TEMPLATE_TITLES.get(_primary(tag), tag),
            DELIMITER_NAMES[list_separator(tag)],
        )
        for tag in tags
    ]


def _primary(tag: str) -> str:
    """The language of a tag the template accepts: ``es-MX`` → ``es``."""
    return tag.replace("_", "-").split("-", 1)[0].casefold()


def _upload_page(problem: str | None = None) -> str:
    """Step 1: the drop zone, the template links and the limit."""
    return render_template("upload.html", templates=_template_links(), problem=problem)


def upload_view() -> ResponseReturnValue:
    return _upload_page()


def too_large_page(error: RequestEntityTooLarge) -> ResponseReturnValue:
    # Raised while the CSRF check reads the form, before the sign-in check.
    if current_admin() is None:
        return redirect(url_for("sign_in"), 303)
    megabytes = MAX_REQUEST_BYTES // (1024 * 1024)
    return _upload_page(
        gettext(
            "The upload is larger than %(megabytes)d MiB; nothing was read.",
            megabytes=megabytes,
        )
    ), 413


def template_view(language: str) -> ResponseReturnValue:
    """The template in ``language``, with the list separator of its region
    (``es`` with semicolons, ``es-MX`` with commas)."""
    return _template_download(language, "csv", "text/csv", lambda: template(language))


def template_workbook_view(language: str) -> ResponseReturnValue:
    """The template as an Excel workbook whose drop-down lists offer the signed-in
    administrator's organizations and roles."""
    return _template_download(
        language,
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        lambda: template(
            language, format="xlsx", orgs=request_tree(), actor=signed_in().actor
        ),
    )


def _template_download(
    language: str, suffix: str, mimetype: str, make: Callable[[], bytes]
) -> ResponseReturnValue:
    """The template ``make`` writes, as a download; not found for a language the
    library has no template in."""
    try:
        data = make()
    except ValueError as error:
        return str(error), 404, {"Content-Type": "text/plain; charset=utf-8"}
    return send_file(
        io.BytesIO(data),
        mimetype=mimetype,
        as_attachment=True,
        # Named by the language alone: the rest of the path is the browser's text.
        download_name=f"users-template-{_primary(language)}.{suffix}",
    )


def _columns_read(preview: Preview) -> list[str]:
    """The header cells that name a column, with that column when it is written
    differently ("E-mail (Email)"), so the reviewer sees how the header was read."""
    shown = []
    for match in preview.columns:
        title = COLUMN_TITLES.get(match.column or "")
        if title is not None:
            shown.append(
                match.header if match.header == title else f"{match.header} ({title})"
            )
    return shown


def missing_optional(preview: Preview, actor: Actor) -> list[tuple[str, str]]:
    """What the file's missing optional columns mean, as (column, sentence): a
    file without ``organization`` puts everyone in the administrator's own."""
    org = request_tree().get(actor.org_id)
    sentences = {
        "organization": lambda: gettext(
            "No Organization column: everyone goes into %(organization)s.",
            organization=org.name if org is not None else actor.org_id,
        ),
        "role": lambda: gettext(
            "No Role column: everyone gets the role %(role)s.",
            role=ROLE_TITLES[preview.default_role],
        ),
        "groups": lambda: gettext("No Groups column: no one is added to a group."),
        "language": lambda: gettext(
            "No Language column: no one gets a language of their own."
        ),
    }
    return [
        (column, str(sentences[column]()))
        for column in preview.missing_columns
        if column in OPTIONAL_COLUMNS and column in sentences
    ]


def is_left_out(row: ReviewRow) -> bool:
    return any(issue.code is IssueCode.LEFT_OUT for issue in row.issues)


def _filters(preview: Preview) -> list[tuple[str, str, int]]:
    """The review's filter, as (value, label, rows): every row, the rows with
    errors, then each problem with the rows that have it, the most frequent first."""
    counts = preview.issue_counts
    problems = sorted(
        (
            (code.value, str(ISSUE_TITLES.get(code, code.value)), number)
            for code, number in counts.items()
        ),
        key=lambda item: (-item[2], item[1]),
    )
    invalid = preview.summary.invalid
    return [
        ("all", str(gettext("All rows")), preview.summary.total),
        *([("errors", str(gettext("Rows with errors")), invalid)] if invalid else []),
        *problems,
    ]


def _done_unavailable(preview: Preview) -> str | None:
    """Why Done is off, in a sentence beside it; ``None`` when it is on."""
    if preview.ok:
        return None
    if any(issue.is_error for issue in preview.file_issues):
        return str(
            gettext(
                "Done is off because the file itself has errors (see above): "
                "correct the file and upload it again."
            )
        )
    return str(
        ngettext(
            "Done is off while %(num)d row has errors: correct it and press Check "
            "again, leave it out, or import only the valid rows.",
            "Done is off while %(num)d rows have errors: correct them and press "
            "Check again, leave them out, or import only the valid rows.",
            preview.summary.invalid,
        )
    )


def review_page(
    preview: Preview,
    token: str,
    message: str | None = None,
    *,
    upload: str | None = None,
    checked: str | None = None,
    changed: Iterable[int] = (),
) -> str:
    """Step 2: every row with its action and issues, its invalid cells editable,
    and the sealed review (with the sealed upload, when it is kept)."""
    actor = signed_in().actor
    rows = [
        (row, by_column(row.issues), changes_of(row, actor)) for row in preview.rows
    ]
    filters = _filters(preview)
    shown = request.form.get("show", "all")
    return render_template(
        "review.html",
        preview=preview,
        review_token=token,
        upload_token=upload,
        rows=rows,
        titles=COLUMN_TITLES,
        actions=ACTION_TITLES,
        delimiter=DELIMITER_NAMES.get(preview.delimiter or "", preview.delimiter),
        columns_read=_columns_read(preview),
        columns_ignored=[m.header for m in preview.columns if m.column is None],
        missing=missing_optional(preview, actor),
        filters=filters,
        shown=shown if any(value == shown for value, _, _ in filters) else "all",
        done_unavailable=_done_unavailable(preview),
        message=message,
        checked=checked,
        changed=frozenset(changed),
        language_form="review-form",
        language_action=url_for("check"),
        language_default=gettext("Check again"),
    )


def server_options(
    on_existing: OnExisting,
    *,
    locale: str,
    columns: Mapping[str, str | None] | None = None,
) -> ImportOptions:
    """The server's options under the choices the administrator makes: the
    policy for existing users that step 1 offers, the language of the messages,
    and the column step's matching of header cells.

    ``prepare``, ``revise`` and ``commit`` all get their options from here; every
    other option is the server's.
    """
    if on_existing not in ON_EXISTING_CHOICES or locale not in LANGUAGES:
        raise PreviewMismatch(
            gettext(
                "This review was not made by this application; upload the file again."
            )
        )
    return attrs.evolve(
        state().options,
        on_existing=on_existing,
        locale=locale,
        columns=dict(columns or {}),
    )


def review_options(preview: Preview) -> ImportOptions:
    """The server's options for a sealed review, built again from what the seal
    holds, never from a form field: its policy, its language, and either no
    column matching or the column step's (each header cell as the review read
    it), whichever has the fingerprint the review was made with.

    Raises:
        PreviewMismatch: Neither has: the review is not one this application made.
    """
    plain = server_options(preview.on_existing, locale=preview.locale)
    if plain.fingerprint == preview.options_fingerprint:
        return plain
    matched = attrs.evolve(
        plain, columns={match.header: match.column for match in preview.columns}
    )
    if matched.fingerprint == preview.options_fingerprint:
        return matched
    raise PreviewMismatch(
        gettext("This review was not made by this application; upload the file again.")
    )


# -- the upload, kept for the column step and the language switch ----------------

_UPLOAD_SALT: Final = "userimport webapp: an upload kept in the page"


def _upload_signer() -> TimestampSigner:
    # itsdangerous signs with the last key and verifies with any of them.
    keys = [k.encode("utf-8") if isinstance(k, str) else k for k in seal_keys()]
    return TimestampSigner(keys[::-1], salt=_UPLOAD_SALT)


def keep_upload(data: bytes, on_existing: OnExisting) -> str:
    """The upload's bytes, compressed and signed for the page to carry, with the
    administrator and the policy they were uploaded under.

    The column step needs the file again to read it with the administrator's
    matching, and the language switch to review it again in the other language;
    the page carries it, as it carries the review, so the server keeps nothing
    between requests. Signed and timestamped like the review (with a key derived
    for this purpose alone), it is refused when altered or older than
    ``REVIEW_MAX_AGE``, or sent back by another administrator.
    """
    actor = signed_in().actor
    about = json.dumps([actor.org_id, actor.role.value, on_existing.value])
    value = ".".join(
        base64.urlsafe_b64encode(part).decode("ascii").rstrip("=")
        for part in (about.encode("utf-8"), zlib.compress(data, 9))
    )
    return str(_upload_signer().sign(value).decode("ascii"))


def _unpadded(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


ALTERED_UPLOAD: Final = lazy_gettext(
    "The file kept in this page was altered, has expired, or was uploaded by "
    "another administrator, so nothing was done."
)


def kept_upload(token: str) -> tuple[bytes, OnExisting]:
    """The bytes and the policy of an upload kept by :func:`keep_upload`.

    Raises:
        Refused: The token was altered or has expired (400), or another
            administrator uploaded the file (409).
    """
    try:
        value = _upload_signer().unsign(
            token, max_age=current_app.config["REVIEW_MAX_AGE"]
        )
        about, packed = value.decode("ascii").split(".")
        org_id, role, policy = json.loads(_unpadded(about))
        actor = Actor(str(org_id), Role(role))
        # Signed by this server: it decompresses what it compressed.
        data = zlib.decompress(_unpadded(packed))
        on_existing = OnExisting(policy)
    except (BadData, ValueError, TypeError, binascii.Error, zlib.error) as error:
        raise Refused(str(ALTERED_UPLOAD)) from error
    if actor != signed_in().actor:
        raise Refused(str(ALTERED_UPLOAD), status=409)
    return data, on_existing


def keeps_upload(preview: Preview) -> bool:
    """Whether a page keeps the upload: the file was read up to its header and
    has rows to review or columns to match (a file refused whole is not kept)."""
    return (
        preview.upload_sha256 is not None
        and bool(preview.columns)
        and (bool(preview.rows) or needs_columns(preview))
    )


def needs_columns(preview: Preview) -> bool:
    """Whether the column step comes first: the header was read, and a cell of it
    is unknown, or a required column is missing or given twice."""
    return bool(preview.columns) and any(
        issue.code in COLUMN_CODES for issue in preview.file_issues
    )
