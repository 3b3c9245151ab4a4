"""`livedream.params.Param`: validate, the normalised 0..1 mapping (linear, log, choices, bool)
and its inverse, and `validate_params` naming where and which key failed."""

from __future__ import annotations

import math

import pytest

from livedream.errors import ParamError
from livedream.params import Param, validate_params

FLOAT = Param(1.0, -2.0, 6.0)
INT = Param(3, 0, 10)
LOG = Param(1.0, 0.01, 100.0, log=True)
CHOICE = Param("grey", choices=("grey", "colour", "hsv"))
FLAG = Param(False)


def test_validate_coerces_to_the_default_type() -> None:
    assert FLOAT.validate(2) == 2.0 and type(FLOAT.validate(2)) is float
    assert INT.validate(4.0) == 4 and type(INT.validate(4.0)) is int
    assert (FLAG.validate(1), FLAG.validate(0), FLAG.validate(True)) == (True, False, True)
    assert CHOICE.validate("hsv") == "hsv"
    assert FLOAT.validate(-2.0) == -2.0 and FLOAT.validate(6) == 6.0  # bounds are inclusive


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        (FLOAT, 6.5, r"gain: 6\.5 outside allowed range \[-2\.0, 6\.0\]"),
        (FLOAT, "1", r"gain: expected float in \[-2\.0, 6\.0\], got '1'"),
        (FLOAT, True, r"gain: expected float in"),  # a bool is not a number here
        (FLOAT, float("nan"), r"gain: expected a finite number, got nan"),
        (INT, 2.5, r"gain: expected an integer, got 2\.5"),
        (INT, -1, r"gain: -1 outside allowed range \[0, 10\]"),
        (FLAG, 2, r"gain: expected true/false \(or 0/1\), got 2"),
        (FLAG, "yes", r"gain: expected true/false"),
        (CHOICE, "red", r"gain: expected one of 'grey', 'colour', 'hsv', got 'red'"),
        (CHOICE, 1, r"gain: expected one of"),
    ],
)
def test_validate_rejects_naming_the_allowed_values(param: Param, value: object,
                                                    message: str) -> None:
    with pytest.raises(ParamError, match=message):
        param.validate(value, "gain")


def test_linear_mapping_ends_middle_and_clamp() -> None:
    assert [FLOAT.from_normalized(x) for x in (0.0, 0.5, 1.0)] == [-2.0, 2.0, 6.0]
    assert FLOAT.from_normalized(-3) == -2.0 and FLOAT.from_normalized(7) == 6.0
    assert INT.from_normalized(0.26) == 3 and type(INT.from_normalized(0.26)) is int
    assert FLOAT.to_normalized(2.0) == 0.5
    assert FLOAT.to_normalized(99.0) == 1.0 and FLOAT.to_normalized(-99.0) == 0.0


def test_log_mapping_is_geometric() -> None:
    assert LOG.from_normalized(0.0) == pytest.approx(0.01)
    assert LOG.from_normalized(0.5) == pytest.approx(1.0)  # the geometric middle
    assert LOG.from_normalized(0.75) == pytest.approx(10.0)
    assert LOG.from_normalized(1.0) == pytest.approx(100.0)
    assert LOG.to_normalized(10.0) == pytest.approx(0.75)
    assert LOG.to_normalized(0.0) == 0.0  # below lo: clamped, no log(0)


@pytest.mark.parametrize("param", [FLOAT, LOG, Param(0.0, 0.0, 1.0)])
@pytest.mark.parametrize("x", [0.0, 0.1, 0.333, 0.5, 0.9, 1.0])
def test_float_round_trip(param: Param, x: float) -> None:
    value = param.from_normalized(x)
    assert param.validate(value) == value
    assert param.to_normalized(value) == pytest.approx(x, abs=1e-12)


def test_int_round_trip_lands_on_the_same_integer() -> None:
    for value in range(0, 11):
        assert INT.from_normalized(INT.to_normalized(value)) == value


def test_choices_split_the_range_evenly_and_round_trip() -> None:
    assert [CHOICE.from_normalized(x) for x in (0.0, 0.33, 0.34, 0.66, 0.67, 1.0)] == [
        "grey", "grey", "colour", "colour", "hsv", "hsv"]
    for choice in CHOICE.choices or ():
        assert CHOICE.from_normalized(CHOICE.to_normalized(choice)) == choice
    assert CHOICE.to_normalized("colour") == pytest.approx(0.5)  # the middle of its third


def test_bool_mapping() -> None:
    assert (FLAG.from_normalized(0.49), FLAG.from_normalized(0.5)) == (False, True)
    assert (FLAG.to_normalized(True), FLAG.to_normalized(False)) == (1.0, 0.0)


def test_normalised_input_must_be_a_finite_number() -> None:
    for bad in (float("nan"), math.inf, "0.5", True, None):
        with pytest.raises(ParamError, match="normalised value must be a finite number"):
            FLOAT.from_normalized(bad, "gain")  # type: ignore[arg-type]
    with pytest.raises(ParamError, match="has no range"):
        Param(1.0).from_normalized(0.5)
    assert Param(1.0).to_normalized(1.0) == 0.0 and Param(2.0, 2.0, 2.0).to_normalized(2.0) == 0.0


def test_describe() -> None:
    assert FLOAT.describe() == "float in [-2.0, 6.0]"
    assert CHOICE.describe() == "one of 'grey', 'colour', 'hsv'"
    assert FLAG.describe() == "true/false (or 0/1)"


def test_validate_params_names_where_and_sets_the_key() -> None:
    specs = {"gain": FLOAT, "levels": INT}
    assert validate_params(specs, {"levels": 2.0, "gain": 1}, "fx") == {"levels": 2, "gain": 1.0}
    with pytest.raises(ParamError, match=r"^fx\.levels: 11 outside") as info:
        validate_params(specs, {"gain": 1.0, "levels": 11}, "fx")
    assert info.value.key == "levels"
    with pytest.raises(ParamError, match=r"^fx: unknown parameter 'speed'; valid: gain, levels"
                       ) as info:
        validate_params(specs, {"gain": 1.0, "speed": 1}, "fx")
    assert info.value.key == "speed"
    with pytest.raises(ParamError, match=r"valid: \(none\)"):
        validate_params({}, {"speed": 1}, "fx")
    assert ParamError("plain").key is None
