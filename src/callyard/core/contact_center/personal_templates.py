"""Personal reply templates: each employee's own folder tree of answer files, per media (Chat, Email, Sms), as
MiCC keeps them on a file share ("file-system based, legacy").

The files live in the twin's data directory, ``<data>/replytemplates/<accountId>/<employeeId>/<media>/``, or
in memory with ``--ephemeral``; never anywhere else. Every path from the API is relative to the employee's
base directory for that media and checked before anything is read or written (``confine``): no absolute path
or drive, no ``.`` or ``..`` part, no NUL or other control character, no part over 255 bytes, no path over
1024 characters; on disk, no part of the path may be a symbolic link (a link planted in the tree is refused,
not followed) and the resolved path must stay inside the base directory. ``/`` and ``\\`` both separate parts
(MiCC clients send Windows paths).

The operations name no employee: an employee reads and writes their own templates only; a client without
impersonation has none ("third party requests are denied"; impersonating an employee reaches theirs). A reset
of the twin or of an account removes the account's templates (``wipe``).
"""
from __future__ import annotations

import errno
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound

if TYPE_CHECKING:
    from callyard.core.contact_center.desk import Desk
    from callyard.core.principal import Principal

MEDIA = ("Chat", "Email", "Sms")
PART_MAX = 255
PATH_MAX = 1024
FILE_MAX = 256 * 1024
FILES_MAX = 1000          # files per employee and media


def confine(path: str, *, allow_root: bool = False) -> tuple[str, ...]:
    """The parts of a relative template path, or a 400 saying why it is refused."""
    if not isinstance(path, str):
        raise Invalid("InvalidPath", "the path is a string")
    if len(path) > PATH_MAX:
        raise Invalid("InvalidPath", f"the path is longer than {PATH_MAX} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise Invalid("InvalidPath", "the path contains a NUL or another control character")
    if path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        raise Invalid("InvalidPath", "the path is relative to the reply template base directory (no absolute "
                                     "path or drive)")
    parts = tuple(p for p in path.replace("\\", "/").split("/") if p != "")
    if not parts and not allow_root:
        raise Invalid("InvalidPath", "the path names no file")
    for part in parts:
        if part in (".", ".."):
            raise Invalid("InvalidPath", "the path may not contain . or .. (it stays inside the base directory)")
        if len(part.encode()) > PART_MAX:
            raise Invalid("InvalidPath", f"a part of the path is longer than {PART_MAX} bytes")
        if part != part.strip() or part.endswith("."):
            raise Invalid("InvalidPath", f"{part!r}: a name may not start or end with a space or end with a dot")
    return parts


class Files(Protocol):
    """Where the files are: a directory tree (``DiskFiles``) or memory (``MemoryFiles``). ``base`` is the
    employee's tree for one media, a tuple of already confined parts."""

    def describe(self, base: tuple[str, ...]) -> str: ...
    def folders(self, base: tuple[str, ...]) -> dict[str, Any]: ...
    def files(self, base: tuple[str, ...]) -> list[tuple[str, ...]]: ...
    def read(self, base: tuple[str, ...], parts: tuple[str, ...]) -> str | None: ...
    def is_folder(self, base: tuple[str, ...], parts: tuple[str, ...]) -> bool: ...
    def write(self, base: tuple[str, ...], parts: tuple[str, ...], text: str) -> None: ...
    def remove(self, base: tuple[str, ...], parts: tuple[str, ...]) -> bool: ...
    def wipe(self, account_id: str) -> None: ...
    def wipe_all(self) -> None: ...


@dataclass
class _Node:
    children: dict[str, "_Node"] = field(default_factory=dict)
    text: str | None = None        # a file when set

    @property
    def is_file(self) -> bool:
        return self.text is not None


class MemoryFiles:
    def __init__(self) -> None:
        self.root = _Node()

    def _walk(self, parts: tuple[str, ...], create: bool = False) -> _Node | None:
        node = self.root
        for part in parts:
            nxt = node.children.get(part)
            if nxt is None:
                if not create:
                    return None
                nxt = node.children[part] = _Node()
            if nxt.is_file and part != parts[-1]:
                return None
            node = nxt
        return node

    def describe(self, base: tuple[str, ...]) -> str:
        return "memory:/" + "/".join(base)

    def folders(self, base: tuple[str, ...]) -> dict[str, Any]:
        def tree(node: _Node) -> dict[str, Any]:
            return {name: tree(child) for name, child in sorted(node.children.items()) if not child.is_file}
        node = self._walk(base)
        return tree(node) if node is not None else {}

    def files(self, base: tuple[str, ...]) -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []

        def walk(node: _Node, at: tuple[str, ...]) -> None:
            for name, child in sorted(node.children.items()):
                if child.is_file:
                    out.append(at + (name,))
                else:
                    walk(child, at + (name,))
        node = self._walk(base)
        if node is not None:
            walk(node, ())
        return out

    def read(self, base: tuple[str, ...], parts: tuple[str, ...]) -> str | None:
        node = self._walk(base + parts)
        return node.text if node is not None and node.is_file else None

    def is_folder(self, base: tuple[str, ...], parts: tuple[str, ...]) -> bool:
        node = self._walk(base + parts)
        return node is not None and not node.is_file

    def write(self, base: tuple[str, ...], parts: tuple[str, ...], text: str) -> None:
        folder = self._walk(base + parts[:-1], create=True)
        if folder is None or folder.is_file:
            raise Invalid("InvalidPath", "a part of the path is a file, not a folder")
        existing = folder.children.get(parts[-1])
        if existing is not None and not existing.is_file:
            raise Invalid("InvalidPath", "the path is a folder")
        folder.children[parts[-1]] = _Node(text=text)

    def remove(self, base: tuple[str, ...], parts: tuple[str, ...]) -> bool:
        folder = self._walk(base + parts[:-1])
        if folder is None or parts[-1] not in folder.children:
            return False
        if folder.children[parts[-1]].children:
            raise Conflict("FolderNotEmpty", "the folder is not empty")
        del folder.children[parts[-1]]
        return True

    def wipe(self, account_id: str) -> None:
        self.root.children.pop(account_id, None)

    def wipe_all(self) -> None:
        self.root.children.clear()


class DiskFiles:
    """Files under ``root`` (created on first write). Each step of a path is opened relative to the one before
    with ``O_NOFOLLOW`` (``dir_fd``), so a symbolic link anywhere in the tree is refused rather than followed,
    and nothing is written outside ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self, base: tuple[str, ...]) -> str:
        return str(self.root.resolve().joinpath(*base))

    def _open_dir(self, parts: tuple[str, ...], create: bool) -> int | None:
        """A descriptor of the folder ``root/parts`` (None if missing and not ``create``)."""
        if create:
            self.root.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            return None
        for part in parts:
            try:
                try:
                    nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        return None
                    os.mkdir(part, 0o700, dir_fd=fd)
                    nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as error:
                if error.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                if stat.S_ISLNK(os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode):
                    raise Invalid("InvalidPath", f"{part!r} is a symbolic link (links are not followed)") from None
                if create:
                    raise Invalid("InvalidPath", f"{part!r} is a file, not a folder") from None
                return None
            finally:
                os.close(fd)
            fd = nxt
        return fd

    def _entries(self, fd: int) -> list[tuple[str, os.stat_result]]:
        out = []
        for name in sorted(os.listdir(fd)):
            try:
                out.append((name, os.stat(name, dir_fd=fd, follow_symlinks=False)))
            except FileNotFoundError:
                continue
        return out

    def folders(self, base: tuple[str, ...]) -> dict[str, Any]:
        def tree(fd: int) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name, info in self._entries(fd):
                if stat.S_ISDIR(info.st_mode):
                    child = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                    try:
                        out[name] = tree(child)
                    finally:
                        os.close(child)
            return out
        fd = self._open_dir(base, create=False)
        if fd is None:
            return {}
        try:
            return tree(fd)
        finally:
            os.close(fd)

    def files(self, base: tuple[str, ...]) -> list[tuple[str, ...]]:
        found: list[tuple[str, ...]] = []

        def walk(fd: int, at: tuple[str, ...]) -> None:
            for name, info in self._entries(fd):
                if stat.S_ISREG(info.st_mode):
                    found.append(at + (name,))
                elif stat.S_ISDIR(info.st_mode):
                    child = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                    try:
                        walk(child, at + (name,))
                    finally:
                        os.close(child)
        fd = self._open_dir(base, create=False)
        if fd is None:
            return []
        try:
            walk(fd, ())
        finally:
            os.close(fd)
        return found

    def read(self, base: tuple[str, ...], parts: tuple[str, ...]) -> str | None:
        fd = self._open_dir(base + parts[:-1], create=False)
        if fd is None:
            return None
        try:
            try:
                file_fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                return None
            except OSError as error:
                if error.errno == errno.ELOOP:
                    raise Invalid("InvalidPath", "the file is a symbolic link (links are not followed)") from None
                raise
            with os.fdopen(file_fd, "rb") as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    return None
                data = handle.read(FILE_MAX + 1)
            return data[:FILE_MAX].decode("utf-8", errors="replace")
        finally:
            os.close(fd)

    def is_folder(self, base: tuple[str, ...], parts: tuple[str, ...]) -> bool:
        fd = self._open_dir(base + parts, create=False)
        if fd is None:
            return False
        os.close(fd)
        return True

    def write(self, base: tuple[str, ...], parts: tuple[str, ...], text: str) -> None:
        fd = self._open_dir(base + parts[:-1], create=True)
        assert fd is not None
        try:
            try:
                info = os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                info = None
            if info is not None and not stat.S_ISREG(info.st_mode):
                raise Invalid("InvalidPath", "the path is a folder or a link, not a file")
            file_fd = os.open(parts[-1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600, dir_fd=fd)
            with os.fdopen(file_fd, "wb") as handle:
                handle.write(text.encode())
        finally:
            os.close(fd)

    def remove(self, base: tuple[str, ...], parts: tuple[str, ...]) -> bool:
        fd = self._open_dir(base + parts[:-1], create=False)
        if fd is None:
            return False
        try:
            try:
                info = os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                return False
            if stat.S_ISDIR(info.st_mode):
                try:
                    os.rmdir(parts[-1], dir_fd=fd)
                except OSError:
                    raise Conflict("FolderNotEmpty", "the folder is not empty") from None
            else:
                os.unlink(parts[-1], dir_fd=fd)
            return True
        finally:
            os.close(fd)

    @staticmethod
    def _remove_tree(target: Path) -> None:
        """Remove ``target`` and what it holds; links are removed, never followed (``shutil.rmtree`` works
        through directory descriptors on this platform)."""
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.exists():
            shutil.rmtree(target)

    def wipe(self, account_id: str) -> None:
        self._remove_tree(self.root.joinpath(*confine(account_id)))

    def wipe_all(self) -> None:
        if self.root.is_dir() and not self.root.is_symlink():
            for child in list(self.root.iterdir()):
                self._remove_tree(child)


class PersonalReplyTemplates:
    def __init__(self, desk: "Desk", files: Files | None = None) -> None:
        self.desk = desk
        self.files: Files = files or MemoryFiles()

    def attach(self, files: Files) -> None:
        """Where the files are kept (the server's data directory, or memory with ``--ephemeral``)."""
        self.files = files

    # ------------------------------------------------------------------ whose templates
    def _base(self, actor: "Principal", media: str) -> tuple[str, ...]:
        """The caller's own tree for ``media`` (the operations name no employee: always ``me``)."""
        if media not in MEDIA:
            raise NotFound("MediaNotFound", f"personal reply templates are for {', '.join(MEDIA)}")
        employee = self.desk.caller(actor).employee
        if employee is None:
            raise Forbidden("ThirdPartyDenied", "personal reply templates are an employee's; impersonate one "
                                                "(third party requests are denied)")
        return (employee["accountId"], employee["id"], media)

    # ------------------------------------------------------------------ reads (the seed's operations)
    def base_directory(self, actor: "Principal", media: str) -> str:
        return self.files.describe(self._base(actor, media))

    def folders(self, actor: "Principal", media: str) -> dict[str, Any]:
        """The folder tree: ``{label, path, children[], noLeaf}`` from the base directory down."""
        base = self._base(actor, media)

        def node(label: str, path: tuple[str, ...], tree: dict[str, Any]) -> dict[str, Any]:
            return {"label": label, "path": "/".join(path),
                    "children": [node(name, path + (name,), sub) for name, sub in tree.items()],
                    "noLeaf": bool(tree)}
        return node(media, (), self.files.folders(base))

    def templates(self, actor: "Principal", media: str) -> list[dict[str, Any]]:
        base = self._base(actor, media)
        out = []
        for parts in self.files.files(base):
            out.append({"path": "/".join(parts), "templateName": parts[-1],
                        "template": self.files.read(base, parts) or ""})
        return out

    def file_names(self, actor: "Principal", media: str) -> list[str]:
        return ["/".join(parts) for parts in self.files.files(self._base(actor, media))]

    def template(self, actor: "Principal", media: str, path: str) -> dict[str, Any]:
        base = self._base(actor, media)
        parts = confine(path)
        text = self.files.read(base, parts)
        if text is None:
            raise NotFound("ReplyTemplateNotFound", f"reply template {'/'.join(parts)} was not found")
        return {"path": "/".join(parts), "templateName": parts[-1], "template": text}

    def can_access_file(self, actor: "Principal", media: str, path: str) -> bool:
        base = self._base(actor, media)
        return self.files.read(base, confine(path)) is not None

    def can_access_directory(self, actor: "Principal", media: str, path: str) -> bool:
        base = self._base(actor, media)
        return self.files.is_folder(base, confine(path, allow_root=True))

    # ------------------------------------------------------------------ writes (the twin's addition)
    def save(self, actor: "Principal", media: str, path: str, text: str) -> dict[str, Any]:
        base = self._base(actor, media)
        parts = confine(path)
        if not isinstance(text, str):
            raise Invalid("InvalidTemplate", "template is a string")
        if len(text.encode()) > FILE_MAX:
            raise Invalid("TemplateTooLarge", f"a reply template is at most {FILE_MAX} bytes")
        if self.files.read(base, parts) is None and len(self.files.files(base)) >= FILES_MAX:
            raise Invalid("TooManyTemplates", f"at most {FILES_MAX} reply templates per media")
        self.files.write(base, parts, text)
        return {"path": "/".join(parts), "templateName": parts[-1], "template": text}

    def remove(self, actor: "Principal", media: str, path: str) -> None:
        base = self._base(actor, media)
        parts = confine(path)
        if not self.files.remove(base, parts):
            raise NotFound("ReplyTemplateNotFound", f"reply template {'/'.join(parts)} was not found")

    def wipe(self, account_id: str) -> None:
        self.files.wipe(account_id)
