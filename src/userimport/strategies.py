"""Hypothesis strategies for the tests of applications that use userimport.

Install the ``testing`` extra (``pip install userimport[testing]``); this module is
never imported by ``userimport`` itself.

- :func:`user_rows`: valid, normalised :class:`~userimport.schema.UserRow` values,
  whose fields pass validation unchanged (Unicode names, internationalised email
  addresses, groups, languages).
- :func:`emails`: normalised addresses email-validator accepts, internationalised
  ones included (``st.emails()`` draws ASCII addresses only).
- :func:`org_trees`: valid :class:`~userimport.hierarchy.OrgTree` values.
- :func:`csv_files`: whole valid uploads, ``(data, orgs, actor)``: ``prepare`` on
  ``data`` with ``orgs``, ``actor`` and an empty ``MemoryStore`` finds no error
  with the default options. :func:`valid_uploads` draws the same files with the
  users they hold.
- :func:`defective_csv_files`: ``(data, codes)``: files with known defects and the
  exact set of issue codes ``prepare`` reports for them against :data:`SAMPLE_ORGS`,
  :data:`SAMPLE_MANAGER` and an empty ``MemoryStore``, with the default options.

With the package installed, hypothesis registers :func:`user_rows` and
:func:`org_trees` for ``st.from_type(UserRow)`` and ``st.from_type(OrgTree)``
(the ``hypothesis`` entry point names ``userimport._hypothesis_hook``, which
registers them without importing this module: it is imported by the first
``st.from_type`` of either class).

This module holds the public strategies; the parts they are built from live in
private modules: the drawn values (``_drawn_users``), how a file is written
(``_drawn_files``) and the defects (``_drawn_defects``). Import every public
name from here.

Example::

    from hypothesis import given
    from userimport import MemoryStore, prepare
    from userimport.strategies import csv_files

    @given(csv_files())
    def test_my_import_endpoint_accepts_valid_files(file):
        data, orgs, actor = file
        preview = prepare(data, actor=actor, orgs=orgs, store=MemoryStore())
        assert preview.ok
"""

from __future__ import annotations

from typing import Final

import attrs
from hypothesis import strategies as st

from userimport import _drawn_files, _samples
from userimport._drawn_defects import (
    UNREADABLE_FILES,
    header_defect_files,
    row_defect_files,
)
from userimport._drawn_files import (
    UNKNOWN_HEADERS,
    encode,
    encodings,
    header,
    layouts,
    look,
    needs_cell,
    not_example,
    user_cells,
    write,
)
from userimport._drawn_users import (
    EMAILS,
    NAMES,
    ORG_IDS,
    ORG_NAMES,
    WESTERN_ORG_NAMES,
    trees,
    users_of,
)
from userimport.access import Actor
from userimport.hierarchy import OrgTree
from userimport.issues import IssueCode
from userimport.schema import COLUMNS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, Role, UserRow

__all__ = [
    "ENCODINGS",
    "SAMPLE_ADMIN",
    "SAMPLE_MANAGER",
    "SAMPLE_ORGS",
    "ValidUpload",
    "csv_files",
    "defective_csv_files",
    "emails",
    "org_trees",
    "user_rows",
    "valid_uploads",
]

#: The sample tree of the pytest plugin (see ``userimport_orgs``): four levels,
#: "Sales" three times. :func:`defective_csv_files` is judged against it.
SAMPLE_ORGS: Final = _samples.SAMPLE_ORGS
#: An administrator of the root of :data:`SAMPLE_ORGS`.
SAMPLE_ADMIN: Final = _samples.SAMPLE_ADMIN
#: A manager of Spain (``"es"``) in :data:`SAMPLE_ORGS`: the actor
#: :func:`defective_csv_files` is judged for.
SAMPLE_MANAGER: Final = _samples.SAMPLE_MANAGER

#: How :func:`csv_files` may encode a file: UTF-8 with and without a byte-order
#: mark, UTF-16 and UTF-32 with a byte-order mark in either byte order, UTF-16
#: without one when its NUL bytes show it (mostly ASCII text), and cp1252 when
#: the text fits.
ENCODINGS: Final = _drawn_files.ENCODINGS

# --- users, emails, trees -------------------------------------------------------


def emails() -> st.SearchStrategy[str]:
    """Valid email addresses in the form validation normalises them to.

    ASCII and internationalised local parts (RFC 6531) at ASCII and IDN domains;
    the domain is in its normalised Unicode form and the local part keeps its case,
    as :func:`userimport.validation.normalize_email` returns them. No local part
    starts with an apostrophe, so no address looks like a cell the library marked
    against formula injection (``'=...``). Addresses starting with ``=``, ``+`` or
    ``-`` (valid characters) do occur.

    Example::

        @given(emails())
        def test_signup_accepts(address): ...
    """
    return EMAILS


def user_rows(
    orgs: OrgTree | None = None,
    *,
    within: str | None = None,
    max_role: Role | str = Role.ADMIN,
) -> st.SearchStrategy[UserRow]:
    """Valid, normalised users: every field is what validation makes of itself.

    Names are Unicode letters (several scripts, apostrophes, hyphens) in NFC with
    single spaces, emails come from :func:`emails`, groups are up to three distinct
    names, languages ``xx`` or ``xx-YY``. Writing a drawn user's fields into an
    upload and validating them gives the same values back.

    Args:
        orgs: Draw ``organization`` among this tree's ids; without a tree, slugs
            such as ``"es-mad"`` are drawn.
        within: Only organizations of this organization's subtree (needs ``orgs``).
        max_role: Only roles up to this one (what an actor of that role may
            assign).

    Raises:
        ValueError: ``within`` without ``orgs``, or not in ``orgs``.

    Example::

        @given(user_rows(SAMPLE_ORGS, within="es", max_role="manager"))
        def test_spain_manager_may_import(user): ...
    """
    if orgs is None:
        if within is not None:
            raise ValueError("within needs orgs: the tree the organization is in.")
        organizations: st.SearchStrategy[str] = ORG_IDS
    else:
        ids = sorted(
            orgs.subtree_ids(within) if within is not None else (o.id for o in orgs)
        )
        if not ids:
            raise ValueError(f"The organization {within!r} is not in the tree.")
        organizations = st.sampled_from(ids)
    return users_of(organizations, Role(max_role), NAMES, EMAILS)


def org_trees(*, max_size: int = 12) -> st.SearchStrategy[OrgTree]:
    """Valid organization trees of 1 to ``max_size`` organizations.

    Ids are unique slugs; names repeat as they do in real trees (several "Sales"),
    and some contain a ``/`` (``"R/D"``). A tree may have several roots; the
    organizations are given to :class:`OrgTree` in a random order.

    Example::

        @given(org_trees())
        def test_every_org_is_within_its_root(tree): ...
    """
    if max_size < 1:
        raise ValueError(f"max_size must be at least 1, not {max_size}")
    return trees(max_size)


# --- valid files ----------------------------------------------------------------


@attrs.frozen
class ValidUpload:
    """A valid upload drawn by :func:`valid_uploads`, with what it holds.

    Attributes:
        data: The file's bytes.
        orgs: The tree it is valid for.
        actor: The actor it is valid for.
        users: The users ``prepare`` finds, in file order, against an empty store
            with the default options. A cp1252 file's encoding is guessed when
            read; a guess of another code page reads some accented letters
            differently (``Ñ`` as ``Ń``), so compare ``users`` only when
            ``preview.encoding`` is ``"cp1252"`` for such a file.
        encoding: How ``data`` was encoded (one of :data:`ENCODINGS`).
        delimiter: Its delimiter.
    """

    data: bytes
    orgs: OrgTree
    actor: Actor
    users: tuple[UserRow, ...]
    encoding: str
    delimiter: str


@st.composite
def _valid_uploads(draw: st.DrawFn, max_users: int) -> ValidUpload:
    # Half the files hold Western European names and ASCII addresses, which a
    # legacy encoding (cp1252) can carry.
    western = draw(st.booleans())
    orgs = draw(trees(12, WESTERN_ORG_NAMES if western else ORG_NAMES))
    actor = Actor(
        draw(st.sampled_from([org.id for org in orgs])),
        draw(st.sampled_from(list(Role))),
    )
    users = draw(
        st.lists(
            user_rows(orgs, within=actor.org_id, max_role=actor.role).filter(
                not_example
            ),
            min_size=1,
            max_size=max_users,
            unique_by=look,
        )
    )
    needed = {
        c for c in OPTIONAL_COLUMNS if any(needs_cell(c, u, actor) for u in users)
    }
    extra = draw(st.sets(st.sampled_from(OPTIONAL_COLUMNS)))
    columns = draw(
        st.permutations(
            [c for c in COLUMNS if c in REQUIRED_COLUMNS or c in needed | extra]
        )
    )
    headers = [draw(header(column)) for column in columns]
    unknown = draw(st.lists(st.sampled_from(UNKNOWN_HEADERS), max_size=1))
    trailing = draw(st.integers(0, 2))  # the empty cells Excel leaves at the end
    records: list[list[str]] = [[*headers, *unknown, *([""] * trailing)]]
    width = len(records[0])
    ascii_references = True
    for user in users:
        for _ in range(draw(st.integers(0, 1))):
            records.append(draw(st.sampled_from(([], [""] * width))))
        cells = draw(user_cells(user, orgs, actor))
        ascii_references &= "organization" not in columns or (
            cells["organization"].isascii()
        )
        notes = [draw(st.sampled_from(("", "see HR", "Notas: ñ")))] if unknown else []
        records.append([*(cells[c] for c in columns), *notes, *([""] * trailing)])
    layout = draw(layouts())
    text = write(layout, records)
    encoding = draw(
        encodings(text, layout.delimiter, ascii_references=ascii_references)
    )
    return ValidUpload(
        data=encode(text, encoding),
        orgs=orgs,
        actor=actor,
        users=tuple(users),
        encoding=encoding,
        delimiter=layout.delimiter,
    )


def valid_uploads(*, max_users: int = 8) -> st.SearchStrategy[ValidUpload]:
    """Whole valid uploads with the tree, actor and users they are valid for.

    What :func:`csv_files` draws, with more detail: ``prepare`` on ``data`` with
    ``orgs``, ``actor``, an empty ``MemoryStore`` and the default options finds no
    error, and its rows' users are ``users``, in order (see
    :attr:`ValidUpload.users` for cp1252 files). Files vary in everything the
    reader accepts: encoding (:data:`ENCODINGS`), delimiter (``,``, ``;``, tab,
    ``|``), line ends (CRLF, LF, CR), quoting, an Excel ``sep=`` line, blank records
    before and between rows, header aliases and their case, column order, optional
    columns left out when empty, an unknown extra column (a warning), trailing empty
    cells, padding spaces around values, and every way of writing organizations,
    roles, groups and languages.

    A cp1252 file with accented letters is read with a guessed encoding, which
    adds the warning ``encoding_guessed`` when another reading came close; an
    unknown column adds ``unknown_columns``. Neither is an error.

    Example::

        @given(valid_uploads())
        def test_endpoint_creates_the_users(upload):
            created = my_import_endpoint(upload.data, upload.orgs, upload.actor)
            assert [u.email for u in upload.users] == [u.email for u in created]

    Args:
        max_users: The most users in a file (at least one is drawn).
    """
    if max_users < 1:
        raise ValueError(f"max_users must be at least 1, not {max_users}")
    return _valid_uploads(max_users)


def csv_files(*, max_users: int = 8) -> st.SearchStrategy[tuple[bytes, OrgTree, Actor]]:
    """Whole valid uploads, ``(data, orgs, actor)``.

    ``prepare(data, actor=actor, orgs=orgs, store=MemoryStore())`` finds no error.
    See :func:`valid_uploads` for what varies, and for the users each file holds.

    Example::

        @given(csv_files())
        def test_upload_endpoint(file):
            data, orgs, actor = file
            ...
    """
    return valid_uploads(max_users=max_users).map(
        lambda upload: (upload.data, upload.orgs, upload.actor)
    )


# --- defective files ------------------------------------------------------------


def defective_csv_files() -> st.SearchStrategy[tuple[bytes, frozenset[IssueCode]]]:
    """Files with known defects, with the exact set of issue codes they produce.

    ``{issue.code for issue in preview.issues} == codes`` for ``preview =
    prepare(data, actor=SAMPLE_MANAGER, orgs=SAMPLE_ORGS, store=MemoryStore())``
    with the default options: errors and warnings, file-level and row-level.

    What is drawn:

    - unreadable files: empty ones (``empty_file``), binary files such as Excel
      workbooks, PDF or images (``binary_file``), broken UTF-8, UTF-16 or UTF-32
      (``undecodable``);
    - files with a wrong header or structure: required columns missing
      (``missing_columns``), a column twice (``duplicate_columns``), a header and no
      row (``no_rows``), 201 rows (``too_many_rows``), a quote never closed or text
      after a closing quote (``malformed_csv``);
    - readable files with one to five defective rows among valid ones, each row
      with one defect: ``missing_value``, ``value_too_long``,
      ``invalid_characters`` (formula injection payloads, zero-width and
      bidirectional characters, line breaks, tabs), ``invalid_email``,
      ``duplicate_email``, ``unknown_organization`` (also an organization that
      exists outside the manager's subtree), ``ambiguous_organization``,
      ``invalid_role``, ``role_not_allowed``, ``invalid_language``,
      ``wrong_field_count``, and the template's ``example_row``;
    - with the warning ``unknown_columns`` (an extra column) added to some.
      Files with accented letters are drawn in Unicode encodings only, since
      whether a legacy one adds ``encoding_guessed`` is the reader's judgment.

    ``file_too_large`` is not drawn: it takes a file over 2 MiB; test it with a
    small ``ImportOptions(max_bytes=...)``. The codes of the store (``email_exists``,
    ``email_taken``) and ``host_check`` need a store or host rules of your own.

    Example::

        @given(defective_csv_files())
        def test_import_endpoint_reports(file):
            data, codes = file
            response = client.post("/users/import", data=data)
            assert codes <= set(response.json()["codes"])
    """
    return st.one_of(row_defect_files(), header_defect_files(), UNREADABLE_FILES)
