"""Private files and folders: what the bridge writes is readable by its own user only.

Every file the bridge creates is made here: ``0600``, under a random name that did not
exist (``O_EXCL``), never through a symlink (``O_NOFOLLOW``). Folders are ``0700``.
``atomic_file`` is the one atomic write (fsynced, renamed into place). ``open_tree``
walks a folder path one component at a time with ``O_NOFOLLOW``, so a symlink planted
anywhere below a root is refused rather than followed out of it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

FILE_MODE = 0o600
DIR_MODE = 0o700
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class SymlinkRefused(OSError):
    """A path component is a symlink (or not a folder) where a real folder is needed."""


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) and make it ``0700``; returns ``path``.

    Only the leaf is made private: an operator may share a parent on purpose. A leaf
    that is a symlink is refused.
    """
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if path.is_symlink() or not path.is_dir():
        raise SymlinkRefused(errno.ENOTDIR, "not a real folder", str(path))
    os.chmod(path, DIR_MODE)
    return path


def temp_name(final_name: str) -> str:
    """A random hidden name beside ``final_name`` (``.{name}.{random}.tmp``)."""
    return f".{final_name}.{secrets.token_hex(8)}.tmp"


def create_private(path: Path | str, *, dir_fd: int | None = None) -> int:
    """A new file, ``0600``, that did not exist and is no symlink; returns its descriptor."""
    return os.open(path, _CREATE, FILE_MODE, dir_fd=dir_fd)


def create_temp_beside(final: Path) -> tuple[int, Path]:
    """``create_private`` under a random name in ``final``'s folder: ``(fd, path)``."""
    for _ in range(16):
        path = final.with_name(temp_name(final.name))
        try:
            return create_private(path), path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(final))


def create_temp_in(folder_fd: int, final_name: str) -> tuple[int, str]:
    """``create_private`` under a random name in the folder ``folder_fd``: ``(fd, name)``."""
    for _ in range(16):
        name = temp_name(final_name)
        try:
            return create_private(name, dir_fd=folder_fd), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", final_name)


@contextlib.contextmanager
def atomic_file(final: Path | str, *, dir_fd: int | None = None) -> Iterator[BinaryIO]:
    """``with atomic_file(final) as handle:`` - the one atomic write of the bridge.

    The handle writes a private temporary beside ``final`` (``create_temp_beside``; with
    ``dir_fd``, ``final`` is a name in that folder). On a clean exit the file is flushed,
    fsynced and renamed over ``final``, so a reader sees the old file or the whole new
    one, and a symlink planted at ``final`` is replaced, never written through; on an
    error the temporary is removed. Fsyncing the folder is the caller's (one per batch).
    """
    if dir_fd is None:
        fd, temp_path = create_temp_beside(Path(final))
        temp: Path | str = temp_path
    else:
        fd, temp = create_temp_in(dir_fd, os.fspath(final))
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, final, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp, dir_fd=dir_fd)


def write_private(final: Path | str, data: bytes, *, dir_fd: int | None = None) -> None:
    """``data`` at ``final``, atomically and fsynced (``atomic_file``)."""
    with atomic_file(final, dir_fd=dir_fd) as handle:
        handle.write(data)


def open_existing(path: Path, flags: int) -> int:
    """A file this process made earlier, opened again (``flags``: ``os.O_WRONLY |
    os.O_APPEND``, ``os.O_RDWR``...) without following a symlink swapped in since: that
    raises ``OSError`` (``ELOOP``)."""
    return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC)


def open_tree(root: Path, parts: Iterable[str], *, create: bool = True) -> int:
    """A descriptor of ``root/part/...`` reached without following any symlink below ``root``.

    ``root`` itself is the operator's choice and may be a link; it is created ``0700``
    when missing. Each component below it is opened with ``O_NOFOLLOW`` (created or made
    ``0700`` when ``create``); a symlink or a non-folder raises ``SymlinkRefused``.
    """
    if create:
        root.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts:
            if not part or part in {".", ".."} or "/" in part:
                raise SymlinkRefused(errno.EINVAL, "not a single path component", part)
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, DIR_MODE, dir_fd=fd)
            try:
                child = os.open(part, _DIR, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise SymlinkRefused(
                        exc.errno, "a symlink or a file where a folder belongs", part
                    ) from exc
                raise
            os.close(fd)
            fd = child
            if create:
                os.fchmod(fd, DIR_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def tree(root: Path, parts: Iterable[str], *, create: bool = True) -> Iterator[int]:
    """``with tree(root, [a, b]) as fd:`` - ``open_tree``, closed on exit."""
    fd = open_tree(root, parts, create=create)
    try:
        yield fd
    finally:
        os.close(fd)
