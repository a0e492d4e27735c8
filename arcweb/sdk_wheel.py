"""Our SDK as a wheel, served by the server itself: `pip install "arc-eval-sdk @ <server>/sdk/<wheel>"`.

The distribution `arc-eval-sdk` is not on PyPI (and `arc-eval` there is an unrelated project), so the one
install command that works for every user is the one pointing at the server they send traces to. The SDK is
pure Python with no dependencies: its wheel is a zip of the package plus the metadata pip reads (PEP 427,
core metadata 2.1), built from sdk/ and rebuilt when a file there changes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import threading
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed, so one source gives byte-identical wheels (pip caches by hash)


@dataclass(frozen=True)
class Wheel:
    filename: str
    content: bytes


class SdkMissing(Exception):
    """This installation has no sdk/ folder to build the wheel from."""


_lock = threading.Lock()
_cache: dict[tuple, Wheel] = {}


def sdk_dir() -> Path:
    return Path(settings.BASE_DIR) / "sdk"


def sdk_wheel() -> Wheel:
    """The current wheel of the SDK (built once per change of its sources)."""
    root = sdk_dir()
    try:
        sources = _sources(root)
        fingerprint = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in sources)
    except OSError as exc:
        raise SdkMissing(f"the SDK's sources are not at {root}") from exc
    with _lock:
        if fingerprint not in _cache:
            _cache.clear()
            _cache[fingerprint] = _build(root, sources)
        return _cache[fingerprint]


def wheel_filename() -> str:
    """The wheel's file name, read from sdk/pyproject.toml without building the wheel."""
    project = _project(sdk_dir())
    return f"{_normalise(project['name'])}-{project['version']}-py3-none-any.whl"


def _project(root: Path) -> dict:
    try:
        with open(root / "pyproject.toml", "rb") as f:
            return tomllib.load(f)["project"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise SdkMissing(f"no readable [project] in {root / 'pyproject.toml'}") from exc


def _sources(root: Path) -> list[Path]:
    package = root / "arc_eval"
    files = [p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    if not files:
        raise OSError(f"no files in {package}")
    return sorted([root / "pyproject.toml", root / "README.md", *files])


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _build(root: Path, sources: list[Path]) -> Wheel:
    project = _project(root)
    name, version = project["name"], project["version"]
    dist_info = f"{_normalise(name)}-{version}.dist-info"
    entries: dict[str, bytes] = {
        p.relative_to(root).as_posix(): p.read_bytes() for p in sources if p.is_relative_to(root / "arc_eval")
    }
    entries[f"{dist_info}/METADATA"] = _metadata(project, (root / "README.md").read_text(encoding="utf-8")).encode()
    entries[f"{dist_info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: arc-eval-server\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    scripts = project.get("scripts") or {}
    if scripts:
        lines = "".join(f"{script} = {target}\n" for script, target in scripts.items())
        entries[f"{dist_info}/entry_points.txt"] = f"[console_scripts]\n{lines}".encode()
    record_path = f"{dist_info}/RECORD"
    record = [f"{path},sha256={_digest(data)},{len(data)}" for path, data in entries.items()] + [f"{record_path},,"]
    entries[record_path] = ("\n".join(record) + "\n").encode()

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in entries.items():
            info = zipfile.ZipInfo(path, date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return Wheel(f"{_normalise(name)}-{version}-py3-none-any.whl", buffer.getvalue())


def _metadata(project: dict, readme: str) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {project['version']}"]
    if project.get("description"):
        lines.append(f"Summary: {project['description']}")
    if isinstance(project.get("license"), str):
        lines.append(f"License: {project['license']}")
    if project.get("requires-python"):
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Classifier: {c}" for c in project.get("classifiers") or []]
    lines += [f"Requires-Dist: {d}" for d in project.get("dependencies") or []]
    lines.append("Description-Content-Type: text/markdown")
    return "\n".join(lines) + "\n\n" + readme


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
