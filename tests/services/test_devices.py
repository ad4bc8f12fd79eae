import pytest

from app.services.devices import UNKNOWN_DEVICE, describe_device


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36",
            "Chrome 131 on Linux",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox 133 on Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
            "Mobile Safari 17 on iOS",
        ),
        ("curl/8.4.0", "curl 8.4.0"),
        ("python-httpx/0.28.1", "python-httpx/0.28.1"),  # unknown to the parser: as sent
        (None, UNKNOWN_DEVICE),
        ("  ", UNKNOWN_DEVICE),
    ],
)
def test_describe_device(user_agent: str | None, device: str) -> None:
    assert describe_device(user_agent) == device


def test_an_unknown_long_user_agent_is_cut_to_fit_a_row() -> None:
    described = describe_device("x" * 500)

    assert len(described) == 60 and described.endswith("…")
