"""Look-alike emails: UTS #39 skeletons and the groups the review warns about."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

import idna
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

pytest.importorskip("icu")

from userimport import (
    Action,
    Actor,
    CommitConflict,
    ImportOptions,
    Issue,
    IssueCode,
    MemoryStore,
    Organization,
    OrgTree,
    ReviewRow,
    StoredUser,
    StoreError,
    UserRow,
    UserStore,
    UserWrite,
    commit,
    prepare,
    revise,
    validate_user,
)
from userimport._confusables import (
    Compared,
    _ascii_skeletons,
    _icu,
    confusable_groups,
    likeness,
    look_alike_issues,
    readable,
    skeleton,
)
from userimport._messages import say
from userimport.formulas import FORMULA_TRIGGERS
from userimport.schema import EXAMPLE_ROWS, email_key


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("paypal@x.com", "pаypal@x.com"),  # Cyrillic а
        ("ana@example.com", "аnа@example.com"),  # two Cyrillic а
        ("rn@x.com", "m@x.com"),  # UTS #39: "rn" looks like "m"
        ("all@x.com", "a1l@x.com"),  # one and l
        ("jose@x.com", "jοse@x.com"),  # Greek omicron
    ],
)
def test_look_alikes_share_a_skeleton(first: str, second: str) -> None:
    """Strings a reader cannot tell apart have one skeleton."""
    assert skeleton(first) == skeleton(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [("ana@x.com", "ane@x.com"), ("x@faß.de", "x@fass.de"), ("a@x.com", "b@x.com")],
)
def test_different_strings_keep_different_skeletons(first: str, second: str) -> None:
    """Strings that read differently are not confusable."""
    assert skeleton(first) != skeleton(second)


def test_groups_hold_distinct_keys_of_one_skeleton() -> None:
    """A group is every distinct key of a skeleton; equal keys are one user."""
    keys = [
        email_key("paypal@x.com"),
        email_key("PAYPAL@x.com"),
        email_key("pаypal@x.com"),
        email_key("ana@x.com"),
        email_key("rn@x.com"),
        email_key("m@x.com"),
    ]

    assert [("m@x.com", "rn@x.com"), ("paypal@x.com", "pаypal@x.com")] == (
        confusable_groups(keys)
    )


def test_the_installed_icu_allows_the_ascii_shortcut() -> None:
    """The shortcut for ASCII text is taken with this ICU (so the test below tests
    it): each ASCII character's skeleton is made of characters that decomposition
    leaves alone, and none of them has another skeleton."""
    replacements = _ascii_skeletons(_icu())

    assert replacements is not None
    assert ("m", "rn") in replacements


@given(
    st.one_of(
        st.text(st.characters(max_codepoint=127), max_size=40),
        st.text(st.sampled_from('"%01I`m|rnl@.x-'), max_size=40),
        st.text(max_size=20),
    )
)
def test_likeness_is_the_skeleton_of_the_readable_key(key: str) -> None:
    """Differential: the likeness of any text, ASCII (the shortcut) or not, is
    ICU's skeleton of its readable form, the plain definition."""
    assert likeness(key) == skeleton(readable(key))


#: Letters of domain labels: ASCII, Latin with accents, Cyrillic, Greek, Han.
LABEL = st.text(alphabet="abxyz0-аеοßüñ日本", min_size=1, max_size=6)


@given(st.lists(LABEL, min_size=1, max_size=3))
def test_a_key_reads_with_its_domain_in_unicode(labels: list[str]) -> None:
    """``readable`` gives back the Unicode domain of any key: the domain IDNA would
    show (idna.decode), its local part as it is."""
    domain = ".".join(labels)
    try:
        ascii_form = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        assume(False)
    key = email_key(f"ana@{domain}")

    assert readable(key) == "ana@" + idna.decode(ascii_form)


@given(st.lists(st.text(max_size=8), max_size=12))
def test_groups_partition_the_confusable_keys(keys: list[str]) -> None:
    """Every key is in at most one group, every group shares one skeleton and has
    two distinct keys or more, and no key outside the groups shares a skeleton
    with another key."""
    groups = confusable_groups(keys)

    def looks(key: str) -> str:
        return skeleton(readable(key))

    grouped = [key for group in groups for key in group]
    assert len(grouped) == len(set(grouped))
    for group in groups:
        assert len(group) >= 2
        assert len({looks(key) for key in group}) == 1
    alone = set(keys) - set(grouped)
    skeletons = [looks(key) for key in alone]
    assert len(skeletons) == len(set(skeletons))
    assert not {looks(key) for key in alone} & {looks(k) for k in grouped}


# --- the review's confusable_email warning -----------------------------------------

ORGS = OrgTree(
    [
        Organization("root", "Acme"),
        Organization("es", "Spain", "root"),
        Organization("fr", "France", "root"),
    ]
)
ROOT = Actor("root")
SPAIN = Actor("es")

#: Latin letters and a look-alike of each in another script (one skeleton).
LOOK_ALIKES = {
    "a": "а",  # Cyrillic
    "c": "с",  # Cyrillic
    "e": "е",  # Cyrillic
    "i": "і",  # Cyrillic (Ukrainian)
    "o": "ο",  # Greek omicron
    "p": "р",  # Cyrillic
    "x": "х",  # Cyrillic
    "y": "у",  # Cyrillic
    "l": "1",  # digit one
}


def upload(*emails: str) -> bytes:
    """An upload of one user per email, in rows 2, 3, ..."""
    lines = ["first_name,last_name,email"]
    lines += [f"Ana,Gil {number},{email}" for number, email in enumerate(emails)]
    return ("\r\n".join(lines) + "\r\n").encode()


def user(user_id: str, email: str, organization: str) -> StoredUser:
    """A stored user."""
    return StoredUser(user_id, email, "Bo", "Li", organization)


def warnings_of(rows: Sequence[ReviewRow]) -> dict[int | None, list[Issue]]:
    """The confusable_email warnings, by row."""
    found: dict[int | None, list[Issue]] = {}
    for row in rows:
        for issue in row.issues:
            if issue.code is IssueCode.CONFUSABLE_EMAIL:
                assert not issue.is_error
                found.setdefault(row.row, []).append(issue)
    return found


def test_two_rows_that_look_alike_each_name_the_other() -> None:
    """``pаypal@x.com`` (Cyrillic а) beside ``paypal@x.com``: each row gets one
    warning naming the other row and showing the characters that differ; both are
    still created."""
    preview = prepare(
        upload("ana@x.com", "pаypal@x.com", "PayPal@x.com"),
        actor=ROOT,
        orgs=ORGS,
        store=MemoryStore(),
    )

    found = warnings_of(preview.rows)
    assert list(found) == [3, 4]
    assert [issue.message for issue in found[3]] == [
        "This email looks like “PayPal@x.com” in row 4, but it is a different "
        "address (“а” U+0430 instead of “a” U+0061); check that it is the one you "
        "mean."
    ]
    assert found[4][0].message.startswith("This email looks like “pаypal@x.com” in")
    assert (found[3][0].column, found[3][0].value) == ("email", "pаypal@x.com")
    assert [row.action for row in preview.rows] == [Action.CREATE] * 3


def test_ascii_look_alikes_warn_too() -> None:
    """UTS #39 confuses some ASCII with ASCII: ``rn`` and ``m``, ``1`` and ``l``;
    the message shows the code points."""
    preview = prepare(
        upload("rn@x.com", "m@x.com", "a1@x.com", "al@x.com"),
        actor=ROOT,
        orgs=ORGS,
        store=MemoryStore(),
    )

    found = warnings_of(preview.rows)
    assert list(found) == [2, 3, 4, 5]
    assert "(“rn” U+0072 U+006E instead of “m” U+006D)" in found[2][0].message
    assert "(“1” U+0031 instead of “l” U+006C)" in found[4][0].message


def test_a_look_alike_of_a_visible_user_names_that_user() -> None:
    """An existing user the actor may see is named with its email."""
    store = MemoryStore([user("1", "paypal@x.com", "es")])

    preview = prepare(upload("pаypal@x.com"), actor=SPAIN, orgs=ORGS, store=store)

    [issue] = warnings_of(preview.rows)[2]
    assert issue.message.startswith(
        "This email looks like “paypal@x.com”, the email of an existing user, but"
    )


def test_a_look_alike_of_an_invisible_user_gives_no_warning() -> None:
    """A user outside the actor's subtree never gives a warning: the review does not
    tell that such a user exists. Its administrator above sees the warning."""
    store = MemoryStore([user("1", "paypal@x.com", "fr"), user("2", "bo@x.com", "es")])
    data = upload("pаypal@x.com")

    spain = prepare(data, actor=SPAIN, orgs=ORGS, store=store)
    root = prepare(data, actor=ROOT, orgs=ORGS, store=store)

    assert warnings_of(spain.rows) == {}
    assert "paypal@x.com" not in repr(spain)
    assert list(warnings_of(root.rows)) == [2]


def test_a_look_alike_domain_warns() -> None:
    """A domain is compared as it reads, not in its ASCII form
    (``xn--pypal-4ve.com`` is ``pаypal.com``)."""
    store = MemoryStore([user("1", "ana@xn--pypal-4ve.com", "es")])

    preview = prepare(upload("ana@paypal.com"), actor=SPAIN, orgs=ORGS, store=store)

    [issue] = warnings_of(preview.rows)[2]
    assert "(“a” U+0061 instead of “а” U+0430)" in issue.message


def test_an_existing_email_with_a_hidden_character_is_not_quoted() -> None:
    """A store may hold an email no upload could (here with a right-to-left
    override); the message names the user without quoting it."""
    store = MemoryStore([user("1", "pаypal\u202e@x.com", "es")])

    preview = prepare(upload("paypal@x.com"), actor=SPAIN, orgs=ORGS, store=store)

    [issue] = warnings_of(preview.rows)[2]
    assert "\u202e" not in issue.message
    assert "the email of an existing user" in issue.message
    assert "without U+202E" in issue.message


def test_an_existing_email_that_reads_the_same_says_so() -> None:
    """A store may hold a key in another form of the row's address (here the
    Unicode form of a domain IDNA2008 refuses, as a host's own SQL may write it):
    the keys differ, they read the same, and the message says so instead of
    showing an empty difference, in English and in Spanish."""
    stored = user("1", "x@\u2603.com", "es")  # a snowman
    row = Compared(2, "x@xn--n3h.com", "x@xn--n3h.com", "x@xn--n3h.com")
    assert readable(row.key) == stored.key != row.key

    [issue] = look_alike_issues([row], [stored]).values()

    assert issue.message == (
        "This email looks like “x@\u2603.com”, the email of an existing user, but "
        "it is a different address as stored (it reads the same); check that it "
        "is the one you mean."
    )
    assert say(issue.message, "es") == (
        "Este correo electrónico se parece a “x@\u2603.com”, el correo "
        "electrónico de un usuario existente, pero es una dirección distinta tal "
        "como está guardada (se lee igual); comprueba que sea la que quieres."
    )


def test_many_look_alikes_are_counted_after_the_first_three() -> None:
    """A message names three look-alikes and counts the others."""
    emails = ["paypal@x.com", "pаypal@x.com", "paypаl@x.com", "раypal@x.com"]
    emails += ["pаypаl@x.com"]
    preview = prepare(upload(*emails), actor=ROOT, orgs=ORGS, store=MemoryStore())

    found = warnings_of(preview.rows)
    assert list(found) == [2, 3, 4, 5, 6]
    assert "row 3; “paypаl@x.com” in row 4; “раypal@x.com” in row 5; and 1 more," in (
        found[2][0].message
    )


def test_rows_that_take_no_part() -> None:
    """Rows whose cells have errors, the template's example rows and rows left out
    take no part; a row valid in its cells but invalid otherwise does."""
    example = EXAMPLE_ROWS[0]
    look_alike = "".join(LOOK_ALIKES.get(char, char) for char in example["email"])
    data = (
        "first_name,last_name,email,organization\r\n"
        f"{example['first_name']},{example['last_name']},{example['email']},\r\n"
        f"Ana,Gil,{look_alike},\r\n"  # row 3: like the example row only
        ",Gil,paypal@x.com,\r\n"  # row 4: a missing name
        "Bo,Li,pаypal@x.com,\r\n"  # row 5: like row 4 only
        "Cy,Xu,rn@x.com,Nowhere\r\n"  # row 6: an unknown organization
        "Di,Ng,m@x.com,\r\n"  # row 7: like row 6
    ).encode()

    preview = prepare(data, actor=ROOT, orgs=ORGS, store=MemoryStore())
    assert list(warnings_of(preview.rows)) == [6, 7]

    revised = revise(preview, drop=[6], actor=ROOT, orgs=ORGS, store=MemoryStore())
    assert warnings_of(revised.rows) == {}
    fixed = revise(
        preview,
        edits={4: {"first_name": "Ed"}},
        actor=ROOT,
        orgs=ORGS,
        store=MemoryStore(),
    )
    assert list(warnings_of(fixed.rows)) == [4, 5, 6, 7]


def test_validate_user_warns_of_a_look_alike_of_a_visible_user() -> None:
    """The single-user form gets the warning too, without a row number."""
    store = MemoryStore([user("1", "paypal@x.com", "es")])
    values = {"first_name": "Ana", "last_name": "Gil", "email": "pаypal@x.com"}

    reviewed = validate_user(values, actor=SPAIN, orgs=ORGS, store=store)

    assert reviewed.action is Action.CREATE
    assert list(warnings_of([reviewed])) == [None]


def test_the_warning_is_said_in_spanish() -> None:
    """The message, its look-alikes and its differences are all said in Spanish."""
    store = MemoryStore([user("1", "paypal@x.com", "es")])
    options = ImportOptions(locale="es")

    preview = prepare(
        upload("pаypal@x.com", "rn@x.com", "m@x.com"),
        actor=SPAIN,
        orgs=ORGS,
        store=store,
        options=options,
    )

    found = warnings_of(preview.rows)
    assert found[2][0].message == (
        "Este correo electrónico se parece a “paypal@x.com”, el correo electrónico "
        "de un usuario existente, pero es una dirección distinta (“а” U+0430 en "
        "lugar de “a” U+0061); comprueba que sea la que quieres."
    )
    assert "“m@x.com” de la fila 4" in found[3][0].message
    for issues in found.values():
        assert issues[0].message[0] not in FORMULA_TRIGGERS


def test_a_look_alike_created_after_the_review_does_not_stop_the_commit() -> None:
    """Done writes what was reviewed: a look-alike user created since the review
    adds a warning to the review of now, and changes nothing that is written, so
    the commit goes through; the review again shows the warning."""
    store = MemoryStore()
    preview = prepare(upload("pаypal@x.com"), actor=SPAIN, orgs=ORGS, store=store)
    assert warnings_of(preview.rows) == {}
    store.apply([UserWrite(UserRow("Bo", "Li", "paypal@x.com", "es"))])

    again = revise(preview, actor=SPAIN, orgs=ORGS, store=store)
    result = commit(preview, actor=SPAIN, orgs=ORGS, store=store)

    assert list(warnings_of(again.rows)) == [2]
    assert [stored.email for stored in result.users] == ["pаypal@x.com"]


def test_a_reviewed_warning_commits_as_reviewed() -> None:
    """Rows with the warning are written as reviewed."""
    store = MemoryStore([user("1", "paypal@x.com", "es")])
    preview = prepare(
        upload("pаypal@x.com", "rn@x.com", "m@x.com"),
        actor=SPAIN,
        orgs=ORGS,
        store=store,
    )
    assert len(warnings_of(preview.rows)) == 3

    result = commit(preview, actor=SPAIN, orgs=ORGS, store=store)

    assert result.created == 3


LOCAL = st.text(alphabet="abcdeilmnoprxy", min_size=1, max_size=10)


@given(LOCAL, st.data())
def test_a_look_alike_substitution_warns_on_both_rows(
    local: str, data: st.DataObject
) -> None:
    """For any address and any look-alike substitution of some of its letters, the
    two rows each get one warning naming the other; the same address in another
    case is the same user and gets none."""
    places = [index for index, char in enumerate(local) if char in LOOK_ALIKES]
    assume(places)
    chosen = data.draw(st.sets(st.sampled_from(places), min_size=1))
    other = "".join(
        LOOK_ALIKES[char] if index in chosen else char
        for index, char in enumerate(local)
    )
    emails = [f"{local}@x.com", f"{other}@x.com", f"{local.upper()}@x.com"]

    preview = prepare(upload(*emails), actor=ROOT, orgs=ORGS, store=MemoryStore())

    found = warnings_of(preview.rows)
    assert list(found) == [2, 3, 4]
    assert [len(issues) for issues in found.values()] == [1, 1, 1]
    assert "in row 3" in found[2][0].message
    assert "in row 2" in found[3][0].message
    assert "in row 3" in found[4][0].message  # the duplicate of row 2


SCRAMBLED = st.text(alphabet="aаrnm1lοo0", min_size=1, max_size=4)


@given(st.lists(SCRAMBLED, min_size=1, max_size=8), st.lists(SCRAMBLED, max_size=8))
def test_a_row_warns_exactly_when_its_skeleton_is_another_keys(
    rows: list[str], users: list[str]
) -> None:
    """Differential: a row gets the warning exactly when another row, or a visible
    user, has a different key and the same skeleton (the plain definition); no
    invisible user ever counts."""
    keys = [email_key(f"{local}@x.com") for local in rows]
    visible = {email_key(f"{local}@x.com") for local in users[::2]}
    hidden = {email_key(f"{local}@x.com") for local in users[1::2]} - visible
    stored = [user(f"v{n}", key, "es") for n, key in enumerate(sorted(visible))]
    stored += [user(f"h{n}", key, "fr") for n, key in enumerate(sorted(hidden))]

    preview = prepare(
        upload(*(f"{local}@x.com" for local in rows)),
        actor=SPAIN,
        orgs=ORGS,
        store=MemoryStore(stored),
    )

    expected = {
        row
        for row, key in enumerate(keys, 2)
        if any(k != key and skeleton(k) == skeleton(key) for k in [*keys, *visible])
    }
    assert set(warnings_of(preview.rows)) == expected


@pytest.mark.parametrize(
    ("emails", "difference"),
    [
        # A combining grapheme joiner shows nothing: its code point only.
        (["pay\u034fpal@x.com", "paypal@x.com"], "(an extra U+034F)"),
        (["paypal@x.com", "pay\u034fpal@x.com"], "(without U+034F)"),
        # A long run: its code points cut after four.
        (
            ["раураl@x.com", "paypal@x.com"],
            "(“раура” U+0440 U+0430 U+0443 U+0440 … instead of “paypa” U+0070 "
            "U+0061 U+0079 U+0070 …)",
        ),
        # Three differences, then an ellipsis.
        (
            ["а.а.а.а@x.com", "a.a.a.a@x.com"],
            "(“а” U+0430 instead of “a” U+0061, “а” U+0430 instead of “a” U+0061, "
            "“а” U+0430 instead of “a” U+0061, …)",
        ),
    ],
)
def test_the_message_shows_how_the_emails_differ(
    emails: list[str], difference: str
) -> None:
    """The differing characters are quoted when they show, with their code points."""
    preview = prepare(upload(*emails), actor=ROOT, orgs=ORGS, store=MemoryStore())

    assert difference in warnings_of(preview.rows)[2][0].message


class FailingStore(MemoryStore):
    """A MemoryStore whose look-up of look-alikes fails as a database driver
    would, or with the library's own error."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def find_look_alikes(
        self, likenesses: Collection[str], org_ids: Collection[str]
    ) -> Sequence[StoredUser]:
        raise self.error


class FailingListing:
    """A store without ``find_look_alikes`` whose listing fails."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.store = MemoryStore()

    def find_by_keys(self, keys: Collection[str]) -> Mapping[str, StoredUser]:
        return self.store.find_by_keys(keys)

    def list_users(self, org_ids: Collection[str]) -> Sequence[StoredUser]:
        raise self.error

    def apply(self, writes: Sequence[UserWrite]) -> Sequence[StoredUser]:
        return self.store.apply(writes)


@pytest.mark.parametrize("failing", [FailingStore, FailingListing])
def test_a_store_failing_to_find_look_alikes_is_a_store_error(
    failing: Callable[[Exception], UserStore],
) -> None:
    """A foreign failure while looking for look-alikes (the store's look-up or the
    listing of a store without one) is a ``StoreError``; the library's own errors
    pass as they are."""
    data = upload("ana@x.com")

    with pytest.raises(StoreError, match="look-alike emails: disk on fire") as failed:
        prepare(data, actor=ROOT, orgs=ORGS, store=failing(OSError("disk on fire")))
    assert say(failed.value.args[0], "es") == (
        "El almacén de usuarios falló al buscar correos electrónicos parecidos: "
        "disk on fire"
    )
    with pytest.raises(CommitConflict):
        prepare(data, actor=ROOT, orgs=ORGS, store=failing(CommitConflict("x")))
