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
