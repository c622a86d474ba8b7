"""`[tool.backbone.errors]`: the status each failure layer answers with, validated, handed to
BB104 and part of the configuration digest."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from backbone.config import Config, ConfigError, load_config
from backbone.review.rules import all_rules
from helpers import review_json, write_tree

# A handler answering a requests timeout with 502, and a catch-all with 409.
SERVICE = textwrap.dedent(
    """\
    import requests
    from fastapi import FastAPI, HTTPException

    app = FastAPI()


    @app.get("/quote")
    def quote():
        try:
            return requests.get("https://carrier.example.com/quote", timeout=5).json()
        except requests.Timeout:
            raise HTTPException(status_code=424, detail="the carrier did not answer")
        except Exception:
            raise HTTPException(status_code=409, detail="could not quote")
    """
)
TIMEOUT_LINE = 12
CATCH_ALL_LINE = 14


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def load(tmp_path: Path, text: str, name: str = "backbone.toml") -> Config:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_config(path, all_rules())


def bb104_lines(capsys: pytest.CaptureFixture[str], tmp_path: Path, config: str) -> list[int]:
    write_tree(tmp_path, {"app.py": SERVICE, "backbone.toml": config})
    run = review_json(capsys, "--select", "BB104", "--no-cache", ".")
    return [line for _, line, code in run.found() if code == "BB104"]


def test_defaults_flag_a_4xx_for_an_infrastructure_failure_and_a_catch_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bb104_lines(capsys, tmp_path, "") == [TIMEOUT_LINE, CATCH_ALL_LINE]


def test_the_infrastructure_statuses_are_5xx_and_shape_the_advice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path, {"app.py": SERVICE, "backbone.toml": "[errors]\ninfrastructure = [502, 504]\n"})
    run = review_json(capsys, "--select", "BB104", "--no-cache", ".")
    timeout, catch_all = run.findings()
    assert timeout["line"] == TIMEOUT_LINE
    assert "The infrastructure error `Timeout` (HTTP client failure) is answered with 424" in str(timeout["message"])
    assert str(timeout["fix"]).startswith("Answer infrastructure failures (HTTP client) with 502 or 504")
    assert catch_all["line"] == CATCH_ALL_LINE
    assert "`except Exception`" in str(catch_all["message"])
    with pytest.raises(ConfigError, match="'errors.infrastructure': 424 is not a 5xx status"):
        load(tmp_path, "[errors]\ninfrastructure = [500, 424]\n")


def test_the_statuses_reach_the_rule_as_its_options(tmp_path: Path) -> None:
    config = load(tmp_path, "[errors]\nvalidation = 422\nbusiness = 409\ninfrastructure = [500, 502, 503]\n")
    assert config.options_for("BB104") == {
        "validation_status": 422,
        "business_status": 409,
        "infrastructure_statuses": ("500", "502", "503"),
    }
    assert config.errors == (
        ("validation", (422,)),
        ("business", (409,)),
        ("infrastructure", (500, 502, 503)),
    )


def test_a_single_infrastructure_status_is_accepted(tmp_path: Path) -> None:
    config = load(tmp_path, '[tool.backbone.errors]\ninfrastructure = 503\n', name="pyproject.toml")
    assert config.options_for("BB104") == {"infrastructure_statuses": ("503",)}


def test_the_validation_status_changes_the_advice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(
        tmp_path,
        {
            "app.py": textwrap.dedent(
                """\
                from fastapi import FastAPI, HTTPException
                from pydantic import ValidationError

                app = FastAPI()


                @app.post("/events")
                def events(raw: str):
                    try:
                        return Event.model_validate_json(raw)
                    except ValidationError:
                        raise HTTPException(status_code=500, detail="bad event")
                """
            ),
            "backbone.toml": "[errors]\nvalidation = 422\n",
        },
    )
    run = review_json(capsys, "--select", "BB104", "--no-cache", ".")
    [finding] = run.findings()
    assert finding["line"] == 12
    assert "The validation error `pydantic ValidationError` (bad input)" in str(finding["message"])
    assert "500" in str(finding["message"])
    assert str(finding["fix"]).startswith("Answer bad input with 422")


def test_the_errors_table_is_part_of_the_digest(tmp_path: Path) -> None:
    plain = load(tmp_path, "")
    configured = load(tmp_path, "[errors]\ninfrastructure = [500, 502]\n")
    other = load(tmp_path, "[errors]\ninfrastructure = [500, 504]\n")
    digests = {plain.digest(), configured.digest(), other.digest()}
    assert len(digests) == 3


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ('errors = "strict"\n', "'errors'", "expected a table"),
        ("[errors]\nvalidaton = 400\n", "'errors.validaton'", "did you mean 'validation'"),
        ("[errors]\nvalidation = 500\n", "'errors.validation'", "500 is not a 4xx status"),
        ("[errors]\nbusiness = 200\n", "'errors.business'", "200 is not a 4xx status"),
        ('[errors]\nvalidation = "400"\n', "'errors.validation'", "expected an HTTP status between 400 and 499"),
        ("[errors]\nvalidation = [400, 422]\n", "'errors.validation'", "expected an HTTP status between"),
        ("[errors]\ninfrastructure = []\n", "'errors.infrastructure'", "expected an HTTP status or a list of them"),
        ("[errors]\ninfrastructure = [500, true]\n", "'errors.infrastructure'", "expected an HTTP status or a list"),
    ],
)
def test_invalid_tables_name_the_key(tmp_path: Path, text: str, key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, text)
    message = str(raised.value)
    assert str(tmp_path / "backbone.toml") in message
    assert key in message
    assert reason in message


def test_the_same_status_in_both_places_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'rules.BB104.validation_status'.*keep one of the two"):
        load(tmp_path, "[errors]\nvalidation = 422\n\n[rules.BB104]\nvalidation_status = 400\n")


def test_other_statuses_set_on_the_rule_table_still_apply(tmp_path: Path) -> None:
    config = load(tmp_path, "[errors]\nvalidation = 422\n\n[rules.error-layer-mismatch]\nbusiness_status = 409\n")
    assert config.options_for("BB104") == {"business_status": 409, "validation_status": 422}
