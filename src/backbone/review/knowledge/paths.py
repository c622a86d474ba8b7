"""What kind of file a path is: test code that rules skip or trust less."""

from __future__ import annotations

from pathlib import PurePosixPath

_TEST_DIRECTORIES = frozenset({"tests", "test", "testing", "t"})


def is_test_path(path: str) -> bool:
    """Whether `path` is test code: under tests/, test/ or t/, or named test_*.py, *_test.py, conftest.py."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    name = parts[-1] if parts else ""
    return (
        any(part in _TEST_DIRECTORIES for part in parts[:-1])
        or name.startswith("test_")
        or name.endswith(("_test.py", "_tests.py"))
        or name in {"tests.py", "conftest.py"}
    )
