"""The database URL from an RDS secret in Secrets Manager, fetched once per Lambda container.

In AWS no password sits in an environment variable: the template generates the credentials into a
secret (the format RDS uses: JSON with username, password, host, port, dbname) and gives the
functions its ARN. The Lambdas connect through the RDS Proxy, whose endpoint the template passes
separately (``host``), because the secret must exist before the proxy that reads it.
"""
from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import quote

# One fetch per container and secret: a Secrets Manager call costs ~50 ms and $0.05 per 10,000.
_cache: dict[tuple[str, str | None], str] = {}
_lock = threading.Lock()


class DatabaseSecretError(ValueError):
    """The secret exists but does not describe a database connection."""


def database_url_from_secret(secret_arn: str, host: str | None = None, client: Any = None) -> str:
    """A ``postgresql://`` URL (TLS required) built from the secret; ``host`` overrides its host.

    Cached for the life of the process; ``client`` is a boto3 Secrets Manager client (default: a
    new one in the region of the environment).
    """
    key = (secret_arn, host)
    with _lock:
        if key not in _cache:
            if client is None:
                import boto3

                client = boto3.client("secretsmanager")
            secret = client.get_secret_value(SecretId=secret_arn)["SecretString"]
            _cache[key] = url_from_secret_json(secret, host=host, where=secret_arn)
        return _cache[key]


def url_from_secret_json(secret: str, host: str | None = None, where: str = "the secret") -> str:
    """The URL for an RDS-format secret string; a missing field is named in the error."""
    try:
        fields = json.loads(secret)
    except json.JSONDecodeError as exc:
        raise DatabaseSecretError(f"{where} is not JSON: {exc.msg}") from exc
    if not isinstance(fields, dict):
        raise DatabaseSecretError(f"{where} must hold a JSON object")
    host = host or fields.get("host")
    missing = [name for name, value in (("username", fields.get("username")),
                                        ("password", fields.get("password")), ("host", host))
               if not isinstance(value, str) or not value]
    if missing:
        raise DatabaseSecretError(f"{where} lacks {', '.join(missing)}")
    port = fields.get("port", 5432)
    if not str(port).isdigit():
        raise DatabaseSecretError(f"{where} has a port that is not a number: {port!r}")
    dbname = fields.get("dbname") or "postgres"
    user, password, host, dbname = (quote(part, safe="") for part in (fields["username"], fields["password"], host, dbname))
    return f"postgresql://{user}:{password}@{host}:{port}/{dbname}?sslmode=require"


def clear_cache() -> None:
    """Forget fetched secrets (tests; a rotated secret is picked up by new containers anyway)."""
    with _lock:
        _cache.clear()
