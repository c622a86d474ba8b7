from __future__ import annotations

import textwrap

from backbone.review.checker import check_source


def lines(snippet: str) -> list[int]:
    return [f.line for f in check_source(textwrap.dedent(snippet), ("BB501",), path="service/auth.py", module="service.auth")]


def test_enumeration_members_are_labels_not_credentials() -> None:
    """An Enum member's value is its identity (an auth method's id), not a secret."""
    assert lines(
        """
        import enum
        from enum import Enum

        from service.utils.enum_utils import StrEnum


        class AuthenticationMethods(StrEnum):
            ED25519_KEY_OPTIONAL_PASSPHRASE = "ed25519-key"


        class TokenKinds(str, Enum):
            REFRESH_TOKEN_SECRET = "refresh-signing-k3y"


        class LocalBase(enum.Enum):
            pass


        class Credentials(LocalBase):
            API_KEY_HEADER = "x-api-key-h3ader"
        """
    ) == []


def test_class_attributes_of_other_classes_are_still_reported() -> None:
    assert lines(
        """
        import enum

        from service.config import BaseSettings


        class Settings(BaseSettings):
            API_KEY = "Tz8qW3fkR9xLp2"


        class NotAnEnum:
            PASSWORD = "Tz8qW3fkR9xLp2"


        class Kinds(enum.Enum):
            def setup(self):
                self.password = "Tz8qW3fkR9xLp2"
        """
    ) == [8, 12, 17]


def test_module_paths_and_dotted_names_are_not_credentials() -> None:
    """A lazy-import map of class names to relative module paths, and a map of routes to permission names."""
    assert lines(
        """
        _dynamic_imports = {
            "TaskBlockParametersItem_AwsSecret": ".task_block_parameters_item",
            "WaitBlockParametersItem_BitwardenLoginCredential": ".wait_block_parameters_item",
        }
        ROUTE_ACTIONS = {
            "service.routes.credentials.update_vault_credential": "vault_provider.update",
            "service.routes.credentials.rotate_secret": "credential_store.rotate_all",
        }
        """
    ) == []


def test_dotted_values_with_random_words_are_still_reported() -> None:
    assert lines(
        """
        DB_PASSWORD = "p4ss.w0rd.Kz9"
        SESSION_SECRET = "Tz8qW3.fkR9xLp2"
        """
    ) == [2, 3]


def test_values_a_literal_type_lists_are_choices_not_credentials() -> None:
    """A mapping annotated `dict[str, Literal[...]]` holds one of the listed choices (OAuth response modes)."""
    assert lines(
        """
        from typing import Literal

        DEFAULT_RESPONSE_MODE: dict[str, Literal["query", "fragment"]] = {
            "code": "query",
            "code id_token": "fragment",
            "code id_token token": "fragment",
        }

        def authorize(response_type, *, token_mode: Literal["fragment", "form_post"] = "form_post"):
            ...
        """
    ) == []


def test_values_outside_the_literal_choices_are_still_reported() -> None:
    assert lines(
        """
        from typing import Literal

        MODES: dict[str, Literal["query", "fragment"]] = {"access token": "Tz8qW3fkR9xLp2"}
        SECRETS: dict[str, str] = {"api_token": "fragmentary"}

        def connect(*, password: Literal["a", "b"] | str = "Tz8qW3fkR9"):
            ...
        """
    ) == [4, 5, 7]


def test_project_keys_of_analytics_services_are_public() -> None:
    """A PostHog project key only sends events and ships in every page; a personal key reads data."""
    assert lines(
        """
        POSTHOG_API_KEY = "phc_" "FAKEFAKEFAKEFAKEFAKEFAKEFAKE1234"
        POSTHOG_PERSONAL_API_KEY = "phx_" "FAKEFAKEFAKEFAKEFAKEFAKEFAKE1234"
        """
    ) == [3]
