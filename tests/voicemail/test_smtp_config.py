"""The [smtp] section (VM-07): read with its defaults, refused clearly when wrong, and the
password never shown."""

from __future__ import annotations

import pytest

from cti.app.config.smtp import SmtpSettings, smtp_from_dict
from cti.site import SiteError


def test_the_section_with_its_defaults() -> None:
    assert smtp_from_dict(None) is None
    assert smtp_from_dict({"host": "mail"}) == SmtpSettings(host="mail")
    s = smtp_from_dict({"host": "mail", "port": 587, "user": "u", "password": "Geheim-1"})
    assert s is not None and s.starttls and s.port == 587
    assert "Geheim-1" not in repr(s)
    assert SmtpSettings(host="mail").max_age == 5 * 24 * 3600  # an MTA's queue lifetime
    days = smtp_from_dict({"host": "mail", "max_age": 86400})
    assert days is not None and days.max_age == 86400.0


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({}, "[smtp]: host must be given"),
        ({"host": "mail", "port": 0}, "[smtp]: port must be a whole number 1..65535, not 0"),
        ({"host": "mail", "user": "u"}, "[smtp]: give user and password together (or neither)"),
        ({"host": "mail", "starttls": "yes"}, "[smtp]: starttls must be true or false"),
        ({"host": "mail", "retry_max": 0}, "[smtp]: retry_max must be a positive number"),
        ({"host": "mail", "max_age": -1}, "[smtp]: max_age must be a positive number"),
        ({"host": "mail", "pasword": "x"}, "[smtp]: unknown key 'pasword'"),
    ],
)
def test_a_wrong_section_is_refused_naming_the_key(
    section: dict[str, object], message: str
) -> None:
    with pytest.raises(SiteError) as err:
        smtp_from_dict(section)
    assert str(err.value).startswith(message)
