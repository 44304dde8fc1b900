"""Invitation texts (CONF-07) in German and English: for all (dial-in number, guest PIN) or
for one participant (plus their personal PIN); who may ask for which."""

from __future__ import annotations

from cti.conferences import commands as c
from cti.conferences.invitations import Language
from cti.conferences.queries import ConferenceInvitation
from cti.kernel.refusal import Refusal
from tests.conferences.helpers import guest_pin, office, pin_of


def test_conf07_for_all_with_the_guest_pin_in_german_and_english() -> None:
    o = office()
    o.do(c.CreateConference(user="330", name="Jour fixe"))
    o.do(c.SetGuestPin(user="330", conference=1, enabled=True))
    pin = guest_pin(o, 1)
    de = o.node.query(ConferenceInvitation(user="330", conference=1))
    assert de == {
        "text": 'Sie sind zur Telefonkonferenz "Jour fixe" eingeladen.\n'
        "Wählen Sie +49897007391 (intern 391).\n"
        f"Geben Sie danach die Gast-PIN {pin} ein und bestätigen Sie mit #.",
        "dialIn": "+49897007391",
        "dialInInternal": "391",
    }
    en = o.node.query(ConferenceInvitation(user="330", conference=1, language=Language.EN))
    assert isinstance(en, dict)
    assert en["text"] == (
        'You are invited to the conference call "Jour fixe".\n'
        "Dial +49897007391 (internally 391).\n"
        f"Then enter the guest PIN {pin} followed by #."
    )


def test_conf07_without_a_guest_pin_the_text_says_who_gives_it() -> None:
    o = office()
    o.do(c.CreateConference(user="330", name="Jour fixe"))
    en = o.node.query(ConferenceInvitation(user="330", conference=1, language=Language.EN))
    assert isinstance(en, dict)
    assert en["text"].endswith("The moderator will give you the PIN.")


def test_conf07_for_one_participant_with_their_personal_pin() -> None:
    o = office()
    o.do(c.CreateConference(user="330", name="Jour fixe"))
    o.do(c.AddParticipant(user="330", conference=1, member="331"))
    pin = pin_of(o, 1, 2)
    for asker in ("330", "331"):  # the moderator, and Bernd for himself
        de = o.node.query(ConferenceInvitation(user=asker, conference=1, participant=2))
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
    for q in (
        ConferenceInvitation(user="331", conference=1, participant=1),
        ConferenceInvitation(user="331", conference=1),
    ):
        try:
            o.node.query(q)
        except Refusal as r:
            assert (r.name, r.details["rule"]) == ("notAModerator", "CONF-02")
        else:
            raise AssertionError("answered")
    try:
        o.node.query(ConferenceInvitation(user="332", conference=1))
    except Refusal as r:
        assert r.name == "unknownConference"
    else:
        raise AssertionError("a non-member got an invitation")
