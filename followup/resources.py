"""Where migrations and templates are: inside the package in a wheel, at the top level in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    for candidate in (_PACKAGE / "_bundled" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"followup is installed without its {name}/ directory")


def data_dir(name: str) -> Path:
    return _PACKAGE / "data" / name
