"""Built Brains kept on disk, so that a restarted or added worker reads one instead of building it.

A build takes seconds of CPU; reading the pickle of the same Brain takes a fraction of that. A file is
named by the knowledge's key (a digest of its topics and briefings) and by a fingerprint of the code
that builds and reads a Brain (its modules and data files, the format, Python's and the libraries'
versions): a Brain pickled by other code is never read. Files are written atomically (a temp file, then
a rename) and private (0600); each starts with a digest of its payload, so a truncated or damaged file
is found before unpickling, removed, and the Brain rebuilt. The folder is the process's own data
directory, trusted as its Redis data is: pickle must never read files anyone else can write.
"""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from bot.understanding.brain import Brain

log = logging.getLogger(__name__)
FORMAT = 1              # raise when the file layout changes
KEEP = 4                # files kept: the live version, a rollback or two, and another code version's
STALE = 300             # seconds after which a temp file is no write in progress
_DIGEST = 32
# Everything a Brain is made by: the knowledge's loading and checks (passages use gap_holes) as well.
_CODE = [Path(__file__).parent, Path(__file__).parent.parent / "knowledge"]


def code_fingerprint() -> str:
    """What must be equal for a stored Brain to be read: the code and data that make and use it."""
    h = hashlib.sha256(f"{FORMAT} {sys.version} {version('numpy')} {version('jieba')}".encode())
    for path in sorted(p for root in _CODE for p in root.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".txt"):
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


class StoredBrains:
    def __init__(self, folder: Path):
        self.folder = folder
        self._code = code_fingerprint()
        self.reads = self.writes = 0        # Brains read from and written to disk, for tests and logs

    def path(self, key: str) -> Path:
        return self.folder / f"brain-{key}-{self._code}.pickle"

    def read(self, key: str) -> Brain | None:
        """The stored Brain for `key`, or None when there is none or it is damaged (then it is removed)."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            brain = _unpack(data)
        except Exception as exc:         # noqa: BLE001 — whatever is wrong with the file, a build replaces it
            log.warning("stored brain %s unreadable (%s): building it again", path.name, exc)
            path.unlink(missing_ok=True)
            return None
        self.reads += 1
        log.info("brain read from %s", path.name)
        return brain

    def write(self, key: str, brain: Brain) -> None:
        """Store `brain` for `key`; a failure (disk full, read-only) only costs the next start a build."""
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            payload = pickle.dumps(brain, protocol=pickle.HIGHEST_PROTOCOL)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".brain-", suffix=".tmp")   # mode 0600
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(hashlib.blake2b(payload, digest_size=_DIGEST).digest() + payload)
                os.replace(tmp, self.path(key))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except (OSError, pickle.PicklingError) as exc:
            log.warning("could not store the brain for %s: %s", key, exc)
            return
        self.writes += 1
        self._prune()

    def _prune(self) -> None:
        """Keep the newest KEEP files: older versions and other code's are rebuilt should they return.
        A temp file left by a process stopped mid-write goes once it is surely not being written."""
        try:
            files = sorted(((p.stat().st_mtime, p) for p in self.folder.glob("brain-*.pickle")), reverse=True)
            stale = [p for p in self.folder.glob(".brain-*.tmp") if time.time() - p.stat().st_mtime > STALE]
            for old in [p for _, p in files[KEEP:]] + stale:
                old.unlink(missing_ok=True)
        except OSError:              # another worker pruning at the same moment
            pass


def _unpack(data: bytes) -> Brain:
    digest, payload = data[:_DIGEST], data[_DIGEST:]
    if hashlib.blake2b(payload, digest_size=_DIGEST).digest() != digest:
        raise ValueError("its digest does not match its contents")
    brain = pickle.loads(payload)
    if not isinstance(brain, Brain):
        raise TypeError(f"it holds a {type(brain).__name__}")
    return brain
