"""parse_size: the one WIDTHxHEIGHT parser behind every --size option."""

import pytest

from livedream.errors import ParamError
from livedream.params import parse_size


def test_parses_width_then_height() -> None:
    assert parse_size("640x360") == (640, 360)
    assert parse_size(" 320X180 ") == (320, 180)


@pytest.mark.parametrize("text", ["640by360", "640x", "x360", "-640x360", "640x360x2", ""])
def test_malformed_sizes_name_the_option_and_the_form(text: str) -> None:
    with pytest.raises(ParamError, match=r"--size .*expected WIDTHxHEIGHT such as 640x360"):
        parse_size(text)


def test_sides_outside_the_bounds_are_rejected() -> None:
    with pytest.raises(ParamError, match="16 px to 8192 px"):
        parse_size("8x360")
    with pytest.raises(ParamError, match="16 px to 8192 px"):
        parse_size("640x9000")
    with pytest.raises(ParamError, match="size '16x16'.*32 px"):
        parse_size("16x16", "size", minimum=32)
