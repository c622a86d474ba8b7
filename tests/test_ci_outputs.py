"""What CI reads: the GitLab Code Quality report, paths relative to the git top level in SARIF,
GitHub annotations and GitLab reports whatever directory is reviewed, `helpUri` to each rule's
page, and the composite GitHub Action's review step run as the runner runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from backbone.api import rules_url
from backbone.findings import Confidence, Finding, Location, Severity
from backbone.report import OutputFormat, Report, render
from backbone.report.gitlab import render_gitlab
from helpers import run_cli, write_tree

REPOSITORY = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((REPOSITORY / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
NO_TIMEOUT = (
    'import requests\n\n\ndef rates() -> int:\n    return requests.get("https://carrier.example.com").status_code\n'
    '\n\n__all__ = ["rates"]\n'
)


def git(repo: Path, *arguments: str) -> None:
    subprocess.run(["git", *arguments], cwd=repo, capture_output=True, check=True, timeout=60)


@pytest.fixture()
def monorepo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository whose service lives in services/shop, with its own configuration."""
    write_tree(tmp_path, {"services/shop/backbone.toml": "", "services/shop/app/carrier.py": NO_TIMEOUT,
                          "README.md": "monorepo\n"})
    git(tmp_path, "init", "-q", "-b", "main")
    monkeypatch.chdir(tmp_path / "services" / "shop")
    return tmp_path


def finding(code: str, line: int, severity: Severity = Severity.WARNING, path: str = "app/carrier.py") -> Finding:
    return Finding(code=code, name="http-call-without-timeout", severity=severity, confidence=Confidence.HIGH,
                   location=Location(path, line, 12, end_line=line, end_column=40),
                   message="HTTP call `requests.get()` has no timeout.", statement_digest="requests.get")


def test_gitlab_code_quality_report_is_exact() -> None:
    report = Report(findings=(finding("BB102", 5), finding("BB102", 9), finding("BB502", 2, Severity.ERROR)),
                          repository_prefix="services/shop/")
    issues = json.loads(render_gitlab(report))
    assert [(issue["check_name"], issue["location"]["lines"]["begin"], issue["severity"]) for issue in issues] == [
        ("BB502", 2, "critical"), ("BB102", 5, "major"), ("BB102", 9, "major"),
    ]
    assert issues[1] == {
        "type": "issue",
        "description": "BB102 http-call-without-timeout: HTTP call `requests.get()` has no timeout.",
        "check_name": "BB102",
        "categories": ["Bug Risk"],
        "fingerprint": issues[1]["fingerprint"],
        "severity": "major",
        "location": {"path": "services/shop/app/carrier.py", "lines": {"begin": 5, "end": 5}},
    }
    assert issues[0]["categories"] == ["Security"]
    # Two copies of one mistake in one function: GitLab needs a fingerprint for each.
    assert len({issue["fingerprint"] for issue in issues}) == 3
    assert render(report, OutputFormat.GITLAB) == render_gitlab(report)
    assert render_gitlab(Report(findings=())) == "[]\n"


def test_ci_formats_give_paths_from_the_git_top_level(monorepo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sarif = json.loads(run_cli(capsys, "review", "--format", "sarif", "--exit-zero").out)
    uris = [result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for result in sarif["runs"][0]["results"]]
    assert uris == ["services/shop/app/carrier.py"]
    gitlab = json.loads(run_cli(capsys, "review", "--format", "gitlab", "--exit-zero").out)
    assert [issue["location"]["path"] for issue in gitlab] == ["services/shop/app/carrier.py"]
    github = run_cli(capsys, "review", "app", "--format", "github", "--exit-zero").out
    assert github.startswith("::warning file=services/shop/app/carrier.py,line=5,")
    # The text and JSON reports stay relative to the reviewed root.
    text_json = json.loads(run_cli(capsys, "review", "--format", "json", "--exit-zero").out)
    assert [item["path"] for item in text_json["findings"]] == ["app/carrier.py"]


def _help_uris(capsys: pytest.CaptureFixture[str]) -> set[str | None]:
    run = run_cli(capsys, "review", "--format", "sarif", "--exit-zero")
    document = json.loads(run.out)
    jsonschema.validators.validator_for(SCHEMA)(SCHEMA).validate(document)
    return {rule.get("helpUri") for rule in document["runs"][0]["tool"]["driver"]["rules"]}


def test_help_uri_points_at_the_rule_pages_of_the_repository(monorepo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _help_uris(capsys) == {None}
    git(monorepo, "remote", "add", "origin", "https://github.com/acme/shop.git")
    uris = _help_uris(capsys)
    assert "https://github.com/acme/shop/blob/HEAD/docs/rules/BB102.md" in uris and None not in uris
    # The configuration names the repository: it wins over the remote.
    (monorepo / "services" / "shop" / "backbone.toml").write_text('repository-url = "https://gitlab.com/acme/shop"\n')
    assert "https://gitlab.com/acme/shop/-/blob/HEAD/docs/rules/BB102.md" in _help_uris(capsys)
    (monorepo / "services" / "shop" / "backbone.toml").write_text('repository-url = "git@github.com:acme/shop"\n')
    bad = run_cli(capsys, "review")
    assert bad.code == 2 and "repository-url" in bad.err


def test_remote_urls_that_are_not_public_https_give_no_help_uri(monorepo: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    git(monorepo, "remote", "add", "origin", "https://deploy:s3cr3t-t0ken@github.com/acme/shop.git")
    run = run_cli(capsys, "review", "--format", "sarif", "--exit-zero")
    assert "s3cr3t" not in run.out + run.err and "helpUri" not in run.out
    assert rules_url("git@github.com:acme/shop.git") is None
    assert rules_url("https://example.com/acme/shop") is None
    assert rules_url("https://gitlab.example.org/group/sub/shop.git") == (
        "https://gitlab.example.org/group/sub/shop/-/blob/HEAD/docs/rules/"
    )


def _step(name: str) -> dict[str, object]:
    action = yaml.safe_load((REPOSITORY / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    steps: list[dict[str, object]] = action["runs"]["steps"]
    assert any(step.get("uses", "").startswith("github/codeql-action/upload-sarif@") for step in steps)
    return next(step for step in steps if step.get("name") == name)


def test_the_action_review_step_runs_as_the_runner_runs_it(monorepo: Path, tmp_path: Path) -> None:
    step = _step("Review")
    script = str(step["run"])
    assert "${{" not in script  # inputs reach the script through the environment only
    outputs = tmp_path / "github-output"
    environment = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "BACKBONE_PATHS": "services/shop",
        "BACKBONE_ARGS": "--min-confidence medium",
        "BACKBONE_SARIF": "backbone.sarif",
        "GITHUB_OUTPUT": str(outputs),
    }
    completed = subprocess.run(["bash", "-e", "-c", script], cwd=monorepo, env=environment, capture_output=True,
                               text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    assert outputs.read_text() == "exit-code=1\n"
    assert "::warning file=services/shop/app/carrier.py,line=5," in completed.stdout
    document = json.loads((monorepo / "backbone.sarif").read_text())
    jsonschema.validators.validator_for(SCHEMA)(SCHEMA).validate(document)
    result = document["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "services/shop/app/carrier.py"

    fail = _step("Fail on findings")
    failed = subprocess.run(["bash", "-c", str(fail["run"])], env={**environment, "BACKBONE_EXIT": "1"}, timeout=30,
                            check=False)
    assert failed.returncode == 1
