"""The errors that the logic raises and the API turns into 4xx responses.

The logic knows nothing of HTTP: each error carries the status a caller should see, and
``app.py`` renders any of them as a JSON body ``{"error": code, "message": ...}``.
"""
from __future__ import annotations


class VitrinaError(Exception):
    """Base of every error a client can cause."""

    status = 400
    code = "bad_request"


class InvalidInput(VitrinaError):
    """A request or record that breaks the documented format."""


class InvalidImage(InvalidInput):
    """Bytes that are not a decodable photo, or one too large to decode safely."""

    code = "invalid_image"


class PayloadTooLarge(VitrinaError):
    status = 413
    code = "payload_too_large"


class NotFound(VitrinaError):
    status = 404
    code = "not_found"


class ModelIntegrityError(Exception):
    """A model file that does not match its manifest: refused, never served."""
