"""Reading partners' files safely: hashing, gzip, and lines of bounded length."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from neighbourhood.errors import UserError

MAX_LINE_BYTES = 16 * 1024 * 1024  # no FHIR resource or CSV row is anywhere near this
MAX_BUNDLE_BYTES = 512 * 1024 * 1024
READ_BLOCK = 1024 * 1024


class FileRefused(UserError):  # noqa: N818 - reads as the sentence it is
    """A file that cannot be trusted as a whole: nothing from it is loaded."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        self.path, self.message, self.line = path, message, line
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(f"{where}: {message}")

    def __reduce__(self) -> tuple[type[FileRefused], tuple[Path, str, int | None]]:
        # Raised in a worker process, it must cross back to the parent whole: the default
        # pickling passes only the formatted text to __init__, which fails there, and the
        # parent would wait for ever on the dead worker.
        return FileRefused, (self.path, self.message, self.line)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(READ_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def open_binary(path: Path) -> BinaryIO:
    """The file's bytes, decompressed when it is gzip (by magic number, not by name)."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _gzip_failure(path: Path, error: Exception, line: int) -> FileRefused:
    if isinstance(error, EOFError):
        return FileRefused(
            path,
            f"the gzip stream ends early (after {line - 1:,} complete lines): "
            "the file is truncated; ask the partner to send it again",
            line,
        )
    return FileRefused(
        path, f"the file is not valid gzip ({error}); ask the partner to send it again", line
    )


def lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes without the newline) of a text file, gzip or not, in bounded memory.

    A line longer than :data:`MAX_LINE_BYTES` refuses the file: it cannot be a record.
    """
    number = 0
    with open_binary(path) as stream:
        try:
            while True:
                line = stream.readline(MAX_LINE_BYTES + 1)
                if not line:
                    return
                number += 1
                if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                    raise FileRefused(
                        path,
                        f"the line is longer than {MAX_LINE_BYTES // 2**20} MB; "
                        "no record is that long, so the file is not the "
                        "line-by-line format declared",
                        number,
                    )
                yield number, line.rstrip(b"\r\n")
        except (EOFError, OSError, zlib.error) as error:
            if isinstance(error, FileRefused):
                raise
            raise _gzip_failure(path, error, number + 1) from error


def blocks(path: Path, size: int = READ_BLOCK) -> Iterator[tuple[int, bytes]]:
    """(number of the first line, whole lines) of a text file, gzip or not, about ``size``
    bytes at a time: a worker splits the lines, so reading costs no Python per line.

    A line longer than :data:`MAX_LINE_BYTES` refuses the file, as in :func:`lines`.
    """
    number, carry = 1, b""
    with open_binary(path) as stream:
        try:
            for block in iter(lambda: stream.read(size), b""):
                data = carry + block if carry else block
                end = data.rfind(b"\n") + 1
                done, carry = data[:end], data[end:]
                if len(carry) > MAX_LINE_BYTES:
                    raise FileRefused(
                        path,
                        f"the line is longer than {MAX_LINE_BYTES // 2**20} MB; "
                        "no record is that long, so the file is not the "
                        "line-by-line format declared",
                        number + done.count(b"\n"),
                    )
                if done:
                    yield number, done
                    number += done.count(b"\n")
        except (EOFError, OSError, zlib.error) as error:
            if isinstance(error, FileRefused):
                raise
            raise _gzip_failure(path, error, number) from error
    if carry:
        yield number, carry


def whole(path: Path, limit: int = MAX_BUNDLE_BYTES) -> bytes:
    """All of a (possibly gzip) file, refusing one larger than ``limit`` once decompressed."""
    chunks, size = [], 0
    with open_binary(path) as stream:
        try:
            for block in iter(lambda: stream.read(READ_BLOCK), b""):
                size += len(block)
                if size > limit:
                    raise FileRefused(
                        path,
                        f"the file is larger than {limit // 2**20} MB; send "
                        "Bundles of fewer resources, or NDJSON",
                    )
                chunks.append(block)
        except (EOFError, OSError, zlib.error) as error:
            if isinstance(error, FileRefused):
                raise
            raise _gzip_failure(path, error, 1) from error
    return b"".join(chunks)


def files_of(location: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """The files of a source: the path itself, or the matching files in its directory."""
    if location.is_file():
        return [location]
    if not location.is_dir():
        raise UserError(f"{location} does not exist: check the source's path in sources.toml")
    found = sorted(p for p in location.iterdir() if p.is_file() and p.name.endswith(suffixes))
    if not found:
        raise UserError(f"{location} has no files ending {' or '.join(suffixes)}")
    return found
