"""The confinement of personal reply template paths, property-based (hypothesis): whatever path an API caller
sends, it is refused (``Invalid``) or names a place inside the base directory, and writing through it on disk
creates nothing outside the templates' root."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from callyard.core.contact_center.personal_templates import DiskFiles, MemoryFiles, confine
from callyard.core.errors import CoreError, Invalid

PIECES = st.sampled_from(["..", ".", "", "a", "b.txt", "/", "\\", "C:", "\x00", "\n", " ", "x" * 300, "é", "~",
                          "%2e%2e", "..."])
PATHS = st.one_of(st.text(max_size=40), st.lists(PIECES, max_size=8).map("".join),
                  st.lists(st.sampled_from(["..", "a", "b", "."]), max_size=6).map("/".join))


@given(PATHS)
@settings(max_examples=400, deadline=None)
def test_a_path_is_refused_or_stays_inside(path: str) -> None:
    try:
        parts = confine(path)
    except Invalid:
        return
    base = Path("/base")
    target = base.joinpath(*parts)
    assert parts and all(p not in (".", "..") and "/" not in p and "\\" not in p and "\x00" not in p for p in parts)
    assert os.path.normpath(target).startswith("/base/")


@given(st.lists(PATHS, min_size=1, max_size=5))
@settings(max_examples=60, deadline=None)
def test_writing_on_disk_creates_nothing_outside(paths: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "replytemplates"
        (Path(tmp) / "outside").mkdir()
        os.makedirs(root / "acct" / "emp")
        os.symlink(Path(tmp) / "outside", root / "acct" / "emp" / "Chat")   # even a planted link at the base
        files = DiskFiles(root)
        base = ("acct", "emp", "Email")
        for path in paths:
            try:
                files.write(base, confine(path), "text")
            except CoreError:
                pass
            with pytest.raises(Invalid):
                files.write(("acct", "emp", "Chat"), ("x.txt",), "text")
        assert list((Path(tmp) / "outside").iterdir()) == []
        for found in Path(tmp).rglob("*"):   # every file and folder is in the root (the link is the planted one)
            assert found.is_relative_to(root) or found == Path(tmp) / "outside"
            assert not found.is_symlink() or found == root / "acct" / "emp" / "Chat"


def test_memory_and_disk_agree(tmp_path: Path) -> None:
    for files in (MemoryFiles(), DiskFiles(tmp_path / "t")):
        base = ("a", "e", "Chat")
        files.write(base, ("Billing", "refund.txt"), "5 days")
        files.write(base, ("hello.txt",), "hi")
        assert files.files(base) == [("Billing", "refund.txt"), ("hello.txt",)]
        assert files.folders(base) == {"Billing": {}}
        assert files.read(base, ("Billing", "refund.txt")) == "5 days" and files.read(base, ("nope",)) is None
        assert files.is_folder(base, ("Billing",)) and not files.is_folder(base, ("hello.txt",))
        with pytest.raises(Invalid):
            files.write(base, ("hello.txt", "inside-a-file.txt"), "x")
        with pytest.raises(Invalid):
            files.write(base, ("Billing",), "a folder is not a file")
        assert files.remove(base, ("hello.txt",)) and not files.remove(base, ("hello.txt",))
        files.wipe("a")
        assert files.files(base) == []
