"""`[tool.backbone]` in pyproject.toml, or backbone.toml: found, parsed and validated.

Every key is known; an unknown key, a wrong type or an unknown rule code is a
`ConfigError` naming the file and the key, which the CLI turns into exit code 2.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from backbone.findings import Confidence, Severity
from backbone.records import Record
from backbone.review.knowledge.error_options import (
    BUSINESS_OPTION,
    ERRORS_RULE,
    INFRASTRUCTURE_OPTION,
    VALIDATION_OPTION,
)
from backbone.review.rules import ENGINE_CODES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

if TYPE_CHECKING:
    from backbone.review.rules.base import OptionValue, Rule

DEFAULT_EXCLUDE: tuple[str, ...] = (
    ".git",
    ".hg",
    ".svn",
    ".bzr",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".eggs",
    "*.egg-info",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".backbone_cache",
    "node_modules",
    "site-packages",
    "build",
    "dist",
    "_build",
    "buck-out",
)

DEFAULT_MAX_FILE_SIZE_KB = 1024
DEFAULT_POSTGRES_VERSION = 15
POSTGRES_VERSION_OPTION = "postgres-version"

# The rule that reads the business-domain lexicon, and the options `[tool.backbone.domains]`
# and `replace-default-domains` are handed to it as (rule options reach rules; a table of
# their own would not).
DOMAINS_RULE = "BB601"
DOMAINS_OPTION = "domains"
REPLACE_DOMAINS_OPTION = "replace-default-domains"
_DOMAIN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_DOMAIN_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")

# `[tool.backbone.errors]`: the status each failure layer answers with, handed to BB104 as its
# options. Each key -> (the option, the status range the layer's answers must fall in).
_ERROR_LAYERS: dict[str, tuple[str, int, int]] = {
    "validation": (VALIDATION_OPTION, 400, 499),
    "business": (BUSINESS_OPTION, 400, 499),
    "infrastructure": (INFRASTRUCTURE_OPTION, 500, 599),
}


class ConfigError(Exception):
    """A configuration problem a person can fix; the message names the file and the key."""


# The default report holds the findings whose rule is measured right at least four times in
# five (backbone.review.calibration); `min-confidence` or `--min-confidence` shows more.
DEFAULT_MIN_CONFIDENCE = Confidence.HIGH


class Config(Record, frozen=True):
    source: Path | None = None
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    severity: tuple[tuple[str, Severity], ...] = ()
    fail_on: Severity = Severity.INFO
    # Findings below this confidence are not reported.
    min_confidence: Confidence = msgspec.field(default_factory=lambda: DEFAULT_MIN_CONFIDENCE)
    max_file_size_kb: int = DEFAULT_MAX_FILE_SIZE_KB
    rule_options: tuple[tuple[str, tuple[tuple[str, OptionValue], ...]], ...] = ()
    # `[tool.backbone.domains]`: domain name -> words, in file order; BB601's lexicon.
    domains: tuple[tuple[str, tuple[str, ...]], ...] = ()
    replace_default_domains: bool = False
    # `[tool.backbone.errors]`: failure layer -> the statuses it answers with, in file order.
    errors: tuple[tuple[str, tuple[int, ...]], ...] = ()
    # `repository-url`: the https GitHub/GitLab repository whose docs/rules/ pages SARIF links to.
    repository_url: str | None = None
    # `postgres-version`: the PostgreSQL major version migrations run on (the BB7 rules' option).
    postgres_version: int = DEFAULT_POSTGRES_VERSION
    raw: Mapping[str, object] = msgspec.field(default_factory=dict)

    @property
    def root(self) -> Path | None:
        return self.source.parent if self.source else None

    def options_for(self, code: str) -> dict[str, OptionValue]:
        for rule_code, options in self.rule_options:
            if rule_code == code:
                return dict(options)
        return {}

    def severity_for(self, code: str, default: Severity) -> Severity:
        return dict(self.severity).get(code, default)

    def digest(self) -> str:
        """Changes whenever a setting that can change a file's findings changes."""
        payload = json.dumps(
            {
                "select": self.select,
                "ignore": self.ignore,
                "options": [(code, [(k, repr(v)) for k, v in opts]) for code, opts in self.rule_options],
                "domains": [[name, list(words)] for name, words in self.domains],
                "replace-default-domains": self.replace_default_domains,
                "errors": [[layer, list(statuses)] for layer, statuses in self.errors],
            },
            sort_keys=True,
        )
        return hashlib.blake2b(payload.encode(), digest_size=12).hexdigest()


def _encode_domain(name: str, words: tuple[str, ...]) -> str:
    # The lexicon module loads only for configurations that have a [domains] table.
    from backbone.review.knowledge.domains import encode_domain

    return encode_domain(name, words)


def code_matches(selector: str, code: str) -> bool:
    """`ALL` matches everything; otherwise a selector is a code or a prefix of codes."""
    return selector == "ALL" or code.startswith(selector)


def is_selected(code: str, select: Iterable[str], ignore: Iterable[str]) -> bool:
    """The longest matching selector wins, as in ruff: `select=["BB1"], ignore=["BB101"]`."""
    best_select = max((len(s) if s != "ALL" else 0 for s in select if code_matches(s, code)), default=-1)
    best_ignore = max((len(s) if s != "ALL" else 0 for s in ignore if code_matches(s, code)), default=-1)
    return best_select >= 0 and best_select > best_ignore


def _is_file(path: Path) -> bool:
    # Path.is_file raises on a directory that can't be searched; such a file is not there for us.
    try:
        return path.is_file()
    except OSError:
        return False


def _is_directory(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def find_config(start: Path) -> Path | None:
    """The nearest backbone.toml, or pyproject.toml with a [tool.backbone] table, upwards."""
    directory = start if _is_directory(start) else start.parent
    # Absolute first: Path(".").parents is empty, and the search must go above the working directory.
    directory = Path(os.path.abspath(directory))
    for candidate in [directory, *directory.parents]:
        dedicated = candidate / "backbone.toml"
        if _is_file(dedicated):
            return dedicated
        pyproject = candidate / "pyproject.toml"
        if _is_file(pyproject):
            try:
                text = pyproject.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if "[tool.backbone" in text:
                return pyproject
    return None


def load_config(path: Path | None, rules: Mapping[str, type[Rule]]) -> Config:
    """Read and validate a configuration file; `None` gives the defaults."""
    if path is None:
        return Config()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the configuration: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the configuration is not UTF-8 text") from None
    except ValueError as error:  # TOMLDecodeError, and numbers too long to convert
        raise ConfigError(f"{path}: invalid TOML: {_one_line(str(error))}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: values nested too deeply") from None
    if path.name == "pyproject.toml":
        tool = document.get("tool", {})
        table = tool.get("backbone", {}) if isinstance(tool, dict) else {}
        prefix = "[tool.backbone]"
    else:
        table = document
        prefix = "backbone.toml"
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {prefix} must be a table")
    try:
        return _Validator(path, prefix, rules).validate(table)
    except RecursionError:
        raise ConfigError(f"{path}: {prefix} holds values nested too deeply") from None


def _one_line(text: str, limit: int = 400) -> str:
    """A message quoting the user's file, kept to one line of reasonable length (its start
    and its end, where the advice is)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    half = (limit - 5) // 2
    return f"{text[:half]} ... {text[-half:]}"


class _Validator:
    KEYS = (
        "select",
        "ignore",
        "extend-select",
        "per-file-ignores",
        "exclude",
        "extend-exclude",
        "respect-gitignore",
        "severity",
        "fail-on",
        "min-confidence",
        "max-file-size-kb",
        "rules",
        "domains",
        "replace-default-domains",
        "errors",
        "repository-url",
        "postgres-version",
    )

    def __init__(self, path: Path, prefix: str, rules: Mapping[str, type[Rule]]) -> None:
        self.path = path
        self.prefix = prefix
        self.rules = rules

    def error(self, key: str, reason: str) -> ConfigError:
        return ConfigError(f"{self.path}: {self.prefix} key '{_one_line(key, 80)}': {_one_line(reason)}")

    def validate(self, table: dict[str, object]) -> Config:
        for key in table:
            if key not in self.KEYS:
                close = _close_matches(key, self.KEYS, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise self.error(key, f"unknown key{hint}; known keys: {', '.join(self.KEYS)}")
        # An explicit `select = []` selects nothing (extend-select may add to it), as in ruff.
        select = self.codes(table, "select") if "select" in table else ("ALL",)
        select = select + self.codes(table, "extend-select")
        per_file: list[tuple[str, tuple[str, ...]]] = []
        raw_per_file = table.get("per-file-ignores", {})
        if not isinstance(raw_per_file, dict):
            raise self.error("per-file-ignores", "expected a table of glob = [codes]")
        for pattern, codes in raw_per_file.items():
            per_file.append((pattern, self.code_list(f"per-file-ignores.{pattern}", codes)))
        severity: list[tuple[str, Severity]] = []
        raw_severity = table.get("severity", {})
        if not isinstance(raw_severity, dict):
            raise self.error("severity", "expected a table of CODE = \"error\" | \"warning\" | \"info\"")
        for code, level in raw_severity.items():
            self.check_code(f"severity.{code}", code, exact=True)
            severity.append((code, self.severity_value(f"severity.{code}", level)))
        fail_on = table.get("fail-on", "info")
        size = table.get("max-file-size-kb", DEFAULT_MAX_FILE_SIZE_KB)
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise self.error("max-file-size-kb", f"expected a positive integer, got {size!r}")
        gitignore = table.get("respect-gitignore", True)
        if not isinstance(gitignore, bool):
            raise self.error("respect-gitignore", f"expected true or false, got {gitignore!r}")
        domains = self.domains(table.get("domains", {}))
        replace_domains = table.get("replace-default-domains", False)
        if not isinstance(replace_domains, bool):
            raise self.error("replace-default-domains", f"expected true or false, got {replace_domains!r}")
        if replace_domains and not any(words for _, words in domains):
            raise self.error(
                "replace-default-domains",
                "true with no words in [tool.backbone.domains] would leave BB601 without any domain; "
                "list your domains there, or remove this key to extend the default lexicon",
            )
        rule_options = self.with_domains(self.rule_options(table.get("rules", {})), domains, replace_domains)
        errors = self.errors(table.get("errors", {}))
        rule_options = self.with_errors(rule_options, errors)
        repository = table.get("repository-url")
        if repository is not None and not (isinstance(repository, str) and repository.startswith("https://")):
            raise self.error("repository-url", f"expected an https URL, got {repository!r}")
        postgres_version = table.get(POSTGRES_VERSION_OPTION, DEFAULT_POSTGRES_VERSION)
        if not isinstance(postgres_version, int) or isinstance(postgres_version, bool) or not 9 <= postgres_version <= 99:
            raise self.error(POSTGRES_VERSION_OPTION, f"expected a PostgreSQL major version such as 15, got {postgres_version!r}")
        if POSTGRES_VERSION_OPTION in table:
            rule_options = self.with_postgres_version(rule_options, postgres_version)
        return Config(
            source=self.path,
            select=select,
            ignore=self.codes(table, "ignore"),
            per_file_ignores=tuple(per_file),
            exclude=self.strings(table, "exclude") if "exclude" in table else DEFAULT_EXCLUDE,
            extend_exclude=self.strings(table, "extend-exclude"),
            respect_gitignore=gitignore,
            severity=tuple(severity),
            fail_on=self.severity_value("fail-on", fail_on),
            min_confidence=self.confidence_value("min-confidence", table.get("min-confidence", DEFAULT_MIN_CONFIDENCE.value)),
            max_file_size_kb=size,
            rule_options=rule_options,
            domains=domains,
            replace_default_domains=replace_domains,
            errors=errors,
            repository_url=repository,
            postgres_version=postgres_version,
            raw=table,
        )

    def confidence_value(self, key: str, value: object) -> Confidence:
        if not isinstance(value, str):
            raise self.error(key, f"expected \"high\", \"medium\" or \"low\", got {value!r}")
        try:
            return Confidence.parse(value)
        except ValueError as error:
            raise self.error(key, str(error)) from None

    def strings(self, table: Mapping[str, object], key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(key, f"expected a list of strings, got {value!r}")
        return tuple(value)

    def codes(self, table: Mapping[str, object], key: str) -> tuple[str, ...]:
        return self.code_list(key, table.get(key, []))

    def code_list(self, key: str, value: object) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(key, f"expected a list of rule codes, got {value!r}")
        for code in value:
            self.check_code(key, code)
        return tuple(value)

    def check_code(self, key: str, code: str, exact: bool = False) -> None:
        if not exact and code == "ALL":
            return
        known = [*self.rules.keys(), *ENGINE_CODES]
        valid = code in known if exact else any(known_code.startswith(code) for known_code in known)
        if not valid:
            close = _close_matches(code, list(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise self.error(key, f"unknown rule code '{code}'{hint}; `backbone rules` lists them")

    def severity_value(self, key: str, value: object) -> Severity:
        if not isinstance(value, str):
            raise self.error(key, f"expected \"error\", \"warning\" or \"info\", got {value!r}")
        try:
            return Severity.parse(value)
        except ValueError as error:
            raise self.error(key, str(error)) from None

    def rule_options(self, value: object) -> tuple[tuple[str, tuple[tuple[str, OptionValue], ...]], ...]:
        if not isinstance(value, dict):
            raise self.error("rules", "expected tables such as [tool.backbone.rules.BB501]")
        # Rule classes load lazily: look at their names only when a rule table is present.
        by_name: dict[str, str] = {rule.name: code for code, rule in self.rules.items()} if value else {}
        result: list[tuple[str, tuple[tuple[str, OptionValue], ...]]] = []
        for rule_key, options in value.items():
            code = by_name.get(str(rule_key), str(rule_key))
            key = f"rules.{rule_key}"
            self.check_code(key, code, exact=True)
            if code not in self.rules:
                raise self.error(key, f"{code} is reported by the engine and has no options")
            if any(configured == code for configured, _ in result):
                raise self.error(key, f"{code} is configured twice (by code and by name); keep one table")
            if not isinstance(options, dict):
                raise self.error(key, "expected a table of options")
            declared = {option.name: option for option in self.rules[code].options}
            parsed: list[tuple[str, OptionValue]] = []
            for name, option_value in options.items():
                if name not in declared:
                    known = ", ".join(declared) or "none"
                    raise self.error(f"{key}.{name}", f"unknown option for {code} (its options: {known})")
                parsed.append((name, self.option_value(f"{key}.{name}", declared[name].default, option_value)))
            result.append((code, tuple(parsed)))
        return tuple(result)

    def domains(self, value: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """`[tool.backbone.domains]`: `billing = ["invoice", "dunning"]`, one table entry per domain."""
        if not isinstance(value, dict):
            raise self.error("domains", 'expected a table of domain = ["word", ...], such as [tool.backbone.domains]')
        result: list[tuple[str, tuple[str, ...]]] = []
        for name, words in value.items():
            key = f"domains.{name}"
            if not _DOMAIN_NAME.match(str(name)):
                raise self.error(key, "a domain name starts with a letter and holds only letters, digits, '_' and '-'")
            if not isinstance(words, list) or not all(isinstance(word, str) for word in words):
                raise self.error(key, f"expected a list of words, got {words!r}")
            for word in words:
                if not _DOMAIN_WORD.match(word):
                    parts = [part for part in re.split(r"[^A-Za-z0-9]+", word) if part]
                    hint = f"; list {', '.join(repr(part) for part in parts)} instead" if len(parts) > 1 else ""
                    raise self.error(
                        key,
                        f"{word!r} is not a single word: identifiers are split into words (at '_' and case "
                        f"changes) before they are matched, so each entry must be one word of letters and "
                        f"digits{hint}",
                    )
            result.append((str(name), tuple(words)))
        return tuple(result)

    def with_domains(
        self,
        options: tuple[tuple[str, tuple[tuple[str, OptionValue], ...]], ...],
        domains: tuple[tuple[str, tuple[str, ...]], ...],
        replace_domains: bool,
    ) -> tuple[tuple[str, tuple[tuple[str, OptionValue], ...]], ...]:
        """The rule options with the domain lexicon handed to the rule that reads it."""
        if not domains and not replace_domains:
            return options
        if DOMAINS_RULE not in self.rules:
            return options
        injected: tuple[tuple[str, OptionValue], ...] = (
            (DOMAINS_OPTION, tuple(_encode_domain(name, words) for name, words in domains)),
            (REPLACE_DOMAINS_OPTION, replace_domains),
        )
        result: list[tuple[str, tuple[tuple[str, OptionValue], ...]]] = []
        found = False
        for code, rule_options in options:
            if code == DOMAINS_RULE:
                found = True
                for name, _ in rule_options:
                    if name in (DOMAINS_OPTION, REPLACE_DOMAINS_OPTION):
                        raise self.error(
                            f"rules.{DOMAINS_RULE}.{name}",
                            "the domain lexicon is configured with [tool.backbone.domains] and "
                            "replace-default-domains; keep one of the two",
                        )
                rule_options = rule_options + injected
            result.append((code, rule_options))
        if not found:
            result.append((DOMAINS_RULE, injected))
        return tuple(result)

    def with_postgres_version(
        self, options: tuple[tuple[str, tuple[tuple[str, OptionValue], ...]], ...], version: int
    ) -> tuple[tuple[str, tuple[tuple[str, OptionValue], ...]], ...]:
        """The rule options with `postgres-version` handed to every rule that declares it (BB7)."""
        codes = [code for code in self.rules if code.startswith("BB7")
                 and any(option.name == POSTGRES_VERSION_OPTION for option in self.rules[code].options)]
        configured = dict(options)
        result = [(code, rule_options) for code, rule_options in options if code not in codes]
        for code in codes:
            own = configured.get(code, ())
            if any(name == POSTGRES_VERSION_OPTION for name, _ in own):
                result.append((code, own))
            else:
                result.append((code, own + ((POSTGRES_VERSION_OPTION, version),)))
        return tuple(result)

    def errors(self, value: object) -> tuple[tuple[str, tuple[int, ...]], ...]:
        """`[tool.backbone.errors]`: `validation = 400`, `business = 422`, `infrastructure = [500, 503]`."""
        if not isinstance(value, dict):
            raise self.error("errors", "expected a table such as [tool.backbone.errors] with validation, business, infrastructure")
        result: list[tuple[str, tuple[int, ...]]] = []
        for layer, statuses in value.items():
            key = f"errors.{layer}"
            if layer not in _ERROR_LAYERS:
                close = _close_matches(str(layer), list(_ERROR_LAYERS), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise self.error(key, f"unknown failure layer{hint}; the layers are {', '.join(_ERROR_LAYERS)}")
            _, lowest, highest = _ERROR_LAYERS[layer]
            many = layer == "infrastructure"
            items = statuses if many and isinstance(statuses, list) else [statuses]
            expected = "an HTTP status or a list of them" if many else "an HTTP status"
            if not items or not all(isinstance(item, int) and not isinstance(item, bool) for item in items):
                raise self.error(key, f"expected {expected} between {lowest} and {highest}, got {statuses!r}")
            for item in items:
                if not lowest <= item <= highest:
                    raise self.error(
                        key, f"{item} is not a {lowest // 100}xx status; the {layer} layer answers with {lowest}-{highest}"
                    )
            result.append((str(layer), tuple(items)))
        return tuple(result)

    def with_errors(
        self,
        options: tuple[tuple[str, tuple[tuple[str, OptionValue], ...]], ...],
        errors: tuple[tuple[str, tuple[int, ...]], ...],
    ) -> tuple[tuple[str, tuple[tuple[str, OptionValue], ...]], ...]:
        """The rule options with the statuses of `[tool.backbone.errors]` handed to BB104."""
        if not errors or ERRORS_RULE not in self.rules:
            return options
        injected: list[tuple[str, OptionValue]] = []
        for layer, statuses in errors:
            option = _ERROR_LAYERS[layer][0]
            injected.append((option, tuple(str(status) for status in statuses) if layer == "infrastructure" else statuses[0]))
        result: list[tuple[str, tuple[tuple[str, OptionValue], ...]]] = []
        found = False
        for code, rule_options in options:
            if code == ERRORS_RULE:
                found = True
                for name, _ in rule_options:
                    if any(name == option for option, _ in injected):
                        raise self.error(
                            f"rules.{ERRORS_RULE}.{name}",
                            "this status is configured in [tool.backbone.errors] too; keep one of the two",
                        )
                rule_options = rule_options + tuple(injected)
            result.append((code, rule_options))
        if not found:
            result.append((ERRORS_RULE, tuple(injected)))
        return tuple(result)

    def option_value(self, key: str, default: OptionValue, value: object) -> OptionValue:
        if isinstance(default, tuple):
            if isinstance(value, list) and all(isinstance(item, str) for item in value):
                return tuple(value)
            raise self.error(key, f"expected a list of strings, got {value!r}")
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
        elif isinstance(default, int):
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        elif isinstance(default, float):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        elif isinstance(value, str):
            return value
        raise self.error(key, f"expected a value like {default!r}, got {value!r}")


def _close_matches(word: str, possibilities: list[str] | tuple[str, ...], n: int) -> list[str]:
    """difflib's suggestions for a misspelt name; difflib loads only for a configuration in error."""
    import difflib

    return difflib.get_close_matches(word, possibilities, n=n)
