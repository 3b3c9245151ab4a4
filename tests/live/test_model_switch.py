"""Which layers a newly loaded model dreams on: the look's, or the model's fallback."""

from __future__ import annotations

import logging

from livedream.live.model_switch import fallback_layer, layers_on
from tests.tiny_model import TinyDreamModel


def test_layers_the_model_has_are_kept():
    model = TinyDreamModel()
    names = tuple(model.layer_names())
    assert layers_on(model, names[:2]) == names[:2]


def test_unknown_or_no_layers_fall_back_to_the_middle_layer_and_say_so(caplog):
    model = TinyDreamModel()  # not a built-in: no default layer, so the middle one
    names = model.layer_names()
    assert fallback_layer(model) == names[len(names) // 2]
    with caplog.at_level(logging.WARNING):
        assert layers_on(model, ("inception_4c", names[0])) == (fallback_layer(model),)
        assert layers_on(model, ()) == (fallback_layer(model),)
    assert "layers inception_4c" in caplog.text and "not in model tiny" in caplog.text
