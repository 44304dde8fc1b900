"""``cti serve`` configured from CTI_... variables: a flag wins over the environment, the
environment over the default; a bad value is one line naming the variable, exit 2."""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest

from cti.app.bootstrap import ServeOptions
from cti.cli import main
from cti.ops.environment import resolve
from cti.ops.threshold import DiskThreshold

GiB = 2**30


def test_flags_win_over_the_environment_over_the_defaults() -> None:
    env = {"CTI_HTTP_PORT": "9999", "CTI_BROKER_PORT": "1884", "CTI_LOG_JSON": "yes"}
    got = resolve({"http_port": 7000, "broker_port": None}, env)
    assert got["http_port"] == 7000  # the flag
    assert got["broker_port"] == 1884  # the environment
    assert got["log_json"] is True
    assert got["tls_port"] == 8883 and got["data_dir"] == Path("data")  # the defaults
    assert got["disk_low"] == DiskThreshold() and got["http_host"] == "127.0.0.1"
    assert resolve({}, {"CTI_SITE": "", "CTI_CSTA_PORT": " "})["site"] is None  # empty: unset


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[ServeOptions]:
    """What `cti serve` would start the node with (nothing is started)."""
    seen: list[ServeOptions] = []

    async def serve(options: ServeOptions) -> int:
        seen.append(options)
        return 0

    monkeypatch.setattr("cti.tools.serve.serve", serve)
    for name in (
        "CTI_DATA_DIR",
        "CTI_HTTP_PORT",
        "CTI_BROKER",
        "CTI_DISK_LOW",
        "CTI_LOG_LEVEL",
        "CTI_STORE",
        "CTI_STANDBY",
    ):
        monkeypatch.delenv(name, raising=False)
    return seen


def test_cti_serve_reads_the_environment(
    served: list[ServeOptions], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CTI_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("CTI_HTTP_PORT", "0")
    monkeypatch.setenv("CTI_BROKER", "embedded")
    monkeypatch.setenv("CTI_DISK_LOW", "5%")
    monkeypatch.setenv("CTI_LOG_LEVEL", "ERROR")
    assert main(["serve", "--http-port", "9181", "--data-dir", str(tmp_path / "flag")]) == 0
    options = served[0]
    assert options.http_port == 9181 and options.data_dir == tmp_path / "flag"  # flags
    assert options.broker == "embedded" and options.disk_low == DiskThreshold(None, 5.0)  # env
    assert options.mqtt_url == "mqtt://127.0.0.1:1883" and options.csta_port is None  # defaults
    assert options.store == "sqlite"


def test_the_store_comes_from_cti_store_or_the_flag(
    served: list[ServeOptions], monkeypatch: pytest.MonkeyPatch
) -> None:
    pg = "postgresql://cti@db.example:5432/cti"
    monkeypatch.setenv("CTI_STORE", pg)
    assert main(["serve"]) == 0
    assert main(["serve", "--store", "sqlite"]) == 0
    assert [o.store for o in served] == [pg, "sqlite"]


def test_standby_comes_from_cti_standby_or_the_flag_and_needs_postgres(
    served: list[ServeOptions],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pg = "postgresql://cti@db.example:5432/cti"
    monkeypatch.setenv("CTI_STANDBY", "yes")
    assert main(["serve", "--store", pg]) == 0
    assert main(["serve", "--store", pg, "--no-standby"]) == 0
    monkeypatch.delenv("CTI_STANDBY")
    assert main(["serve", "--store", pg]) == 0
    assert main(["serve", "--store", pg, "--standby"]) == 0
    assert [o.standby for o in served] == [True, False, False, True]
    # Not retried by a supervisor (exit 2): a configuration to fix, not a failure.
    assert main(["serve", "--standby"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "cti serve: --standby needs a PostgreSQL log (--store postgresql://...): an SQLite "
        "log is a file of one machine\n"
    )
    assert len(served) == 4


def test_cti_serve_defaults(served: list[ServeOptions]) -> None:
    assert main(["serve"]) == 0
    options: Any = served[0]
    assert (options.http_host, options.http_port, options.broker) == (
        "127.0.0.1",
        9180,
        "external",
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CTI_HTTP_PORT", "http", "CTI_HTTP_PORT: 'http' is not a port number"),
        ("CTI_BROKER_PORT", "70000", "CTI_BROKER_PORT: 70000 is not a port number (0-65535)"),
        ("CTI_BROKER", "internal", "CTI_BROKER: 'internal' is not one of embedded, external"),
        ("CTI_MQTT_URL", "http://x", "CTI_MQTT_URL: 'http://x' does not look like mqtt://"),
        (
            "CTI_MQTT_URL",
            "mqtt://b1:1883,,mqtt://b3:1883",
            "CTI_MQTT_URL: 'mqtt://b1:1883,,mqtt://b3:1883' does not look like mqtt://HOST:PORT "
            "(or several, comma-separated)",
        ),
        ("CTI_LOG_JSON", "maybe", "CTI_LOG_JSON: 'maybe' is not a yes/no value"),
        (
            "CTI_WEB_TRUSTED_PROXY",
            "proxy.example",
            "CTI_WEB_TRUSTED_PROXY: 'proxy.example' is not an IP address or network (host "
            "names are not resolved)",
        ),
        (
            "CTI_WEB_TRUSTED_PROXY",
            "10.0.0.1/24",
            "CTI_WEB_TRUSTED_PROXY: '10.0.0.1/24': 10.0.0.1/24 has host bits set",
        ),
        ("CTI_WEB_TRUSTED_PROXY", "none,::1", "CTI_WEB_TRUSTED_PROXY: 'none' stands alone"),
        ("CTI_WEB_TRUSTED_PROXY", "10.0.0.5,", "CTI_WEB_TRUSTED_PROXY: an empty item"),
        ("CTI_STANDBY", "later", "CTI_STANDBY: 'later' is not a yes/no value"),
        ("CTI_LOG_LEVEL", "loud", "CTI_LOG_LEVEL: 'loud' is not one of debug"),
        ("CTI_DISK_LOW", "lots", "CTI_DISK_LOW: 'lots' is not a size like 1GiB"),
        ("CTI_STORE", "mysql://u:pw@h/db", "CTI_STORE: neither 'sqlite' nor postgresql://"),
        (
            "CTI_STORE",
            "postgresql://u:pw@h/db?sslmod=x",
            "CTI_STORE: libpq cannot parse this postgresql:// connection string",
        ),
    ],
)
def test_a_bad_variable_is_one_line_and_exit_2(
    served: list[ServeOptions],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"cti serve: {message}") and err.count("\n") == 1, err
    assert "pw" not in err  # a password in a mistyped value is not shown
    assert not served


def test_a_flag_overrides_a_bad_variable(
    served: list[ServeOptions], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTI_HTTP_PORT", "http")
    assert main(["serve", "--http-port", "0"]) == 0
    assert served[0].http_port == 0


def test_a_bad_flag_names_the_problem(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--disk-low", "lots"])
    assert exit_.value.code == 2
    assert "argument --disk-low: 'lots' is not a size like 1GiB" in capsys.readouterr().err


def test_the_trusted_proxies_of_the_web_client(
    served: list[ServeOptions], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Loopback by default; flags (repeated or comma-separated) replace it, as does
    CTI_WEB_TRUSTED_PROXY; 'none' trusts no proxy and goes alone."""
    loopback = (ip_network("127.0.0.0/8"), ip_network("::1/128"))
    monkeypatch.delenv("CTI_WEB_TRUSTED_PROXY", raising=False)
    assert main(["serve"]) == 0
    flags = ["--web-trusted-proxy", "10.0.0.5", "--web-trusted-proxy", "10.1.0.0/16,loopback"]
    assert main(["serve", *flags]) == 0
    assert main(["serve", "--web-trusted-proxy", "none"]) == 0
    monkeypatch.setenv("CTI_WEB_TRUSTED_PROXY", "192.0.2.1, ::ffff:192.0.2.2")
    assert main(["serve"]) == 0
    assert main(["serve", "--web-trusted-proxy", "2001:db8::/48"]) == 0  # the flag wins
    assert [o.web_trusted_proxies for o in served] == [
        loopback,
        (ip_network("10.0.0.5/32"), ip_network("10.1.0.0/16"), *loopback),
        (),
        (ip_network("192.0.2.1/32"), ip_network("192.0.2.2/32")),  # as seen over IPv4
        (ip_network("2001:db8::/48"),),
    ]
    assert main(["serve", "--web-trusted-proxy", "none", "--web-trusted-proxy", "::1"]) == 2
    assert capsys.readouterr().err == (
        "cti serve: --web-trusted-proxy none stands alone: it trusts no proxy\n"
    )
    assert len(served) == 5
