"""Invitation texts (CONF-07) in German and English: for all (dial-in number, guest PIN) or
for one participant (plus their personal PIN); who may ask for which."""

from __future__ import annotations

from cti.accounts.commands import SeedAccounts
from cti.app.config import load_config
from cti.conferences import commands as c
from cti.conferences.commands import ConferenceInvitation
from cti.conferences.invitations import Language
from tests.conferences.helpers import guest_pin, office, pin_of, site
from tests.office import Office
from tests.presence.helpers import seeds


def invite(o: Office, command: ConferenceInvitation) -> dict[str, object]:
    before = o.store.last_seq()
    o.do(command)
    assert o.store.last_seq() == before  # records nothing
    return o.last_result


def test_conf07_for_all_with_the_guest_pin_in_german_and_english() -> None:
    o = office()
    o.do(c.CreateConference(user="330", name="Jour fixe"))
    o.do(c.SetGuestPin(user="330", conference=1, enabled=True))
    pin = guest_pin(o, 1)
    de = invite(o, ConferenceInvitation(user="330", conference=1))
    assert de == {
        "text": 'Sie sind zur Telefonkonferenz "Jour fixe" eingeladen.\n'
        "Wählen Sie +49897007391 (intern 391).\n"
        f"Geben Sie danach die Gast-PIN {pin} ein und bestätigen Sie mit #.",
        "dialIn": "+49897007391",
        "dialInInternal": "391",
    }
    en = invite(o, ConferenceInvitation(user="330", conference=1, language=Language.EN))
    assert isinstance(en, dict)
    assert en["text"] == (
        'You are invited to the conference call "Jour fixe".\n'
        "Dial +49897007391 (internally 391).\n"
        f"Then enter the guest PIN {pin} followed by #."
    )


def test_conf07_without_a_guest_pin_the_text_says_who_gives_it() -> None:
    o = office()
    o.do(c.CreateConference(user="330", name="Jour fixe"))
    en = invite(o, ConferenceInvitation(user="330", conference=1, language=Language.EN))
    assert isinstance(en, dict)
    assert en["text"].endswith("The moderator will give you the PIN.")


def test_conf07_for_one_participant_with_their_personal_pin() -> None:
    o = office()
    o.do(c.CreateConference(user="330", name="Jour fixe"))
    o.do(c.AddParticipant(user="330", conference=1, member="331"))
    pin = pin_of(o, 1, 2)
    for asker in ("330", "331"):  # the moderator, and Bernd for himself
        de = invite(o, ConferenceInvitation(user=asker, conference=1, participant=2))
        assert isinstance(de, dict)
        assert de["text"] == (
            "Hallo Bernd Vogel,\n"
            'Sie sind zur Telefonkonferenz "Jour fixe" eingeladen.\n'
            "Wählen Sie +49897007391 (intern 391).\n"
            f"Geben Sie danach Ihre persönliche PIN {pin} ein und bestätigen Sie mit #."
        )


def test_conf07_a_participant_gets_no_one_elses_pin() -> None:
    o = office()
    o.do(c.CreateConference(user="330", name="Jour fixe"))
    o.do(c.AddParticipant(user="330", conference=1, member="331"))
    for command in (
        ConferenceInvitation(user="331", conference=1, participant=1),
        ConferenceInvitation(user="331", conference=1),
    ):
        r = o.refuse(command)
        assert (r.name, r.details["rule"]) == ("notAModerator", "CONF-02")
    assert o.refuse(ConferenceInvitation(user="332", conference=1)).name == "unknownConference"


def test_conf07_monitors_get_no_invitation() -> None:
    """A monitor may ask every query; an invitation carries a PIN, so it is none."""
    monitor = next(u for u in load_config().users if u.name == "monitor")
    o = Office(site())
    o.do(SeedAccounts(accounts=(monitor.seed(), *seeds())))  # the monitor may sign in
    o.do(c.CreateConference(user="330", name="Jour fixe"))
    r = o.node.execute(ConferenceInvitation(user="330", conference=1), principal="monitor")
    assert not r.ok and r.error.name == "notPermitted"  # type: ignore[union-attr]
