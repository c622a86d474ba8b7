"""What kind of file a path is: test code that rules skip or trust less."""

from __future__ import annotations

import functools

# Folders of test code; the app or project a Django package's test settings install
# (`guardian/testapp/`, with its own models and migrations) is test code too.
_TEST_DIRECTORIES = frozenset({
    "tests", "test", "testing", "t", "testapp", "testapps", "test_app", "test_apps", "testproject", "test_project",
})
# Words of a module name that make it test support: `create_test_data.py`,
# `pytest_plugin.py`, `testing_utils.py`, `factories_testdata.py`.
_TEST_WORDS = frozenset({"test", "tests", "testing", "pytest", "testdata", "testutils"})


@functools.lru_cache(maxsize=4096)
def is_test_path(path: str) -> bool:
    """Whether `path` is test code: under tests/, test/, testing/, t/ or a test app or project
    (testapp/, test_project/...), named test_*.py,
    *_test.py or conftest.py, or a module whose name has a test word (`create_test_data.py`,
    `pytest_plugin.py`)."""
    # The path's segments, as PurePosixPath would give them (without its cost: this is asked
    # for every function a rule reports on).
    parts = [part for part in path.replace("\\", "/").split("/") if part and part != "."]
    name = parts[-1] if parts else ""
    return (
        any(part in _TEST_DIRECTORIES for part in parts[:-1])
        or name.startswith("test_")
        or name.endswith(("_test.py", "_tests.py"))
        or name in {"tests.py", "conftest.py"}
        or bool(_TEST_WORDS.intersection(name.rpartition(".")[0].lower().split("_")))
    )
