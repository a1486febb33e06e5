"""The templates and the example survey shipped with the tool.

Installed, they are the subpackages ``xlsx_tool.templates`` and ``xlsx_tool.examples``
(pyproject maps the repository's top-level folders into the wheel). Run from a checkout
that shadows the installed package (pytest in the repository), they are those folders.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable  # not importlib.abc (deprecated in 3.12)
from pathlib import Path


def bundled(kind: str) -> Traversable:
    """`kind` is "templates" or "examples"."""
    try:
        found = resources.files(f"xlsx_tool.{kind}")
        if found.is_dir():
            return found
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / kind
