"""Configuration: where it is found, what each key does, and every way it can be wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from backbone.config import Config, find_config, is_selected, load_config
from backbone.findings import Severity
from backbone.review.rules import all_rules
from helpers import (
    HARDCODED_SECRET,
    HARDCODED_SECRET_LINE,
    SILENT_EXCEPT,
    SILENT_EXCEPT_LINE,
    CliRun,
    review_json,
    write_tree,
)

BOTH = {"app.py": SILENT_EXCEPT, "settings.py": HARDCODED_SECRET}
BB101_FOUND = ("app.py", SILENT_EXCEPT_LINE, "BB101")
BB501_FOUND = ("settings.py", HARDCODED_SECRET_LINE, "BB501")


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def codes(run: CliRun) -> set[str]:
    return {code for _, _, code in run.found()}


def review_with(capsys: pytest.CaptureFixture[str], root: Path, config: str, *argv: str) -> CliRun:
    write_tree(root, {**BOTH, "backbone.toml": config})
    return review_json(capsys, *argv, ".")


# ---------------------------------------------------------------------------------------
# Discovery of the configuration file
# ---------------------------------------------------------------------------------------


def test_pyproject_tool_backbone_is_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path, {**BOTH, "pyproject.toml": '[project]\nname = "shop"\n\n[tool.backbone]\nignore = ["BB101"]\n'})
    run = review_json(capsys, ".")
    assert run.found() == [BB501_FOUND]


def test_backbone_toml_is_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = review_with(capsys, tmp_path, 'ignore = ["BB501"]\n')
    assert run.found() == [BB101_FOUND]


def test_backbone_toml_wins_over_pyproject_in_the_same_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(
        tmp_path,
        {
            **BOTH,
            "pyproject.toml": '[tool.backbone]\nignore = ["BB101"]\n',
            "backbone.toml": 'ignore = ["BB501"]\n',
        },
    )
    assert find_config(tmp_path) == (tmp_path / "backbone.toml")
    assert review_json(capsys, ".").found() == [BB101_FOUND]


def test_nearest_configuration_wins(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(
        tmp_path,
        {
            "backbone.toml": 'ignore = ["BB101"]\n',
            "service/pyproject.toml": '[tool.backbone]\nignore = ["BB501"]\n',
            "service/app.py": SILENT_EXCEPT,
            "service/settings.py": HARDCODED_SECRET,
        },
    )
    # Paths are relative to the directory of the configuration that applies.
    assert review_json(capsys, "service").found() == [BB101_FOUND]
    assert review_json(capsys, ".").found() == [
        ("service/settings.py", HARDCODED_SECRET_LINE, "BB501")
    ]


def test_pyproject_without_tool_backbone_is_passed_over(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(
        tmp_path,
        {
            "backbone.toml": 'ignore = ["BB101"]\n',
            "service/pyproject.toml": '[project]\nname = "service"\n',
            "service/app.py": SILENT_EXCEPT,
        },
    )
    assert find_config(tmp_path / "service") == tmp_path / "backbone.toml"
    assert review_json(capsys, "service").found() == []


def test_configuration_above_the_working_directory_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path, {"backbone.toml": 'ignore = ["BB101"]\n', "service/app.py": SILENT_EXCEPT})
    monkeypatch.chdir(tmp_path / "service")
    assert find_config(Path(".")) == tmp_path / "backbone.toml"
    assert review_json(capsys, ".").found() == []
    assert review_json(capsys).found() == []


def test_explicit_config_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path, {**BOTH, "ci/strict.toml": 'ignore = ["BB501"]\n'})
    run = review_json(capsys, "--config", "ci/strict.toml", ".")
    assert codes(run) == {"BB101"}


def test_explicit_config_that_does_not_exist_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path, BOTH)
    run = review_json(capsys, "--config", "nope.toml", ".")
    assert run.code == 2
    assert "nope.toml" in run.err and "not found" in run.err


# ---------------------------------------------------------------------------------------
# What each key does
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param("", {"BB101", "BB501"}, id="defaults-select-all"),
        pytest.param('select = ["BB101"]\n', {"BB101"}, id="select-code"),
        pytest.param('select = ["BB1"]\n', {"BB101"}, id="select-prefix"),
        pytest.param('select = ["BB"]\n', {"BB101", "BB501"}, id="select-short-prefix"),
        pytest.param('ignore = ["BB5"]\n', {"BB101"}, id="ignore-prefix"),
        pytest.param('select = ["BB1"]\nignore = ["BB101"]\n', set(), id="longer-ignore-wins"),
        pytest.param('select = ["BB101"]\nignore = ["BB1"]\n', {"BB101"}, id="longer-select-wins"),
        pytest.param('select = ["BB1"]\nextend-select = ["BB501"]\n', {"BB101", "BB501"}, id="extend-select"),
        pytest.param('select = []\nextend-select = ["BB501"]\n', {"BB501"}, id="empty-select-then-extend"),
        pytest.param('select = []\n', set(), id="empty-select-selects-nothing"),
    ],
)
def test_select_and_ignore(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, expected: set[str]
) -> None:
    run = review_with(capsys, tmp_path, config)
    assert codes(run) == expected
    assert run.code == (1 if expected else 0)


def test_longest_matching_selector_wins() -> None:
    assert is_selected("BB101", ["ALL"], [])
    assert not is_selected("BB101", ["ALL"], ["BB1"])
    assert is_selected("BB101", ["BB10"], ["BB1"])
    assert not is_selected("BB101", ["BB1"], ["BB10"])
    assert is_selected("BB501", ["BB1", "BB501"], ["BB5"])
    assert not is_selected("BB501", ["BB1"], [])


def test_cli_select_replaces_and_extend_select_adds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path, {**BOTH, "backbone.toml": 'select = ["BB101"]\n'})
    assert codes(review_json(capsys, "--select", "BB501", ".")) == {"BB501"}
    assert codes(review_json(capsys, "--extend-select", "bb501", ".")) == {"BB101", "BB501"}
    assert codes(review_json(capsys, "--select", "BB1,BB5", "--ignore", "BB101", ".")) == {"BB501"}


def test_per_file_ignores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(
        tmp_path,
        {
            "backbone.toml": '[per-file-ignores]\n"legacy/*.py" = ["BB101"]\n"**/settings.py" = ["BB5"]\n',
            "app.py": SILENT_EXCEPT,
            "legacy/old.py": SILENT_EXCEPT,
            "legacy/deeper/older.py": SILENT_EXCEPT,
            "config/settings.py": HARDCODED_SECRET,
            "legacy/secrets.py": HARDCODED_SECRET,
        },
    )
    # Globs follow .gitignore rules: `*` stops at a slash, `**` crosses directories.
    assert review_json(capsys, ".").found() == [
        BB101_FOUND,
        ("legacy/deeper/older.py", SILENT_EXCEPT_LINE, "BB101"),
        ("legacy/secrets.py", HARDCODED_SECRET_LINE, "BB501"),
    ]


def test_extend_exclude_adds_to_the_defaults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(
        tmp_path,
        {
            "backbone.toml": 'extend-exclude = ["generated", "qa/samples"]\n',
            "app.py": SILENT_EXCEPT,
            "generated/client.py": SILENT_EXCEPT,
            "qa/samples/bad.py": SILENT_EXCEPT,
            "qa/app.py": SILENT_EXCEPT,
            "build/lib/app.py": SILENT_EXCEPT,
        },
    )
    expected = [BB101_FOUND, ("qa/app.py", SILENT_EXCEPT_LINE, "BB101")]
    assert review_json(capsys, ".").found() == expected
    # Named from a subdirectory, the root-relative pattern `qa/samples` still applies.
    assert review_json(capsys, "qa").found() == [("qa/app.py", SILENT_EXCEPT_LINE, "BB101")]
    assert review_json(capsys, str(tmp_path)).found() == expected


def test_exclude_replaces_the_defaults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(
        tmp_path,
        {
            "backbone.toml": 'exclude = ["generated"]\n',
            "app.py": SILENT_EXCEPT,
            "generated/client.py": SILENT_EXCEPT,
            "build/lib/app.py": SILENT_EXCEPT,
        },
    )
    assert review_json(capsys, ".").found() == [BB101_FOUND, ("build/lib/app.py", SILENT_EXCEPT_LINE, "BB101")]


def test_severity_override_changes_the_reported_severity(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    default = review_with(capsys, tmp_path, "")
    default_severity = {f["code"]: f["severity"] for f in default.findings()}
    # An error rule, but an error needs high confidence and BB501's measured precision earns low.
    assert all_rules()["BB501"].severity is Severity.ERROR
    assert default_severity["BB501"] == "warning"
    run = review_with(capsys, tmp_path, '[severity]\nBB501 = "info"\nBB101 = "error"\n')
    assert {f["code"]: f["severity"] for f in run.findings()} == {"BB101": "error", "BB501": "info"}
    assert run.summary()["by_severity"] == {"error": 1, "warning": 0, "info": 1}


@pytest.mark.parametrize(
    ("fail_on", "exit_code"),
    [("error", 0), ("warning", 1), ("info", 1)],
)
def test_fail_on_in_the_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fail_on: str, exit_code: int
) -> None:
    write_tree(tmp_path, {"app.py": SILENT_EXCEPT})
    run = review_with(capsys, tmp_path, f'fail-on = "{fail_on}"\nignore = ["BB501"]\n[severity]\nBB101 = "warning"\n')
    assert codes(run) == {"BB101"}
    assert run.code == exit_code


def test_fail_on_on_the_command_line_overrides_the_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = 'fail-on = "info"\nignore = ["BB501"]\n[severity]\nBB101 = "warning"\n'
    assert review_with(capsys, tmp_path, config, "--fail-on", "error").code == 0
    assert review_with(capsys, tmp_path, config).code == 1


def _option_value(default: object) -> object:
    if isinstance(default, bool):
        return not default
    if isinstance(default, (int, float)):
        return default + 1
    if isinstance(default, tuple):
        return ["extra"]
    return "value"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(f'"{item}"' for item in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def test_rule_options_are_read_and_validated_against_the_rule(tmp_path: Path) -> None:
    rule = all_rules()["BB501"]
    assert rule.options, "BB501 declares options"
    for option in rule.options:
        value = _option_value(option.default)
        for table in ("BB501", rule.name):
            path = tmp_path / "backbone.toml"
            path.write_text(f"[rules.{table}]\n{option.name} = {_toml(value)}\n")
            config = load_config(path, all_rules())
            expected = tuple(value) if isinstance(value, list) else value
            assert config.options_for("BB501") == {option.name: expected}


def test_rule_options_change_what_the_rule_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from helpers import SECRET_VALUE

    write_tree(tmp_path, {"license.py": 'STRIPE_LICENSE_KEY = "q7Rf2LwX9mZb4TkP"\n'})
    assert review_with(capsys, tmp_path, "").found() == [BB101_FOUND, BB501_FOUND]
    config = f'[rules.hardcoded-secret]\nignore-values = ["{SECRET_VALUE}"]\nextra-secret-names = ["license_key"]\n'
    assert review_with(capsys, tmp_path, config).found() == [BB101_FOUND, ("license.py", 1, "BB501")]


# ---------------------------------------------------------------------------------------
# Errors: exit 2, the file and the key named, never a traceback
# ---------------------------------------------------------------------------------------


def config_error(capsys: pytest.CaptureFixture[str], root: Path, config: str, name: str = "backbone.toml") -> str:
    write_tree(root, {"app.py": SILENT_EXCEPT, name: config})
    run = review_json(capsys, ".")
    assert run.code == 2, run.out
    assert run.out == ""
    assert str(root / name) in run.err
    return run.err


def test_unknown_key_names_file_and_key_with_a_suggestion(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = config_error(capsys, tmp_path, 'selct = ["BB101"]\n')
    assert "'selct'" in err
    assert "did you mean 'select'" in err


def test_unknown_key_in_pyproject(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = config_error(capsys, tmp_path, '[tool.backbone]\nper-file-ignore = {}\n', name="pyproject.toml")
    assert "[tool.backbone]" in err
    assert "'per-file-ignore'" in err
    assert "did you mean 'per-file-ignores'" in err


@pytest.mark.parametrize(
    ("config", "key", "code"),
    [
        ('select = ["BB999"]\n', "select", "BB999"),
        ('ignore = ["XX1"]\n', "ignore", "XX1"),
        ('extend-select = ["BB9"]\n', "extend-select", "BB9"),
        ('[severity]\nBB1 = "info"\n', "severity.BB1", "BB1"),
        ('[severity]\nBB199 = "info"\n', "severity.BB199", "BB199"),
        ('[per-file-ignores]\n"*.py" = ["BB777"]\n', "per-file-ignores.*.py", "BB777"),
        ("[rules.BB998]\nx = 1\n", "rules.BB998", "BB998"),
    ],
)
def test_unknown_rule_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, key: str, code: str
) -> None:
    err = config_error(capsys, tmp_path, config)
    assert f"'{key}'" in err
    assert f"unknown rule code '{code}'" in err


def test_unknown_code_close_to_a_known_one_gets_a_suggestion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A letter O for the zero: BB101 is the only close code (BB110 is as close to BB104 as to BB101).
    assert "did you mean 'BB101'" in config_error(capsys, tmp_path, 'select = ["BB1O1"]\n')


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ('select = "BB101"\n', "select"),
        ("ignore = [101]\n", "ignore"),
        ('per-file-ignores = ["x.py"]\n', "per-file-ignores"),
        ('[per-file-ignores]\n"x.py" = "BB101"\n', "per-file-ignores.x.py"),
        ('exclude = "build"\n', "exclude"),
        ("extend-exclude = [1]\n", "extend-exclude"),
        ('respect-gitignore = "yes"\n', "respect-gitignore"),
        ('severity = "info"\n', "severity"),
        ('[severity]\nBB101 = "critical"\n', "severity.BB101"),
        ("[severity]\nBB101 = 3\n", "severity.BB101"),
        ('fail-on = "fatal"\n', "fail-on"),
        ("fail-on = 1\n", "fail-on"),
        ('max-file-size-kb = "1"\n', "max-file-size-kb"),
        ("max-file-size-kb = 0\n", "max-file-size-kb"),
        ("max-file-size-kb = true\n", "max-file-size-kb"),
        ('rules = "BB501"\n', "rules"),
        ('[rules]\nBB501 = "strict"\n', "rules.BB501"),
    ],
)
def test_wrong_type(tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, key: str) -> None:
    err = config_error(capsys, tmp_path, config)
    assert f"'{key}'" in err
    assert "expected" in err or "unknown severity" in err


def test_wrong_type_of_rule_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    option = all_rules()["BB501"].options[0]
    wrong = '"text"' if not isinstance(option.default, str) else "12"
    err = config_error(capsys, tmp_path, f"[rules.BB501]\n{option.name} = {wrong}\n")
    assert f"'rules.BB501.{option.name}'" in err
    assert "expected" in err


def test_unknown_rule_option_lists_the_known_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = config_error(capsys, tmp_path, "[rules.BB501]\nentropy_treshold = 3\n")
    assert "'rules.BB501.entropy_treshold'" in err
    assert "unknown option for BB501" in err
    for option in all_rules()["BB501"].options:
        assert option.name in err


def test_invalid_toml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = config_error(capsys, tmp_path, 'select = ["BB101"\n')
    assert "invalid TOML" in err


def test_invalid_toml_in_pyproject(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = config_error(capsys, tmp_path, "[tool.backbone]\nselect = = 1\n", name="pyproject.toml")
    assert "invalid TOML" in err


def test_configuration_that_is_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path, {"app.py": SILENT_EXCEPT, "backbone.toml": b'# caf\xe9\nselect = ["BB101"]\n'})
    run = review_json(capsys, ".")
    assert run.code == 2
    assert "not UTF-8" in run.err


@pytest.mark.parametrize("option", ["--select", "--ignore", "--extend-select"])
def test_unknown_code_on_the_command_line_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    write_tree(tmp_path, {"app.py": SILENT_EXCEPT})
    run = review_json(capsys, option, "BB999", ".")
    assert run.code == 2
    assert "unknown rule code 'BB999'" in run.err
    assert run.out == ""


def test_defaults_without_a_configuration_file() -> None:
    config = load_config(None, all_rules())
    assert config == Config()
    assert ".venv" in config.exclude and "__pycache__" in config.exclude


def test_rule_configured_by_code_and_by_name_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = config_error(
        capsys, tmp_path, "[rules.BB501]\nmin-length = 10\n[rules.hardcoded-secret]\nmin-length = 12\n"
    )
    assert "configured twice" in err
