"""The people side: users (with an admin flag), groups, queues and who belongs to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from orchlab.errors import DirectoryError

__all__ = ["Routing", "User", "Group", "Queue", "Directory", "DirectoryError"]


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


@dataclass
class Directory:
    """Who is who. The engine reads it; the store persists it."""

    users: dict[str, User] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    queues: dict[str, Queue] = field(default_factory=dict)
    _emails: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict, repr=False)

    def add_user(
        self, username: str, name: str = "", email: str = "", *, admin: bool = False
    ) -> User:
        if not username or not username.strip():
            raise DirectoryError("user: field 'username' is empty; expected a username")
        self._emails.clear()
        user = User(username, name or username, email or f"{username}@example.com", admin)
        self.users[username] = user
        return user

    def _members(
        self, kind: str, name: str, members: list[str] | tuple[str, ...]
    ) -> tuple[str, ...]:
        unknown = [m for m in members if m not in self.users]
        if unknown:
            raise DirectoryError(
                f"{kind} {name!r}: field 'members' names unknown users {unknown}; "
                "expected usernames added with add_user()"
            )
        return tuple(members)

    def add_group(
        self, name: str, members: list[str] | tuple[str, ...] = (), label: str = ""
    ) -> Group:
        self._emails.clear()
        group = Group(name, self._members("group", name, members), label or name)
        self.groups[name] = group
        return group

    def add_queue(
        self,
        name: str,
        members: list[str] | tuple[str, ...] = (),
        routing: Routing | str = Routing.POOL,
        label: str = "",
        email: str = "",
    ) -> Queue:
        self._emails.clear()
        queue = Queue(
            name, self._members("queue", name, members), Routing(routing), label or name, email
        )
        self.queues[name] = queue
        return queue

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
