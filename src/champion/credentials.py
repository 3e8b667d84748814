"""Credentials stay in the environment: never in `champion.toml`, never in any output.

Team members give passwords the way their tools expect them: libpq's `PGPASSWORD`,
`~/.pgpass` or a service file for PostgreSQL, `MLFLOW_TRACKING_USERNAME`/`_PASSWORD` or
`MLFLOW_TRACKING_TOKEN` for an MLflow server. Whatever champion prints or logs passes
through `scrub`, which hides those values and any password written inside a URL.
"""

from __future__ import annotations

import logging
import os
import re
from urllib.parse import urlsplit

SECRET_VARIABLES = ("PGPASSWORD", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN", "CHAMPION_API_KEY",
                    "CHAMPION_ADMIN_KEY", "AWS_SECRET_ACCESS_KEY", "AZURE_STORAGE_ACCESS_KEY")
HIDDEN = "***"
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^/@\s:]*):(?P<password>[^/@\s]*)@")


def has_password(url: str) -> bool:
    """Whether `url` carries a password (`scheme://user:password@host`)."""
    try:
        return urlsplit(url).password is not None
    except ValueError:
        return bool(_URL_PASSWORD.search(url))


def redact(url: str) -> str:
    """`url` with its password, if any, replaced by `***`."""
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}:{HIDDEN}@", url)


def scrub(text: str) -> str:
    """`text` with every password inside a URL and every secret variable's value hidden."""
    text = redact(text)
    for name in SECRET_VARIABLES:
        value = os.environ.get(name, "")
        if len(value) >= 4:  # a one-letter "secret" would blank out half the message
            text = text.replace(value, HIDDEN)
    return text


class ScrubbingFilter(logging.Filter):
    """A log filter that hides credentials in every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True
