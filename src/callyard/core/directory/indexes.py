"""Look-ups the UC and CX families address the directory by: users by login and by extension within an
account, accounts by domain.

Login rule (UC's ``{domain}/{user}``, CX's username): a login names the user of the account whose e-mail
address is that login, or whose e-mail's local part (before ``@``) is that login — both compared without
regard to case. A login with an ``@`` is only ever compared with whole addresses, one without only with
local parts. Whole addresses are unique within an account; a local part shared by two users of an account
(``ada@acme.example`` and ``ada@partner.example``) names neither of them.

Extensions are compared as written (they are digit strings, unique within an account). Domains are
compared without regard to case.

Each index is rebuilt from the documents, in one pass, the first time it is read after a document of its
kind changed (``State.generation``: any write, delete, rollback, reset or snapshot import); reads in
between are dictionary look-ups.
"""
from __future__ import annotations

from typing import Any, Generic, TypeVar
from collections.abc import Callable

from callyard.core.state import State

T = TypeVar("T")


class _Lazy(Generic[T]):
    """A value derived from the documents of one kind (or of several), rebuilt when a generation moves."""

    def __init__(self, state: State, kind: str | tuple[str, ...], build: Callable[[], T]) -> None:
        self.state, self.build = state, build
        self.kinds = (kind,) if isinstance(kind, str) else kind
        self._built_at: int | tuple[int, ...] | None = None
        self._value: T | None = None

    def get(self) -> T:
        kinds, state = self.kinds, self.state
        generation = state.generation(kinds[0]) if len(kinds) == 1 else tuple(map(state.generation, kinds))
        if self._built_at != generation or self._value is None:
            self._value = self.build()
            self._built_at = generation
        return self._value


Lazy = _Lazy   # for the services that keep a look-up of their own over the documents


_AMBIGUOUS: dict[str, Any] = {}  # marks a local part two users of one account share


class DirectoryIndexes:
    def __init__(self, state: State) -> None:
        self.state = state
        self._logins = _Lazy(state, "user", self._build_logins)
        self._extensions = _Lazy(state, "user", self._build_extensions)
        self._domains = _Lazy(state, "account", self._build_domains)

    # ------------------------------------------------------------------ builders
    def _build_logins(self) -> dict[tuple[str, str], dict[str, Any]]:
        emails: dict[tuple[str, str], dict[str, Any]] = {}
        local_parts: dict[tuple[str, str], dict[str, Any]] = {}
        for user in self.state.all("user"):
            email = user.get("email")
            if not isinstance(email, str) or "@" not in email:
                continue
            account_id = user["accountId"]
            email = email.lower()
            emails[(account_id, email)] = user
            key = (account_id, email.rsplit("@", 1)[0])
            local_parts[key] = _AMBIGUOUS if key in local_parts else user
        local_parts = {key: user for key, user in local_parts.items() if user is not _AMBIGUOUS}
        return {**local_parts, **emails}  # keys cannot clash: only whole addresses hold an "@"

    def _build_extensions(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {(user["accountId"], user["extension"]): user for user in self.state.all("user")
                if isinstance(user.get("extension"), str) and user["extension"]}

    def _build_domains(self) -> dict[str, dict[str, Any]]:
        return {account["domain"].lower(): account for account in self.state.all("account")
                if isinstance(account.get("domain"), str)}

    # ------------------------------------------------------------------ look-ups
    def user_by_login(self, account_id: str, login: str) -> dict[str, Any] | None:
        if not isinstance(login, str) or not login:
            return None
        return self._logins.get().get((account_id, login.lower()))

    def user_by_extension(self, account_id: str, extension: str) -> dict[str, Any] | None:
        return self._extensions.get().get((account_id, extension))

    def account_by_domain(self, domain: str) -> dict[str, Any] | None:
        if not isinstance(domain, str):
            return None
        return self._domains.get().get(domain.lower())

    def resolve_user_address(self, address: str) -> dict[str, Any] | None:
        """A UC address ``{domain}/{user}`` (``acme.example/ada``): the user that login names in the account
        with that domain, or None."""
        if not isinstance(address, str) or "/" not in address:
            return None
        domain, login = address.split("/", 1)
        account = self.account_by_domain(domain)
        return None if account is None else self.user_by_login(account["accountId"], login)
