"""`[tool.backbone.domains]` and `replace-default-domains`: BB601's business-domain lexicon.

The table is validated like every other key (clear errors naming the key), reaches BB601 as
its `domains` rule option, and is part of the configuration digest that keys the cache.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from backbone.config import Config, ConfigError, load_config
from backbone.review.knowledge.domains import DEFAULT_LEXICON, build_lexicon, decode_domain
from backbone.review.rules import all_rules
from helpers import review_json, write_tree

# A FastAPI module with two handlers per domain: fleet words (vehicle, driver) are in no
# default domain, auth and payments are.
FLEET_MODULE = textwrap.dedent(
    """\
    from fastapi import APIRouter

    router = APIRouter()

    @router.post("/auth/login")
    def login(username: str, password: str): ...

    @router.post("/auth/logout")
    def logout(token: str): ...

    @router.post("/payments/{payment_id}/refund")
    def refund(payment_id: int): ...

    @router.post("/payments")
    def pay(order_id: int): ...

    @router.get("/vehicles")
    def list_vehicles(): ...

    @router.get("/drivers/{driver_id}")
    def driver_detail(driver_id: int): ...
    """
)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def load(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "backbone.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, all_rules())


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, text)
    return str(raised.value)


# ---------------------------------------------------------------------------------------
# Parsing and validation
# ---------------------------------------------------------------------------------------


def test_domains_table_is_read_in_order_and_handed_to_bb601(tmp_path: Path) -> None:
    config = load_config(
        write_tree(
            tmp_path,
            {
                "backbone.toml": 'replace-default-domains = false\n\n[domains]\nfleet = ["vehicle", "driver"]\n'
                'payments = ["dunning"]\nsearch = []\n'
            },
        )
        / "backbone.toml",
        all_rules(),
    )
    assert config.domains == (("fleet", ("vehicle", "driver")), ("payments", ("dunning",)), ("search", ()))
    assert config.replace_default_domains is False
    options = config.options_for("BB601")
    assert options["domains"] == ("fleet=vehicle,driver", "payments=dunning", "search=")
    assert options["replace-default-domains"] is False


def test_pyproject_tool_backbone_domains(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[tool.backbone]\nreplace-default-domains = true\n\n[tool.backbone.domains]\nfleet = ["vehicle"]\n'
        'billing = ["invoice"]\n',
        encoding="utf-8",
    )
    config = load_config(path, all_rules())
    assert config.replace_default_domains is True
    assert config.options_for("BB601")["domains"] == ("fleet=vehicle", "billing=invoice")


def test_no_domains_leaves_rule_options_alone(tmp_path: Path) -> None:
    path = tmp_path / "backbone.toml"
    path.write_text('[rules.BB601]\nmin-domains = 4\n', encoding="utf-8")
    config = load_config(path, all_rules())
    assert config.domains == ()
    assert config.options_for("BB601") == {"min-domains": 4}


def test_domains_merge_with_other_bb601_options(tmp_path: Path) -> None:
    path = tmp_path / "backbone.toml"
    path.write_text('[rules.god-module]\nmin-domains = 4\n\n[domains]\nfleet = ["vehicle"]\n', encoding="utf-8")
    options = load_config(path, all_rules()).options_for("BB601")
    assert options == {"min-domains": 4, "domains": ("fleet=vehicle",), "replace-default-domains": False}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('domains = ["payments"]\n', "key 'domains': expected a table of domain"),
        ('[domains]\nfleet = "vehicle"\n', "key 'domains.fleet': expected a list of words"),
        ('[domains]\nfleet = ["vehicle", 3]\n', "key 'domains.fleet': expected a list of words"),
        ('[domains]\nfleet = ["delivery_van"]\n', "'delivery_van' is not a single word"),
        ('[domains]\n"9lives" = ["cat"]\n', "key 'domains.9lives': a domain name starts with a letter"),
        ('replace-default-domains = "yes"\n', "key 'replace-default-domains': expected true or false"),
        ("replace-default-domains = true\n", "would leave BB601 without any domain"),
        ('replace-default-domains = true\n[domains]\nsearch = []\n', "would leave BB601 without any domain"),
        ('domain = {}\n', "unknown key (did you mean 'domains'?)"),
    ],
)
def test_invalid_domains_are_errors_naming_the_key(tmp_path: Path, text: str, expected: str) -> None:
    message = error_of(tmp_path, text)
    assert "backbone.toml" in message
    assert expected in message


def test_multi_word_entry_suggests_the_words(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[domains]\nfleet = ["delivery_van"]\n')
    assert "list 'delivery', 'van' instead" in message


def test_domains_set_twice_is_an_error(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[rules.BB601]\ndomains = ["fleet=vehicle"]\n\n[domains]\nfleet = ["van"]\n')
    assert "rules.BB601.domains" in message
    assert "keep one of the two" in message


def test_digest_changes_with_the_lexicon(tmp_path: Path) -> None:
    digests = set()
    for text in (
        "",
        '[domains]\nfleet = ["vehicle"]\n',
        '[domains]\nfleet = ["vehicle", "driver"]\n',
        'replace-default-domains = true\n[domains]\nfleet = ["vehicle", "driver"]\n',
    ):
        config = load(tmp_path, text)
        digests.add(config.digest())
    assert len(digests) == 4


# ---------------------------------------------------------------------------------------
# The lexicon the rule builds
# ---------------------------------------------------------------------------------------


def test_lexicon_extends_adds_removes_and_replaces() -> None:
    assert DEFAULT_LEXICON.domains_of("list_vehicles") == frozenset()
    extended = build_lexicon(("fleet=vehicle,driver", "payments=dunning", "search="), replace_defaults=False)
    assert extended.domains_of("list_vehicles") == {"fleet"}
    assert extended.domains_of("send_dunning_letter") == {"payments"}
    assert extended.domains_of("refund_payment") == {"payments"}
    assert extended.domain("search") is None
    replaced = build_lexicon(("fleet=vehicle",), replace_defaults=True)
    assert [domain.name for domain in replaced.domains] == ["fleet"]
    assert replaced.domains_of("refund_payment") == frozenset()
    # A configured name of a cross-cutting default keeps that nature.
    assert build_lexicon(("admin=staff",), replace_defaults=True).is_cross_cutting("admin")


def test_decode_domain_round_trip() -> None:
    assert decode_domain("fleet=vehicle,driver") == ("fleet", ("vehicle", "driver"))
    assert decode_domain("search=") == ("search", ())


# ---------------------------------------------------------------------------------------
# End to end: the configuration changes what BB601 reports
# ---------------------------------------------------------------------------------------


def test_configured_domain_makes_a_god_module(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path, {"api.py": FLEET_MODULE})
    quiet = review_json(capsys, "--select", "BB601", "--no-cache", ".")
    assert quiet.found() == []
    (tmp_path / "backbone.toml").write_text('[domains]\nfleet = ["vehicle", "driver"]\n', encoding="utf-8")
    run = review_json(capsys, "--select", "BB601", ".")
    assert run.found() == [("api.py", 1, "BB601")]
    message = str(run.findings()[0]["message"])
    assert "fleet (list_vehicles, driver_detail)" in message
    assert "auth (login, logout)" in message and "payments (refund, pay)" in message


def test_removing_or_replacing_defaults_quiets_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path, {"api.py": FLEET_MODULE, "backbone.toml": '[domains]\nfleet = ["vehicle", "driver"]\n'})
    assert review_json(capsys, "--select", "BB601", ".").found() == [("api.py", 1, "BB601")]
    # The cache must not answer with the old lexicon's result.
    (tmp_path / "backbone.toml").write_text(
        '[domains]\nfleet = ["vehicle", "driver"]\nauth = []\n', encoding="utf-8"
    )
    assert review_json(capsys, "--select", "BB601", ".").found() == []
    (tmp_path / "backbone.toml").write_text(
        'replace-default-domains = true\n[domains]\nfleet = ["vehicle", "driver"]\npayments = ["payment"]\n',
        encoding="utf-8",
    )
    assert review_json(capsys, "--select", "BB601", ".").found() == []
