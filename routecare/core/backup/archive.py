"""The backup archive, format version 1: a tar file whose members are encrypted with age.

    routecare-backup.json  plain, nothing secret: {"format": "routecare-backup", "version": 1}
    identity.age           the archive's own age X25519 identity, encrypted with the passphrase
    database.age           the database dump, encrypted to that identity
    keys.age               ROUTECARE_FIELD_KEYS and SECRET_KEY as JSON (absent with --without-keys)
    manifest.age           JSON: when, which database, migrations, records per model, and the
                           dump's size and SHA-256 (written last: the hash is known only then)

Why an identity in between: pyrage, the maintained binding of the Rust age library, encrypts
with a passphrase only in memory, but streams to an X25519 recipient, and a backup must never hold
a database of gigabytes in memory. The age command line opens a passphrase-protected identity
file by itself, so an operator can decrypt any member by hand:
``age -d -i identity.age database.age``. Each member is authenticated (age's header MAC and its
64 KiB STREAM chunks, the last one marked, so a truncated member fails), a fresh identity per
archive keeps members of two archives from being mixed, and the manifest's SHA-256 ties the dump
to it.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import pyrage
from pyrage import passphrase as age_passphrase
from pyrage import x25519

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

FORMAT = "routecare-backup"
VERSION = 1
HEADER = "routecare-backup.json"
IDENTITY = "identity.age"
DATABASE = "database.age"
KEYS = "keys.age"
MANIFEST = "manifest.age"
# Every member but the dump is small: a larger one is not ours, and is not read into memory.
SMALL_LIMIT = 16 * 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message tells the operator why."""


class ArchiveError(BackupError):
    """The file is not an archive this RouteCare can read."""


class WrongPassphraseError(ArchiveError):
    pass


class DamagedArchiveError(ArchiveError):
    pass


class ChunkReader(io.BufferedIOBase):
    """A readable stream over chunks that never returns more than asked (pyrage copies what
    ``read(n)`` returns into an n-byte buffer), hashing and counting what passes through."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._pending = bytearray()
        self._exhausted = False
        self.sha256 = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1, /) -> bytes:
        while not self._exhausted and (size is None or size < 0 or len(self._pending) < size):
            chunk = next(self._chunks, None)
            if chunk is None:
                self._exhausted = True
            else:
                self._pending += chunk
        wanted = len(self._pending) if size is None or size < 0 else size
        data = bytes(self._pending[:wanted])
        del self._pending[:wanted]
        self.sha256.update(data)
        self.size += len(data)
        return data


class SinkWriter(io.BufferedIOBase):
    """A writable stream that hashes and counts what it is given and passes it on to ``sink``.
    A failure of the sink is kept, so it is reported as itself, not as a damaged archive."""

    def __init__(self, sink: Callable[[bytes], object] | None) -> None:
        super().__init__()
        self._sink = sink
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.failure: BaseException | None = None

    def writable(self) -> bool:
        return True

    def write(self, buffer: ReadableBuffer, /) -> int:
        data = bytes(buffer)
        self.sha256.update(data)
        self.size += len(data)
        if self._sink is not None:
            try:
                self._sink(data)
            except BaseException as error:
                self.failure = error
                raise
        return len(data)


def _header(name: str, size: int, mtime: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = mtime
    info.mode = 0o600
    # GNU format writes any size (base-256 past 8 GiB) in the one 512-byte block, which is what
    # lets a streamed member's header be rewritten in place once its size is known.
    header = info.tobuf(tarfile.GNU_FORMAT, "utf-8", "strict")
    if len(header) != tarfile.BLOCKSIZE:
        raise ValueError(f"tar header of {name!r} is not one block")
    return header


class ArchiveWriter:
    """Writes the tar file. A streamed member's header is rewritten with its size afterwards, so
    the dump goes from the database to the file through the encryption, in constant memory."""

    def __init__(self, file: io.BufferedWriter, mtime: int) -> None:
        self._file = file
        self._mtime = mtime

    def add(self, name: str, data: bytes) -> None:
        self._file.write(_header(name, len(data), self._mtime))
        self._file.write(data)
        self._pad(len(data))

    def add_stream(self, name: str, write: Callable[[io.BufferedWriter], object]) -> int:
        start = self._file.tell()
        self._file.write(_header(name, 0, self._mtime))
        write(self._file)
        end = self._file.tell()
        size = end - start - tarfile.BLOCKSIZE
        self._file.seek(start)
        self._file.write(_header(name, size, self._mtime))
        self._file.seek(end)
        self._pad(size)
        return size

    def close(self) -> None:
        self._file.write(bytes(2 * tarfile.BLOCKSIZE))
        self._file.write(bytes(-self._file.tell() % tarfile.RECORDSIZE))

    def _pad(self, size: int) -> None:
        self._file.write(bytes(-size % tarfile.BLOCKSIZE))


def new_identity() -> x25519.Identity:
    return x25519.Identity.generate()


def seal_identity(identity: x25519.Identity, passphrase: str) -> bytes:
    return age_passphrase.encrypt(str(identity).encode("ascii"), passphrase)


def encrypt(data: bytes, identity: x25519.Identity) -> bytes:
    return pyrage.encrypt(data, [identity.to_public()])


def encrypt_stream(source: ChunkReader, out: io.BufferedWriter, identity: x25519.Identity) -> None:
    try:
        pyrage.encrypt_io(source, out, [identity.to_public()])
    except pyrage.EncryptError as error:  # how pyrage reports a failed read or write (disk full)
        raise OSError(str(error)) from error


def header_json() -> bytes:
    return json.dumps({"format": FORMAT, "version": VERSION}).encode()


@dataclass(frozen=True)
class OpenedArchive:
    """An archive whose passphrase opened it: its manifest and keys are read and authentic."""

    path: Path
    identity: x25519.Identity
    manifest: dict[str, Any]
    keys: dict[str, str] | None


@contextmanager
def _open_tar(path: Path) -> Iterator[tarfile.TarFile]:
    if not path.is_file():
        raise ArchiveError(f"{path}: no such file")
    try:
        tar = tarfile.open(path, mode="r:")  # noqa: SIM115 - closed by the with below
    except (tarfile.TarError, OSError) as error:
        raise ArchiveError(
            f"{path.name} is not a RouteCare backup archive (it is not a tar file)"
        ) from error
    with tar:
        try:
            yield tar
        except tarfile.TarError as error:
            raise DamagedArchiveError(
                f"{path.name} is cut short or damaged ({error}); was it copied completely?"
            ) from error


def _member(tar: tarfile.TarFile, name: str, *, small: bool) -> IO[bytes]:
    try:
        member = tar.getmember(name)
    except KeyError:
        if name == HEADER:
            raise ArchiveError(
                f"{Path(str(tar.name)).name} is not a RouteCare backup archive (no {HEADER})"
            ) from None
        raise DamagedArchiveError(
            f"the archive is incomplete: {name} is missing (was it cut short while copied?)"
        ) from None
    if not member.isfile() or (small and member.size > SMALL_LIMIT):
        raise DamagedArchiveError(f"{name} in the archive is not what RouteCare writes")
    content = tar.extractfile(member)
    if content is None:  # pragma: no cover - isfile() was checked
        raise DamagedArchiveError(f"{name} cannot be read")
    return content


def _small(tar: tarfile.TarFile, name: str) -> bytes:
    return _member(tar, name, small=True).read()


def _json(data: bytes, name: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError as error:
        raise DamagedArchiveError(f"{name} in the archive is not valid JSON") from error
    if not isinstance(value, dict):
        raise DamagedArchiveError(f"{name} in the archive is not what RouteCare writes")
    return value


def _check_header(header: dict[str, Any], name: str) -> int:
    version = header.get("version")
    if header.get("format") != FORMAT or not isinstance(version, int) or version < 1:
        raise ArchiveError(f"{name} is not a RouteCare backup archive")
    if version > VERSION:
        raise ArchiveError(
            f"{name} is a format {version} archive, made by a newer RouteCare; this one reads "
            f"format {VERSION}: restore it with a RouteCare at least as new as the one that made it"
        )
    return version


def _decrypt(tar: tarfile.TarFile, name: str, identity: x25519.Identity) -> bytes:
    try:
        return pyrage.decrypt(_small(tar, name), [identity])
    except pyrage.DecryptError as error:
        raise DamagedArchiveError(
            f"{name} does not authenticate: the archive was changed or damaged"
        ) from error


def open_archive(path: Path, passphrase: str) -> OpenedArchive:
    """Check the archive's format, open it with the passphrase, read its manifest and keys."""

    def unlock(sealed: bytes) -> x25519.Identity:
        try:
            identity_text = age_passphrase.decrypt(sealed, passphrase)
        except pyrage.DecryptError as error:
            raise WrongPassphraseError(
                "wrong passphrase: it does not open this archive (if you are sure of it, the "
                f"archive's {IDENTITY} was changed or damaged)"
            ) from error
        try:
            return x25519.Identity.from_str(identity_text.decode("ascii"))
        except (pyrage.IdentityError, UnicodeDecodeError, ValueError) as error:
            raise DamagedArchiveError(f"{IDENTITY} does not hold an age identity") from error

    return _open(path, unlock)


def reopen_archive(path: Path, identity: x25519.Identity, sealed: bytes) -> OpenedArchive:
    """Read back an archive just written, whose identity is still known: its identity.age must
    be the bytes written (so the passphrase opens it) and everything else must decrypt."""

    def unlock(stored: bytes) -> x25519.Identity:
        if stored != sealed:
            raise DamagedArchiveError(f"{IDENTITY} did not reach the disk as written")
        return identity

    return _open(path, unlock)


def _open(path: Path, unlock: Callable[[bytes], x25519.Identity]) -> OpenedArchive:
    with _open_tar(path) as tar:
        version = _check_header(_json(_small(tar, HEADER), HEADER), path.name)
        # A copy cut short is told apart before the passphrase costs its second of scrypt.
        for name in (IDENTITY, DATABASE, MANIFEST):
            _member(tar, name, small=name != DATABASE)
        identity = unlock(_small(tar, IDENTITY))
        manifest = _json(_decrypt(tar, MANIFEST, identity), MANIFEST)
        if (manifest.get("format"), manifest.get("version")) != (FORMAT, version):
            raise DamagedArchiveError("the archive's header and manifest disagree: it was changed")
        keys = None
        if manifest.get("keys", {}).get("included"):
            raw = _decrypt(tar, KEYS, identity)
            if hashlib.sha256(raw).hexdigest() != manifest["keys"].get("sha256"):
                raise DamagedArchiveError(f"{KEYS} is not the one the manifest describes")
            keys = cast(dict[str, str], _json(raw, KEYS))
    return OpenedArchive(path=path, identity=identity, manifest=manifest, keys=keys)


def decrypt_database(opened: OpenedArchive, sink: Callable[[bytes], object] | None) -> None:
    """Stream the dump to ``sink`` (or only check it), chunk by authenticated chunk; at the end,
    check its size and SHA-256 against the manifest. Until this returns, nothing read is known
    to be whole: callers apply the dump only afterwards, or inside a transaction."""
    expected = opened.manifest.get("database", {})
    writer = SinkWriter(sink)
    with _open_tar(opened.path) as tar:
        source = _member(tar, DATABASE, small=False)
        try:
            pyrage.decrypt_io(cast(io.BufferedIOBase, source), writer, [opened.identity])
        except (pyrage.DecryptError, OSError, tarfile.TarError) as error:
            if writer.failure is not None:
                raise writer.failure from None
            raise DamagedArchiveError(
                f"{DATABASE} does not authenticate: the archive was changed, damaged or cut short"
            ) from error
    if writer.size != expected.get("bytes") or writer.sha256.hexdigest() != expected.get("sha256"):
        raise DamagedArchiveError(
            f"{DATABASE} is not the dump the manifest describes: the archive was changed"
        )
