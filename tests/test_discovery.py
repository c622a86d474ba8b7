"""Which files a review looks at: .gitignore, virtual environments and caches, explicit
paths, and parallel workers that find exactly what one worker finds."""

from __future__ import annotations

from pathlib import Path

import pytest

from backbone.config import Config
from backbone.review.discovery import discover
from helpers import SILENT_EXCEPT, SILENT_EXCEPT_LINE, CliRun, review_json, silent_except_in, write_tree


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "backbone.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def reviewed(run: CliRun) -> list[str]:
    """Paths with a BB101: every planted file holds exactly one."""
    return [path for path, line, code in run.found() if code == "BB101" and line == SILENT_EXCEPT_LINE]


GITIGNORED_TREE = {
    ".gitignore": "generated/\n*_pb2.py\n/local_settings.py\n",
    "app.py": SILENT_EXCEPT,
    "local_settings.py": SILENT_EXCEPT,
    "generated/client.py": SILENT_EXCEPT,
    "proto/orders_pb2.py": SILENT_EXCEPT,
    "service/local_settings.py": SILENT_EXCEPT,
    "service/.gitignore": "scratch_*.py\n!scratch_keep.py\n",
    "service/scratch_1.py": SILENT_EXCEPT,
    "service/scratch_keep.py": SILENT_EXCEPT,
    "service/views.py": SILENT_EXCEPT,
}
NOT_IGNORED = ["app.py", "service/local_settings.py", "service/scratch_keep.py", "service/views.py"]


@pytest.mark.parametrize("in_git_repository", [False, True], ids=["plain-directory", "git-repository"])
@pytest.mark.parametrize("target", [".", "ABSOLUTE"])
def test_gitignore_is_honoured_nested_too(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], in_git_repository: bool, target: str
) -> None:
    write_tree(in_tmp, GITIGNORED_TREE)
    if in_git_repository:
        (in_tmp / ".git").mkdir()
    run = review_json(capsys, str(in_tmp) if target == "ABSOLUTE" else target)
    assert reviewed(run) == NOT_IGNORED


def test_gitignore_above_the_reviewed_directory_applies_in_a_git_repository(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(in_tmp, GITIGNORED_TREE)
    (in_tmp / ".git").mkdir()
    write_tree(in_tmp, {"service/generated/stub.py": SILENT_EXCEPT})
    assert reviewed(review_json(capsys, "service")) == [
        "service/local_settings.py",
        "service/scratch_keep.py",
        "service/views.py",
    ]


def test_respect_gitignore_false(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(in_tmp, {**GITIGNORED_TREE, "backbone.toml": "respect-gitignore = false\n"})
    assert len(reviewed(review_json(capsys, "."))) == 8


def test_virtualenvs_and_caches_are_skipped(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(
        in_tmp,
        {
            "app.py": SILENT_EXCEPT,
            "env/pyvenv.cfg": "home = /usr/bin\n",
            "env/lib/python3.11/site-packages/lib.py": SILENT_EXCEPT,
            "tools/py311/pyvenv.cfg": "home = /usr/bin\n",
            "tools/py311/bin/script.py": SILENT_EXCEPT,
            ".venv/lib/mod.py": SILENT_EXCEPT,
            "venv/lib/mod.py": SILENT_EXCEPT,
            "__pycache__/app.py": SILENT_EXCEPT,
            "service/__pycache__/views.py": SILENT_EXCEPT,
            "frontend/node_modules/pkg/x.py": SILENT_EXCEPT,
            ".tox/py311/x.py": SILENT_EXCEPT,
            ".git/hooks/pre_commit.py": SILENT_EXCEPT,
            "shop.egg-info/x.py": SILENT_EXCEPT,
            "service/views.py": SILENT_EXCEPT,
        },
    )
    assert reviewed(review_json(capsys, ".")) == ["app.py", "service/views.py"]


def test_explicitly_named_excluded_files_are_still_reviewed(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(
        in_tmp,
        {
            "backbone.toml": 'extend-exclude = ["legacy"]\n',
            ".gitignore": "generated/\n",
            "app.py": SILENT_EXCEPT,
            "legacy/orders.py": SILENT_EXCEPT,
            "generated/client.py": SILENT_EXCEPT,
            ".venv/lib/patched.py": SILENT_EXCEPT,
        },
    )
    assert reviewed(review_json(capsys, ".")) == ["app.py"]
    named = review_json(capsys, "legacy/orders.py", "generated/client.py", ".venv/lib/patched.py")
    assert reviewed(named) == [".venv/lib/patched.py", "generated/client.py", "legacy/orders.py"]


def test_explicitly_named_file_without_py_suffix_is_reviewed(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(in_tmp, {"bin/manage": "#!/usr/bin/env python\n" + SILENT_EXCEPT})
    run = review_json(capsys, "bin/manage")
    assert run.found() == [("bin/manage", SILENT_EXCEPT_LINE + 1, "BB101")]


def test_a_file_named_twice_is_reviewed_once(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(in_tmp, {"app.py": SILENT_EXCEPT})
    run = review_json(capsys, "app.py", ".", "./app.py", str(in_tmp / "app.py"))
    assert reviewed(run) == ["app.py"]
    assert run.summary()["files_reviewed"] == 1


def test_only_python_files_are_reviewed(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(in_tmp, {"app.py": SILENT_EXCEPT, "notes.txt": SILENT_EXCEPT, "app.pyc": b"\0\0", "stub.pyi": SILENT_EXCEPT})
    run = review_json(capsys, ".")
    assert reviewed(run) == ["app.py"]
    assert run.summary()["files_reviewed"] == 1


def test_discover_gives_the_same_files_for_relative_and_absolute_paths(in_tmp: Path) -> None:
    write_tree(in_tmp, {**GITIGNORED_TREE, "build/out.py": ""})
    (in_tmp / ".git").mkdir()
    config = Config(extend_exclude=("service/views.py",))
    relative = discover([Path(".")], config, Path("."))
    absolute = discover([in_tmp], config, in_tmp)
    assert sorted(path.resolve() for path in relative.files) == sorted(path.resolve() for path in absolute.files)
    assert sorted(path.resolve().relative_to(in_tmp).as_posix() for path in absolute.files) == [
        "app.py",
        "service/local_settings.py",
        "service/scratch_keep.py",
    ]


def test_parallel_workers_find_exactly_what_one_worker_finds(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files: dict[str, str] = {}
    for number in range(60):
        package = f"service/module_{number % 6}"
        files[f"{package}/__init__.py"] = ""
        if number % 3 == 0:
            files[f"{package}/handler_{number}.py"] = silent_except_in(f"handler_{number}")
        elif number % 3 == 1:
            files[f"{package}/handler_{number}.py"] = f'API_TOKEN = "tok_{number:02d}Xq7RmL2vZp9KwB4n"\n'
        else:
            # Different sizes, so the workers get uneven shares.
            files[f"{package}/handler_{number}.py"] = "def f(x):\n    return x\n" * (number + 1)
    write_tree(in_tmp, files)
    python_files = sum(1 for name in files if name.endswith(".py"))
    assert python_files >= 60
    serial = review_json(capsys, "--no-cache", "--jobs", "1", ".")
    parallel = review_json(capsys, "--no-cache", "--jobs", "2", ".")
    assert serial.out == parallel.out
    assert serial.summary()["files_reviewed"] == python_files
    assert len(serial.found()) >= 20
    assert serial.code == parallel.code == 1


def test_name_patterns_match_as_pathspec_does() -> None:
    # The fast path for bare-name patterns must agree with .gitignore semantics.
    import pathspec

    from backbone.config import DEFAULT_EXCLUDE
    from backbone.review.discovery import _ExcludePatterns

    patterns = (*DEFAULT_EXCLUDE, "migrations", "*_pb2.py", "gen?", "tests/fixtures", "docs/")
    fast = _ExcludePatterns(patterns)
    reference = pathspec.GitIgnoreSpec.from_lines(patterns)
    samples = [
        ("src/app.py", False), ("build", True), ("pkg/build", True), ("pkg/build.py", False),
        ("shop.egg-info", True), ("a/__pycache__", True), ("proto/x_pb2.py", False), ("gen1", True),
        ("generated", True), ("tests/fixtures", True), ("pkg/tests/fixtures", True), ("docs", True),
        ("docs", False), ("app/migrations", True), ("venv", True), (".venvs", True),
    ]
    for relative, is_dir in samples:
        name = relative.rsplit("/", 1)[-1]
        expected = reference.match_file(relative + ("/" if is_dir else ""))
        assert fast.match(relative, name, is_dir) == expected, relative


def test_parallel_workers_are_all_told_to_stop_before_the_engine_waits_for_one(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker's end (its memory handed back) takes a while: the workers end side by side,
    # after the cache is written, and each ends cleanly (exit status 0).
    from backbone.review import engine

    events: list[str] = []
    workers: list[engine._ProcessWorker] = []
    start, stop, join = engine._ProcessWorker.__init__, engine._ProcessWorker.stop, engine._ProcessWorker.join

    def started(self: engine._ProcessWorker, *args: object, **kwargs: object) -> None:
        start(self, *args, **kwargs)  # type: ignore[arg-type]
        workers.append(self)

    def stopped(self: engine._ProcessWorker) -> None:
        events.append("stop")
        stop(self)

    def joined(self: engine._ProcessWorker) -> None:
        events.append("join")
        join(self)

    save = engine.ResultCache.save

    def saved(self: engine.ResultCache) -> None:
        events.append("save")
        save(self)

    monkeypatch.setattr(engine._ProcessWorker, "__init__", started)
    monkeypatch.setattr(engine._ProcessWorker, "stop", stopped)
    monkeypatch.setattr(engine._ProcessWorker, "join", joined)
    monkeypatch.setattr(engine.ResultCache, "save", saved)
    write_tree(in_tmp, {f"service/handler_{number}.py": silent_except_in(f"handler_{number}") for number in range(60)})
    run = review_json(capsys, "--jobs", "2", ".")
    assert run.code == 1 and len(run.found()) == 60
    assert events == ["stop", "stop", "save", "join", "join"]
    assert [worker.process.exitcode for worker in workers] == [0, 0]


def test_parallel_workers_build_the_project_index_from_each_others_answers(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # With nothing cached, the index is the facts the workers answered with: each worker builds
    # it from its own facts and the others' answers, and the PROJECT findings (which read other
    # files' facts) are those of one worker given the whole index.
    import shutil

    from backbone.review import engine

    shop = Path(__file__).resolve().parent.parent / "examples" / "shop"
    shutil.copytree(shop, in_tmp / "shop_copy", ignore=shutil.ignore_patterns(".backbone_cache"))
    write_tree(in_tmp, {f"shop_copy/filler/module_{number}.py": "def f(x):\n    return x\n" * (number + 1)
                        for number in range(60)})
    encoded: list[int] = []
    encode_index = engine._SharedIndex.encoded

    def counted(self: engine._SharedIndex) -> bytes:
        encoded.append(1)
        return encode_index(self)

    monkeypatch.setattr(engine._SharedIndex, "encoded", counted)
    serial = review_json(capsys, "--no-cache", "--jobs", "1", "shop_copy")
    parallel = review_json(capsys, "--no-cache", "--jobs", "2", "shop_copy")
    assert encoded == []
    assert serial.out == parallel.out
    assert len([f for f in parallel.findings() if f["code"] in ("BB201", "BB301", "BB302", "BB602")]) >= 3


def test_parallel_workers_start_the_project_phase_before_the_engine_decodes_their_answers(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # With nothing cached, the PROJECT phase needs nothing the engine computes from the answers:
    # the workers get it as soon as every answer is in, and work while the engine decodes them.
    from backbone.review import engine

    write_tree(in_tmp, {f"pkg/module_{number}.py": silent_except_in(f"load_{number}") for number in range(60)})
    events: list[str] = []
    decode_files = engine._ProcessWorker.decode_files
    send_project = engine._ProcessWorker.send_project_from_peers

    def decoding(self: engine._ProcessWorker, data: bytes | None) -> list[engine.FileOutcome]:
        events.append("decode")
        return decode_files(self, data)

    def sending(self: engine._ProcessWorker, peers: list[bytes], jobs: list[engine.FileJob]) -> None:
        events.append("project")
        send_project(self, peers, jobs)

    monkeypatch.setattr(engine._ProcessWorker, "decode_files", decoding)
    monkeypatch.setattr(engine._ProcessWorker, "send_project_from_peers", sending)
    cold = review_json(capsys, "--jobs", "2", ".")
    assert events == ["project", "project", "decode", "decode"]
    assert sorted(cold.found()) == sorted((f"pkg/module_{number}.py", SILENT_EXCEPT_LINE, "BB101") for number in range(60))
    events.clear()
    serial = review_json(capsys, "--no-cache", "--jobs", "1", ".")
    assert serial.out == cold.out and events == []
