"""Where the backup passphrase comes from: a file, the environment, or the operator's terminal."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from routecare.core.backup.archive import BackupError

ENVIRONMENT = "ROUTECARE_BACKUP_PASSPHRASE"
# The passphrase is all that protects the archive and the keys inside it. age's scrypt makes each
# guess cost about a second of a CPU, which is worth little against a short passphrase.
MIN_LENGTH = 12


def read_passphrase(path: str | None, *, confirm: bool) -> str:
    """From ``--passphrase-file``, ``ROUTECARE_BACKUP_PASSPHRASE``, the file named by
    ``ROUTECARE_BACKUP_PASSPHRASE_FILE``, or typed twice (``confirm``) or once at a terminal."""
    if path:
        return _from_file(Path(path))
    if value := os.environ.get(ENVIRONMENT):
        return value
    if file_name := os.environ.get(f"{ENVIRONMENT}_FILE"):
        return _from_file(Path(file_name))
    if sys.stdin is not None and sys.stdin.isatty():
        typed = getpass.getpass("Backup passphrase: ")
        if confirm and getpass.getpass("The same passphrase again: ") != typed:
            raise BackupError("the two passphrases differ")
        return typed
    raise BackupError(
        f"no passphrase: give --passphrase-file FILE, set {ENVIRONMENT} or {ENVIRONMENT}_FILE, "
        "or run the command at a terminal to type it"
    )


def _from_file(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BackupError(f"cannot read the passphrase file {path}: {error}") from error
    # `echo phrase > file` adds a line end that is not part of the passphrase.
    return text.rstrip("\r\n")


def check_strength(passphrase: str) -> None:
    if len(passphrase.strip()) < MIN_LENGTH:
        raise BackupError(
            f"the passphrase is too short: use at least {MIN_LENGTH} characters, e.g. four or "
            "five random words. It is all that protects the archive and the keys inside it."
        )
