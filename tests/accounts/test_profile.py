"""USER-03: a user's profile (numbers, e-mail, photo, presence visibility, voicemail to e-mail).

Changed by its owner or an administrator, a field at a time; recorded as a public
profileChanged (the photo by its hash) after an internal profilePhotoSet (the image); numbers
and addresses kept in one canonical form; photos checked and scaled to 200x200 before they
reach the node.
"""

from __future__ import annotations

import base64
import hashlib
import io
import struct
import zlib
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from cti.accounts import events as ev
from cti.accounts import photos
from cti.accounts.commands import AccountSeed, SeedAccounts, SetProfileChecked
from cti.accounts.model import Photo, PhotoType, Profile, ProfileField, Role, Visibility
from cti.accounts.profiles import GetProfile, canonical_email, canonical_number
from cti.api import documents
from cti.api import execute as api
from cti.api.requests import BadRequest, parse_action, parse_request, payload_limit
from cti.app.clock import ManualClock
from cti.app.config import load_site
from cti.app.engine import Engine
from cti.app.node import Accepted, Node, Refused, replay
from cti.domain import snapshot
from cti.kernel.refusal import Refusal
from cti.store import MemoryStore

SITE = load_site()
# name: (role, must change the password first)
ACCOUNTS = {
    "330": (Role.ADMIN, False),
    "331": (Role.USER, False),
    "332": (Role.USER, False),
    "333": (Role.USER, True),
    "phone-sim": (Role.INTEGRATOR, False),
    "monitor": (Role.MONITOR, False),
}


def seeded() -> Node:
    """The example office with accounts; stand-ins for the password hashes (nothing here
    signs in, and hashing is slow)."""
    node = Node(SITE, MemoryStore(), ManualClock())
    seeds = tuple(
        AccountSeed(
            name=name,
            display_name=SITE.devices[name].name if name in SITE.devices else name,
            role=role,
            devices=(name,) if name in SITE.devices else (),
            licences=frozenset(),
            password="argon2id-stand-in",
            broker_password="$7$-stand-in",
            must_change=must_change,
        )
        for name, (role, must_change) in ACCOUNTS.items()
    )
    assert node.execute(SeedAccounts(accounts=seeds)).ok
    return node


def image(fmt: str, size: tuple[int, int], mode: str = "RGB", red: int = 200, **save: Any) -> bytes:
    colour = (red, 40, 40, 128)[: len(mode)] if mode in ("RGB", "RGBA") else 90
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, fmt, **save)
    return out.getvalue()


def noise_png(side: int) -> bytes:
    out = io.BytesIO()
    Image.effect_noise((side, side), 120).convert("RGB").save(out, "PNG")
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels (and holds none)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    end = struct.pack(">I", 0) + b"IDAT" + _crc(b"IDAT")  # no pixel data at all
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + _crc(chunk) + end


def _crc(data: bytes) -> bytes:
    return struct.pack(">I", zlib.crc32(data) & 0xFFFFFFFF)


def opened(photo: Photo) -> Image.Image:
    data = base64.b64decode(photo.data)
    assert hashlib.sha256(data).hexdigest() == photo.sha256
    return Image.open(io.BytesIO(data))


PHOTO = photos.prepare(image("PNG", (64, 48)))
OTHER_PHOTO = photos.prepare(image("JPEG", (300, 300), red=20))
assert PHOTO != OTHER_PHOTO


def changes(node: Node, command: SetProfileChecked, by: str | None = None) -> list[Any]:
    outcome = node.execute(command, by)
    assert isinstance(outcome, Accepted), outcome
    return [c.event for c in outcome.events]


def refusal(node: Node, command: SetProfileChecked, by: str | None = None) -> Refusal:
    before = node.state
    outcome = node.execute(command, by)
    assert isinstance(outcome, Refused), f"{command} by {by} was accepted"
    assert node.state is before
    return outcome.error


def profile_of(node: Node, name: str) -> Profile:
    account = node.state.accounts.account(name)
    assert account is not None
    return account.profile


# -- what is recorded -------------------------------------------------------------------------
def test_a_change_records_the_photo_then_the_whole_profile() -> None:
    node = seeded()
    events = changes(
        node,
        SetProfileChecked(
            name="331",
            mobile="0171 2345678",
            email=" Bernd.Vogel@Example.COM ",
            photo=PHOTO,
            voicemail_to_email=True,
        ),
    )
    assert events == [
        ev.ProfilePhotoSet(
            name="331", content_type=PhotoType.JPEG, data=PHOTO.data, sha256=PHOTO.sha256
        ),
        ev.ProfileChanged(
            name="331",
            mobile="+491712345678",
            external=None,
            email="Bernd.Vogel@example.com",
            photo_sha256=PHOTO.sha256,
            presence_visibility=Visibility.INTERNAL_AND_EXTERNAL,
            voicemail_to_email=True,
        ),
    ]
    assert profile_of(node, "331") == Profile(
        mobile="+491712345678",
        email="Bernd.Vogel@example.com",
        photo=PHOTO,
        voicemail_to_email=True,
    )
    # Only the fields given change; the photo stays, so it is not recorded again.
    assert changes(node, SetProfileChecked(name="331", external="030 1234567")) == [
        ev.ProfileChanged(
            name="331",
            mobile="+491712345678",
            external="+49301234567",
            email="Bernd.Vogel@example.com",
            photo_sha256=PHOTO.sha256,
            presence_visibility=Visibility.INTERNAL_AND_EXTERNAL,
            voicemail_to_email=True,
        )
    ]
    # Cleared fields are emptied; the others stay.
    cleared = SetProfileChecked(
        name="331",
        presence_visibility=Visibility.NOT_VISIBLE,
        clear=(ProfileField.PHOTO, ProfileField.MOBILE),
    )
    assert changes(node, cleared) == [
        ev.ProfileChanged(
            name="331",
            mobile=None,
            external="+49301234567",
            email="Bernd.Vogel@example.com",
            photo_sha256=None,
            presence_visibility=Visibility.NOT_VISIBLE,
            voicemail_to_email=True,
        )
    ]
    assert profile_of(node, "331").photo is None
    assert profile_of(node, "332") == Profile()  # nobody else's changed


def test_a_change_that_changes_nothing_records_nothing() -> None:
    node = seeded()
    assert (
        changes(
            node,
            SetProfileChecked(name="331", presence_visibility=Visibility.INTERNAL_AND_EXTERNAL),
        )
        == []
    )
    assert changes(node, SetProfileChecked(name="331", clear=(ProfileField.EMAIL,))) == []
    changes(node, SetProfileChecked(name="331", mobile="+491712345678", photo=PHOTO))
    same = SetProfileChecked(name="331", mobile="0171 2345678", photo=PHOTO)
    assert changes(node, same) == []  # the same number in another form, the same photo
    new_photo = changes(node, SetProfileChecked(name="331", photo=OTHER_PHOTO))
    assert [e.KIND for e in new_photo] == ["profilePhotoSet", "profileChanged"]


def test_profile_changed_is_published_without_secrets_and_the_photo_is_not() -> None:
    assert not ev.ProfileChanged.INTERNAL and ev.ProfilePhotoSet.INTERNAL
    node = seeded()
    outcome = node.execute(SetProfileChecked(name="331", email="b@example.com", photo=PHOTO))
    assert isinstance(outcome, Accepted)
    published = [documents.event_doc(c) for c in outcome.events if not c.event.INTERNAL]
    assert [d["event"] for d in published] == ["profileChanged"]
    text = orjson.dumps(published).decode()
    assert PHOTO.data[:40] not in text and "stand-in" not in text
    assert published[0]["photoSha256"] == PHOTO.sha256
    assert ev.ProfileChanged(
        name="331",
        mobile=None,
        external=None,
        email=None,
        photo_sha256=None,
        presence_visibility=Visibility.INTERNAL_AND_EXTERNAL,
        voicemail_to_email=False,
    ).devices() == ("331",)


@pytest.mark.parametrize(
    ("command", "field", "reason"),
    [
        (SetProfileChecked(name="331", mobile="0171 234567x"), "mobile", "notANumber"),
        (SetProfileChecked(name="331", external="999"), "external", "notANumber"),
        (SetProfileChecked(name="331", email="bernd@localhost"), "email", "notAnEmailAddress"),
        (
            SetProfileChecked(name="331", mobile="0171 2345678", clear=(ProfileField.MOBILE,)),
            "mobile",
            "givenAndCleared",
        ),
        (
            SetProfileChecked(name="331", photo=Photo(PhotoType.PNG, PHOTO.data, PHOTO.sha256)),
            "photo",
            "notAsPrepared",
        ),
        (
            SetProfileChecked(name="331", photo=Photo(PhotoType.JPEG, PHOTO.data, "0" * 64)),
            "photo",
            "notAsPrepared",
        ),
    ],
)
def test_refusals_name_the_field(command: SetProfileChecked, field: str, reason: str) -> None:
    err = refusal(seeded(), command)
    assert (err.name, dict(err.details)) == (
        "invalidParameterValue",
        {"field": field, "reason": reason},
    )
    assert err.message


def test_an_unknown_account_has_no_profile() -> None:
    node = seeded()
    assert refusal(node, SetProfileChecked(name="339", email="x@example.com")).name == (
        "unknownUser"
    )
    with pytest.raises(Refusal) as info:
        node.query(GetProfile(name="339"), "331")
    assert info.value.name == "unknownUser"


# -- who may ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sender", "whose", "outcome"),
    [
        ("331", "331", "ok"),  # the owner
        ("330", "331", "ok"),  # an administrator
        ("330", "330", "ok"),
        ("phone-sim", "331", "ok"),  # an integrator
        ("332", "331", "notPermitted"),  # another user
        ("331", "330", "notPermitted"),  # a user, of an administrator's
        ("monitor", "331", "notPermitted"),  # reads, changes nothing
        ("nobody", "331", "notPermitted"),  # no such account
        ("333", "333", "passwordChangeRequired"),  # the owner, before changing the password
    ],
)
def test_who_may_change_whose_profile(sender: str, whose: str, outcome: str) -> None:
    node = seeded()
    command = SetProfileChecked(name=whose, email="someone@example.com")
    if outcome == "ok":
        assert changes(node, command, sender)
    else:
        assert refusal(node, command, sender).name == outcome


def test_every_signed_in_account_reads_profiles() -> None:
    node = seeded()
    changes(node, SetProfileChecked(name="331", email="b@example.com", photo=PHOTO))
    for reader in ("331", "332", "330", "monitor", "phone-sim"):
        got = node.query(GetProfile(name="331"), reader)
        assert got == {
            "name": "331",
            "displayName": "Bernd Vogel",
            "mobile": None,
            "external": None,
            "email": "b@example.com",
            "photo": {"contentType": "image/jpeg", "data": PHOTO.data, "sha256": PHOTO.sha256},
            "presenceVisibility": "internalAndExternal",
            "voicemailToEmail": False,
        }
    with pytest.raises(Refusal) as info:
        node.query(GetProfile(name="331"), "333")  # an administrator-set password first
    assert info.value.name == "passwordChangeRequired"


def png_b64(size: tuple[int, int] = (64, 64)) -> str:
    return base64.b64encode(image("PNG", size)).decode()


async def test_set_profile_through_the_api() -> None:
    """setProfile: the photo arrives base64, is made the node's 200x200 copy; the owner's own
    profile by default; another's only for administrators; nothing before an
    administrator-set password is changed (USER-01)."""
    node = seeded()
    engine = Engine(node)
    await engine.start()
    try:

        async def ask(service: str, fields: dict[str, Any], by: str | None) -> dict[str, Any]:
            return await api.execute(engine, parse_action(service, fields), by)

        own = {"mobile": "0171 2345678", "photo": "data:image/png;base64," + png_b64()}
        assert (await ask("setProfile", own, "331"))["ok"]
        got = (await ask("getProfile", {"name": "331"}, "332"))["result"]
        assert got["mobile"] == "+491712345678" and got["photo"]["contentType"] == "image/jpeg"
        kept = profile_of(node, "331").photo
        assert kept is not None and opened(kept).size == (200, 200)
        other = await ask("setProfile", {"name": "331", "email": "x@example.com"}, "332")
        assert other["error"]["code"] == "notPermitted"
        assert "own profile" in other["error"]["message"]
        by_admin = await ask("setProfile", {"name": "331", "clear": ["photo"]}, "330")
        assert by_admin["ok"] and profile_of(node, "331").photo is None
        first = await ask("setProfile", {"email": "d@example.com"}, "333")
        assert first["error"]["code"] == "passwordChangeRequired"
        bad = await ask("setProfile", {"photo": png_b64((39, 39))}, "331")
        assert bad["error"]["code"] == "invalidParameterValue"
        assert bad["error"]["details"] == {
            "field": "photo",
            "reason": "tooSmall",
            "width": 39,
            "height": 39,
        }
        nameless = await ask("setProfile", {"email": "d@example.com"}, None)
        assert nameless["error"]["details"] == {"field": "name", "reason": "missing"}
        assert (await ask("setProfile", {"name": "332", "photo": png_b64()}, None))["ok"]
    finally:
        await engine.stop()


def test_a_photo_request_may_be_larger_than_other_requests() -> None:
    assert payload_limit("makeCall") == 16 * 1024
    assert payload_limit("setProfile") > 4 * -(-photos.MAX_UPLOAD // 3)
    photo = base64.b64encode(noise_png(300)).decode()  # ~270 kB of base64
    assert len(photo) > 16 * 1024
    request = parse_request("setProfile", orjson.dumps({"photo": photo}))
    assert request.photo == photo  # type: ignore[union-attr]
    with pytest.raises(BadRequest) as info:
        parse_request("makeCall", orjson.dumps({"calling": "330", "called": photo}))
    assert "exceeds the limit" in info.value.message
    with pytest.raises(BadRequest) as info:
        parse_request("setProfile", orjson.dumps({"email": "a" * 250 + "@example.com"}))
    assert info.value.message == "email must be at most 254 characters"
    with pytest.raises(BadRequest):
        parse_request("setProfile", orjson.dumps({"clear": ["presenceVisibility"]}))


# -- photos -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("upload", "reason"),
    [
        (image("PNG", (39, 39)), "tooSmall"),
        (image("JPEG", (400, 39)), "tooSmall"),
        (noise_png(600), "tooLarge"),  # > 512 kB
        (b"Dear colleagues, please find my photo attached.", "notJpegOrPng"),
        (image("GIF", (64, 64)), "notJpegOrPng"),
        (image("BMP", (64, 64)), "notJpegOrPng"),
        (image("PNG", (64, 64))[:60], "notAnImage"),  # cut off
        (b"\xff\xd8\xff" + bytes(200), "notAnImage"),
        (png_header(5000, 4000), "tooManyPixels"),  # a few bytes that claim 20 megapixels
    ],
)
def test_photos_that_are_refused(upload: bytes, reason: str) -> None:
    with pytest.raises(Refusal) as info:
        photos.prepare(upload)
    assert info.value.name == "invalidParameterValue"
    assert info.value.details["field"] == "photo"
    assert info.value.details["reason"] == reason
    assert info.value.message


def test_the_size_limit_is_512_kib_of_file() -> None:
    assert len(noise_png(600)) > photos.MAX_UPLOAD
    with pytest.raises(Refusal) as info:
        photos.from_base64(base64.b64encode(bytes(photos.MAX_UPLOAD + 1)).decode())
    assert info.value.details["reason"] == "tooLarge"
    with pytest.raises(Refusal) as info:
        photos.from_base64("not base64!")
    assert info.value.details["reason"] == "notBase64"
    data = image("PNG", (50, 50))
    wrapped = "data:image/png;base64," + base64.encodebytes(data).decode()  # MIME lines
    assert photos.from_base64(wrapped) == data


@pytest.mark.parametrize(
    ("upload", "kept"),
    [
        (image("PNG", (40, 40)), PhotoType.JPEG),  # the smallest, scaled up
        (image("JPEG", (40, 40)), PhotoType.JPEG),
        (image("JPEG", (4000, 3000), quality=20), PhotoType.JPEG),  # scaled down (draft mode)
        (image("PNG", (300, 120), "L"), PhotoType.JPEG),  # grey, not square
        (image("PNG", (120, 300), "P"), PhotoType.JPEG),
        (image("PNG", (64, 64), "RGBA"), PhotoType.PNG),  # half transparent: stays a PNG
    ],
)
def test_png_and_jpeg_are_kept_at_200x200(upload: bytes, kept: PhotoType) -> None:
    photo = photos.prepare(upload)
    assert photo.content_type is kept
    with opened(photo) as img:
        assert img.size == (200, 200)
        assert img.format == {PhotoType.JPEG: "JPEG", PhotoType.PNG: "PNG"}[kept]
    assert len(base64.b64decode(photo.data)) <= photos.MAX_STORED
    assert photos.problem_of_kept(photo) is None


def test_a_kept_photo_is_upright_cropped_to_the_centre_and_without_exif() -> None:
    # 300x100, left third red, middle green, right blue; EXIF: rotate 90 degrees clockwise
    # to show it (orientation 6) -> upright it is 100x300: red on top, blue at the bottom.
    img = Image.new("RGB", (300, 100), (255, 0, 0))
    img.paste((0, 255, 0), (100, 0, 200, 100))
    img.paste((0, 0, 255), (200, 0, 300, 100))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "Camera maker"
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, quality=95)
    photo = photos.prepare(out.getvalue())
    with opened(photo) as kept:
        assert not kept.getexif() and "exif" not in kept.info
        rgb = kept.convert("RGB")
        # The centred square of the upright image is its green middle third.
        r, g, b = rgb.getpixel((100, 100))  # type: ignore[misc]
        assert g > 200 and r < 60 and b < 60


def test_a_large_transparent_png_is_kept_as_a_jpeg_on_white() -> None:
    noise = Image.effect_noise((200, 200), 120).convert("RGB")
    rgba = Image.merge("RGBA", (*noise.split(), Image.effect_noise((200, 200), 120)))
    out = io.BytesIO()
    rgba.save(out, "PNG")
    photo = photos.prepare(out.getvalue())
    assert photo.content_type is PhotoType.JPEG  # a noisy 200x200 PNG would exceed MAX_STORED


# -- canonical forms --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        (" Anna.Berger@Example.COM ", "Anna.Berger@example.com"),
        ("a@b.de", "a@b.de"),
        ("user+tag@Sub.Example.org", "user+tag@sub.example.org"),
        ("o'neil@example.ie", "o'neil@example.ie"),
        ("jürgen@Müller.DE", "jürgen@müller.de"),
        ("x@xn--mller-kva.de", "x@xn--mller-kva.de"),
        ("x@my-host.example.com", "x@my-host.example.com"),
    ],
)
def test_email_addresses_are_kept_trimmed_with_a_lower_case_domain(typed: str, kept: str) -> None:
    assert canonical_email(typed) == kept


@pytest.mark.parametrize(
    "typed",
    [
        "anna",
        "@example.com",
        "anna@",
        "anna@localhost",
        "anna berger@example.com",
        "anna..berger@example.com",
        ".anna@example.com",
        "anna.@example.com",
        "anna@-example.com",
        "anna@example-.com",
        "anna@ex_ample.com",
        "anna@example.c",
        "anna@10.0.0.1",
        "anna@example..com",
        "anna@[10.0.0.1]",
        "anna@b@example.com",
        '"anna"@example.com',
        "a" * 65 + "@example.com",
        "anna@" + "a" * 64 + ".com",
        "anna\n@example.com",
        "anna@example\n.com",
    ],
)
def test_what_is_not_an_email_address(typed: str) -> None:
    with pytest.raises(Refusal) as info:
        canonical_email(typed)
    assert info.value.name == "invalidParameterValue"
    assert info.value.details == {"field": "email", "reason": "notAnEmailAddress"}


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("0171 2345678", "+491712345678"),
        ("+49 (171) 234-5678", "+491712345678"),
        ("0 00 49 171 2345678", "+491712345678"),  # trunk access code, international prefix
        ("030 1234567", "+49301234567"),
        ("0 030 1234567", "+49301234567"),  # with the trunk access code
        ("+44 20 7946 0958", "+442079460958"),
        ("331", "+49897007331"),  # an extension: its DID
        (" +49 89 7007 331 ", "+49897007331"),
    ],
)
def test_numbers_are_kept_as_e164(typed: str, kept: str) -> None:
    assert canonical_number(SITE, "mobile", typed) == kept


@pytest.mark.parametrize("typed", ["0171 234567x", "+", "999", "+99 123", "++491712345678"])
def test_what_is_not_a_number(typed: str) -> None:
    with pytest.raises(Refusal) as info:
        canonical_number(SITE, "external", typed)
    assert info.value.details == {"field": "external", "reason": "notANumber"}


# -- any sequence of changes ------------------------------------------------------------------
NUMBERS = {"0171 2345678": "+491712345678", "+49 30 1234567": "+49301234567", "332": "+49897007332"}
EMAILS = {"A@Example.com": "A@example.com", " b@c.DE ": "b@c.de"}
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "mobile": st.sampled_from(sorted(NUMBERS)),
        "external": st.sampled_from(sorted(NUMBERS)),
        "email": st.sampled_from(sorted(EMAILS)),
        "photo": st.sampled_from([PHOTO, OTHER_PHOTO]),
        "presence_visibility": st.sampled_from(list(Visibility)),
        "voicemail_to_email": st.booleans(),
        "clear": st.lists(st.sampled_from(list(ProfileField)), unique=True, max_size=2),
    },
)


@settings(max_examples=150, deadline=None)
@given(st.lists(FIELDS, max_size=8))
def test_any_sequence_of_changes_ends_with_the_last_value_of_each_field(
    updates: list[dict[str, Any]],
) -> None:
    node = seeded()
    last: dict[str, Any] = {}
    for fields in updates:
        fields = dict(fields)
        clear = tuple(f for f in fields.pop("clear", []) if f.value not in fields)
        command = SetProfileChecked(name="331", clear=clear, **fields)
        before = profile_of(node, "331")
        events = changes(node, command)
        for name, value in fields.items():
            last[name] = NUMBERS.get(value, EMAILS.get(value, value)) if name != "photo" else value
        last.update({f.value: None for f in clear})
        after = profile_of(node, "331")
        assert (events == []) == (after == before)
        if events:
            assert events[-1].photo_sha256 == (None if after.photo is None else after.photo.sha256)
    assert profile_of(node, "331") == attrs.evolve(Profile(), **last)
    assert replay(node.store, use_snapshot=False) == node.state
    assert snapshot.decode(snapshot.encode(node.state)) == node.state


# -- kept across restarts -----------------------------------------------------------------------
def test_profiles_survive_replay_and_snapshots_and_old_snapshots_still_read() -> None:
    node = seeded()
    changes(node, SetProfileChecked(name="331", email="b@example.com", photo=PHOTO))
    changes(
        node,
        SetProfileChecked(
            name="330", external="030 1234567", presence_visibility=Visibility.NOT_VISIBLE
        ),
    )
    assert replay(node.store, use_snapshot=False) == node.state
    encoded = snapshot.encode(node.state)
    assert snapshot.decode(encoded) == node.state
    node.snapshot()
    assert replay(node.store) == node.state
    # A snapshot of the release before profiles (accounts format 2) reads with empty profiles.
    doc = orjson.loads(encoded)
    part = doc["parts"]["accounts"]
    assert part["format"] == 4
    # Format 3 kept a flag: hidden reads as not visible.
    part["format"] = 3
    for account in part["data"]["accounts"]:
        level = account["profile"].pop("presence_visibility")
        account["profile"]["presence_visible"] = level != "notVisible"
    assert snapshot.decode(orjson.dumps(doc)) == node.state
    part["format"] = 2
    for account in part["data"]["accounts"]:
        del account["profile"]
    old = snapshot.decode(orjson.dumps(doc))
    assert all(a.profile == Profile() for a in old.accounts.accounts.values())
    assert set(old.accounts.accounts.keys()) == set(node.state.accounts.accounts.keys())
    part["format"] = 1
    with pytest.raises(snapshot.StaleSnapshot):
        snapshot.decode(orjson.dumps(doc))


# -- the public document ------------------------------------------------------------------------
def test_the_profile_document_shows_what_others_may_see() -> None:
    node = seeded()
    changes(
        node,
        SetProfileChecked(name="331", mobile="0171 2345678", photo=PHOTO, voicemail_to_email=True),
    )
    account = node.state.accounts.account("331")
    assert account is not None
    assert orjson.loads(documents.profile(account, node.state.seq)) == {
        "name": "331",
        "displayName": "Bernd Vogel",
        "mobile": "+491712345678",
        "external": None,
        "email": None,
        "hasPhoto": True,
        "photoSha256": PHOTO.sha256,
        "presenceVisibility": "internalAndExternal",
        "seq": node.state.seq,
    }
    nobody = node.state.accounts.account("332")
    assert nobody is not None
    doc = orjson.loads(documents.profile(nobody, 7))
    assert (doc["hasPhoto"], doc["photoSha256"], doc["seq"]) == (False, None, 7)


def test_the_pixel_claiming_png_is_a_png() -> None:
    with Image.open(io.BytesIO(png_header(41, 42))) as img:
        assert img.size == (41, 42)
