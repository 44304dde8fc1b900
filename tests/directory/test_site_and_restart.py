"""DIR-03: speed dials from the site file; and the search index as a checkpointed read
model: reopened, it resumes after its position; a position beyond the log is reset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cti.app.config.site_file import site_from_dict
from cti.directory import commands as c
from cti.directory.index_db import DirectoryIndex
from cti.site import SiteError, SpeedDial
from tests.directory.helpers import SITE, done, seeded
from tests.directory.test_search import catch_up

LOCATION = {"country_code": "49", "area_code": "89", "base_number": "7007"}


def site(*dials: dict[str, Any]) -> Any:
    raw = {"location": LOCATION, "devices": [{"number": "330"}], "speed_dials": list(dials)}
    return site_from_dict(raw)


def test_dir03_speed_dials_are_kept_as_the_plan_resolves_them() -> None:
    got = site(
        {"name": "Taxi", "number": "+49 89 21610"},
        {"name": "Hausmeister", "number": "0171 5550123"},
        {"name": "Empfang", "number": "330"},
    )
    assert got.speed_dials == (
        SpeedDial("Taxi", "+498921610"),
        SpeedDial("Hausmeister", "+491715550123"),
        SpeedDial("Empfang", "330"),
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "X"}, "[[speed_dials]] entry 1: missing key 'number'"),
        ({"number": "330"}, "[[speed_dials]] entry 1: missing key 'name'"),
        ({"name": "X", "number": 330}, "number must be a string"),
        ({"name": "X", "number": "12ab"}, "[[speed_dials]] entry 1: number '12ab'"),
        ({"name": "X", "number": "999"}, "[[speed_dials]] entry 1: number '999'"),
        ({"name": "X", "number": "+49 89 1", "fax": "1"}, "unknown key 'fax'"),
    ],
)
def test_dir03_a_bad_speed_dial_is_refused_at_start(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(SiteError, match=message.replace("[", r"\[").replace("]", r"\]")):
        site(entry)


def test_dir04_a_reopened_index_resumes_after_its_position(tmp_path: Path) -> None:
    node = seeded()
    done(node, c.AddContact(user="331", name="Anna", mobile="0171 1000001"))
    index = DirectoryIndex(tmp_path / "d.db", "epoch", SITE)
    catch_up(index, node)
    position = index.position()
    index.close()
    done(node, c.AddContact(user="331", name="Ben", mobile="0171 1000002"))
    again = DirectoryIndex(tmp_path / "d.db", "epoch", SITE)
    assert again.position() == position  # kept: nothing is applied twice or skipped
    catch_up(again, node)
    assert again.search("331", "0171", 5).counts["personal"] == 2
    # A position beyond the log (a log restored from an older backup): reset, rebuilt.
    again.reset()
    assert again.position() == 0 and again.search("331", "anna", 5).counts["personal"] == 0
    assert again.search("331", "taxi", 5).counts["system"] == 1
    catch_up(again, node)
    assert again.search("331", "anna", 5).counts["personal"] == 1
    again.close()


class FailingOnce(DirectoryIndex):
    """Fails one batch after its first entry (the follower then applies it again)."""

    fail = False

    def _put(self, conn: Any, scope: int, key: str, entry: Any) -> None:
        super()._put(conn, scope, key, entry)
        if self.fail:
            self.fail = False
            raise OSError("disk trouble")


def test_dir04_a_failed_batch_leaves_nothing_behind_and_is_applied_again(tmp_path: Path) -> None:
    """The batch that failed had given a new user's directory its scope: rolled back with
    it, so a later user's scope is not given the same number."""
    node = seeded()
    index = FailingOnce(tmp_path / "d.db", "epoch", SITE)
    catch_up(index, node)
    done(node, c.AddContact(user="331", name="Anna", mobile="0171 1000001"))
    index.fail = True
    with pytest.raises(OSError, match="disk trouble"):
        catch_up(index, node)
    done(node, c.AddContact(user="332", name="Ben", mobile="0171 1000002"))
    catch_up(index, node)  # applied again, with the next one
    assert [h["name"] for h in index.search("331", "a", 5).hits][:1] == ["Anna"]
    assert index.search("331", "ben", 5).counts["personal"] == 0
    assert [h["name"] for h in index.search("332", "ben", 5).hits] == ["Ben"]
    assert index.search("332", "anna", 5).counts["personal"] == 0
    index.close()
