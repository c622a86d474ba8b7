"""`make test` checks what the system must provide before it builds anything, and stops
with one line naming what is missing (scripts/system-deps)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "system-deps"


def _sandbox(tmp_path: Path, packages: str, tools: tuple[str, ...]) -> tuple[Path, dict[str, str]]:
    """A copy of the script beside its own .ci/apt-packages, and a PATH with only `tools`."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / ".ci").mkdir()
    shutil.copy(SCRIPT, tmp_path / "scripts" / "system-deps")
    (tmp_path / ".ci" / "apt-packages").write_text(packages)
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").symlink_to(sys.executable)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        found = shutil.which(tool)
        assert found is not None, tool
        (bin_dir / tool).symlink_to(found)
    (bin_dir / "python3").symlink_to(sys.executable)
    return tmp_path / "scripts" / "system-deps", {**os.environ, "PATH": str(bin_dir)}


def test_missing_packages_without_apt_get_stop_with_one_line(tmp_path: Path) -> None:
    script, env = _sandbox(tmp_path, "no-such-package-for-backbone  # a comment\n", ("bash", "dirname", "grep", "id"))
    done = subprocess.run([shutil.which("bash") or "bash", str(script)], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "no-such-package-for-backbone" in lines[0] and "no apt-get" in lines[0]
    assert "command not found" not in done.stderr


def test_nothing_to_install_is_a_quiet_success(tmp_path: Path) -> None:
    script, env = _sandbox(tmp_path, "# nothing needed\n", ("bash", "dirname", "grep", "id"))
    done = subprocess.run([shutil.which("bash") or "bash", str(script)], env=env, capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_an_old_python_is_named(tmp_path: Path) -> None:
    script, env = _sandbox(tmp_path, "", ("bash", "dirname", "grep", "id"))
    fake = tmp_path / "bin" / "python3"
    fake.unlink()
    fake.write_text("#!/bin/sh\nexec \"$REAL\" -c 'import sys; sys.exit(1)' \"$@\"\n")
    fake.chmod(0o755)
    env["REAL"] = sys.executable
    done = subprocess.run([shutil.which("bash") or "bash", str(script)], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith("make test: needs Python 3.10 or newer")
