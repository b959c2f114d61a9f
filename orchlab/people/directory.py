"""Who is who: users (with an admin flag), groups, queues and who belongs to them.

Users, groups and queues share one namespace (an assignee is named by its name alone), and
`system` is reserved for the trusted actor (`orchlab.people.rights.SYSTEM`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from orchlab.errors import DirectoryError

__all__ = ["Routing", "User", "Group", "Queue", "Directory", "DirectoryError", "MAX_NAME"]

MAX_NAME = 255  # characters in a username, group or queue name (Salesforce: 80 for API names)
_RESERVED = "system"


class Routing(StrEnum):
    POOL = "pool"  # any member picks the item up (Salesforce's default)
    ROUND_ROBIN = "round_robin"  # Omni-Channel style: route to members in turn
    LEAST_OPEN = "least_open"  # route to the member with the fewest open items


@dataclass(frozen=True, slots=True)
class User:
    username: str
    name: str = ""
    email: str = ""
    is_admin: bool = False


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    members: tuple[str, ...] = ()
    label: str = ""


@dataclass(frozen=True, slots=True)
class Queue:
    name: str
    members: tuple[str, ...] = ()
    routing: Routing = Routing.POOL
    label: str = ""
    email: str = ""


def _name(kind: str, key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DirectoryError(f"{kind}: field {key!r} is {value!r}; expected a non-empty name")
    if len(value) > MAX_NAME or any(ord(c) < 32 for c in value) or value != value.strip():
        raise DirectoryError(
            f"{kind} {value[:40]!r}: field {key!r}: expected at most {MAX_NAME} characters, "
            "no control characters and no spaces at either end"
        )
    if value.lower() == _RESERVED:
        raise DirectoryError(
            f"{kind}: field {key!r}: {value!r} is reserved for the system actor; choose another"
        )
    return value


def _text(kind: str, key: str, value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_NAME or any(ord(c) < 32 for c in value):
        raise DirectoryError(
            f"{kind}: field {key!r} is {value!r}; expected text of at most {MAX_NAME} characters"
        )
    return value


@dataclass
class Directory:
    """Who is who. The engine reads it; the store persists it."""

    users: dict[str, User] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    queues: dict[str, Queue] = field(default_factory=dict)
    _emails: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict, repr=False)

    # --- checked entries: nothing changes until `put` --------------------------------------------

    def user(self, username: str, name: str = "", email: str = "", *, admin: bool = False) -> User:
        """A checked user entry (not yet added)."""
        username = _name("user", "username", username)
        where = f"user {username!r}"
        if not isinstance(admin, bool):
            raise DirectoryError(f"{where}: field 'admin' is {admin!r}; expected true or false")
        self._free(username, "User")
        return User(
            username,
            _text(where, "name", name) or username,
            _text(where, "email", email) or f"{username}@example.com",
            admin,
        )

    def group(self, name: str, members: Iterable[str] = (), label: str = "") -> Group:
        name = _name("group", "name", name)
        self._free(name, "Group")
        where = f"group {name!r}"
        return Group(name, self._members(where, members), _text(where, "label", label) or name)

    def queue(
        self,
        name: str,
        members: Iterable[str] = (),
        routing: Routing | str = Routing.POOL,
        label: str = "",
        email: str = "",
    ) -> Queue:
        name = _name("queue", "name", name)
        self._free(name, "Queue")
        where = f"queue {name!r}"
        try:
            routing = Routing(routing)
        except ValueError:
            allowed = ", ".join(r.value for r in Routing)
            raise DirectoryError(
                f"{where}: field 'routing' is {routing!r}; expected one of {allowed}"
            ) from None
        return Queue(
            name,
            self._members(where, members),
            routing,
            _text(where, "label", label) or name,
            _text(where, "email", email),
        )

    def _free(self, name: str, kind: str) -> None:
        """Users, groups and queues share names: an assignee is named by its name alone."""
        other = self.kind_of(name)
        if other is not None and other != kind:
            raise DirectoryError(
                f"{kind.lower()} {name!r}: the name is taken by a {other.lower()}; "
                "users, groups and queues need different names"
            )

    def _members(self, where: str, members: Iterable[str]) -> tuple[str, ...]:
        if isinstance(members, str) or not isinstance(members, Iterable):
            raise DirectoryError(
                f"{where}: field 'members' is {members!r}; expected a list of usernames"
            )
        found = tuple(members)
        unknown = [m for m in found if m not in self.users]
        if unknown:
            raise DirectoryError(
                f"{where}: field 'members' names unknown users {unknown}; "
                "expected usernames of the directory's users"
            )
        if len(set(found)) != len(found):
            raise DirectoryError(f"{where}: field 'members' names a user twice: {list(found)}")
        return found

    def put(self, entry: User | Group | Queue) -> None:
        """Add or replace a checked entry."""
        self._emails.clear()
        if isinstance(entry, User):
            self.users[entry.username] = entry
        elif isinstance(entry, Group):
            self.groups[entry.name] = entry
        else:
            self.queues[entry.name] = entry

    # --- the old one-step API (checked, then added) ----------------------------------------------

    def add_user(
        self, username: str, name: str = "", email: str = "", *, admin: bool = False
    ) -> User:
        user = self.user(username, name, email, admin=admin)
        self.put(user)
        return user

    def add_group(self, name: str, members: Iterable[str] = (), label: str = "") -> Group:
        group = self.group(name, members, label)
        self.put(group)
        return group

    def add_queue(
        self,
        name: str,
        members: Iterable[str] = (),
        routing: Routing | str = Routing.POOL,
        label: str = "",
        email: str = "",
    ) -> Queue:
        queue = self.queue(name, members, routing, label, email)
        self.put(queue)
        return queue

    def copy(self) -> Directory:
        return Directory(dict(self.users), dict(self.groups), dict(self.queues))

    # --- reading ---------------------------------------------------------------------------------

    def kind_of(self, name: str) -> str | None:
        """'User', 'Group' or 'Queue' (Salesforce's AssigneeType), or None if unknown."""
        if name in self.users:
            return "User"
        if name in self.groups:
            return "Group"
        if name in self.queues:
            return "Queue"
        return None

    def members_of(self, name: str, kind: str) -> tuple[str, ...]:
        if kind == "User":
            return (name,)
        if kind == "Group":
            return self.groups[name].members
        return self.queues[name].members

    def is_admin(self, username: str) -> bool:
        user = self.users.get(username)
        return bool(user and user.is_admin)

    def email_of(self, name: str, kind: str) -> list[str]:
        """Where notifications go: the user, or every member of a group or queue."""
        if kind == "Queue" and self.queues[name].email:
            return [self.queues[name].email]
        return [self.users[m].email for m in self.members_of(name, kind) if m in self.users]

    def emails(self, name: str, kind: str) -> tuple[str, ...]:
        """`email_of`, remembered until the directory changes (it is read for every work item)."""
        key = (name, kind)
        found = self._emails.get(key)
        if found is None:
            found = self._emails[key] = tuple(self.email_of(name, kind))
        return found
