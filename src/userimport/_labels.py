"""How messages name the user's fields and roles to a person.

In a sentence, a canonical column's id (``first_name``) or a role's value
(``manager``) reads as code; these are the words, said in the review's language
like the rest of a message. Kept apart from :mod:`userimport.schema`, whose value
classes load without the message catalogs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from userimport._messages import message
from userimport.schema import Role

__all__ = ["FIELD_NAMES", "ROLE_NAMES"]

#: Each canonical column as a message names it.
FIELD_NAMES: Final[Mapping[str, str]] = {
    "first_name": message("first name"),
    "last_name": message("last name"),
    "email": message("email"),
    "organization": message("organization"),
    "role": message("role"),
    "groups": message("groups"),
    "language": message("language"),
}

#: Each role as a message names it: its value in English; in Spanish the words its
#: files use (alumno, instructor, responsable, administrador).
ROLE_NAMES: Final[Mapping[Role, str]] = {
    Role.LEARNER: message("learner"),
    Role.INSTRUCTOR: message("instructor"),
    Role.MANAGER: message("manager"),
    Role.ADMIN: message("admin"),
}
