"""The endpoint runs any code a client uploads: it listens on loopback unless told otherwise, and
moto's reset API (which wipes everything without credentials) is off unless asked for."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from devtools.local_sagemaker.binding import check_bind_address

from .endpoint_process import run_endpoint

BUCKET = "exposure-data"


def _listening_addresses(port: int) -> list[str]:
    """Local addresses (hex, as /proc/net/tcp* print them) of the sockets listening on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.append(address)
    return found


def _request(url: str, method: str = "GET") -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method, data=b"" if method == "POST" else None),
                                    timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/net/tcp")
def test_the_endpoint_listens_on_loopback_only_by_default(endpoint_processes: Any) -> None:
    endpoint = endpoint_processes()
    assert _listening_addresses(endpoint.port) == ["0100007F"]  # 127.0.0.1, and nothing on IPv6


def test_a_host_other_hosts_can_reach_is_refused_naming_the_flag() -> None:
    refused = run_endpoint("--host", "0.0.0.0")
    assert refused.returncode == 1
    assert "--host 0.0.0.0 is not a loopback address" in refused.stderr and "--allow-remote" in refused.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_need_no_flag(host: str) -> None:
    check_bind_address(host, allow_remote=False)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.10.20"])
def test_other_hosts_need_allow_remote(host: str) -> None:
    with pytest.raises(ValueError, match="--allow-remote"):
        check_bind_address(host, allow_remote=False)
    check_bind_address(host, allow_remote=True)


def test_the_reset_api_is_refused_by_default_and_the_readiness_route_answers(endpoint_processes: Any) -> None:
    endpoint = endpoint_processes()
    endpoint.client("s3").create_bucket(Bucket=BUCKET)
    for method, route in (("POST", "reset"), ("POST", "seed?a=42"), ("POST", "config"),
                          ("GET", "recorder/download-recording")):
        status, body = _request(f"{endpoint.url}/moto-api/{route}", method)
        assert status == 403, route
        assert "--enable-reset-api" in json.loads(body)["message"]
    assert [bucket["Name"] for bucket in endpoint.client("s3").list_buckets()["Buckets"]] == [BUCKET]
    assert _request(f"{endpoint.url}/moto-api/")[0] == 200


def test_the_reset_api_wipes_everything_with_its_flag_and_the_wipe_is_saved(tmp_path: Path,
                                                                            endpoint_processes: Any) -> None:
    endpoint = endpoint_processes("--work-dir", str(tmp_path), "--enable-reset-api")
    endpoint.client("s3").create_bucket(Bucket=BUCKET)
    assert _request(f"{endpoint.url}/moto-api/reset", "POST")[0] == 200
    assert endpoint.client("s3").list_buckets()["Buckets"] == []
    assert endpoint.stop() == 0
    restarted = endpoint_processes("--work-dir", str(tmp_path))
    assert restarted.client("s3").list_buckets()["Buckets"] == []
