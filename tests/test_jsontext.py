"""tmsrules.jsontext writes exactly the bytes json.dumps(indent=..., ensure_ascii=False) writes."""

from __future__ import annotations

import enum
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tmsrules
from tmsrules import jsontext

ROOT_INDENTS = (0, 1, 2, 4, "\t", "--")


def _json(obj, indent):
    return json.dumps(obj, indent=indent, ensure_ascii=False)


class Level(enum.IntEnum):
    HIGH = 3


class Text(str):
    pass


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),  # every code point: non-ASCII, control characters, surrogates
    st.sampled_from([Level.HIGH, Text("sub\u00e9"), -0.0, 1e300, 5e-324]),
)
keys = st.one_of(st.text(), st.integers(), st.floats(allow_nan=True), st.booleans(), st.none())
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.lists(inner, max_size=5).map(tuple),
        st.dictionaries(keys, inner, max_size=5),
    ),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(values, st.sampled_from(ROOT_INDENTS))
def test_same_text_as_json_dumps(obj, indent):
    assert jsontext.dumps(obj, indent) == _json(obj, indent)


@pytest.mark.parametrize("indent", ROOT_INDENTS)
def test_edge_values(indent):
    obj = {
        "empty": [[], {}, ()],
        1: float("nan"),
        2.5: [math.inf, -math.inf, True, False, None],
        True: {"nested": {"deeper": ["é", "\u2028", "\x00", '"\\']}},
        None: Level.HIGH,
        Text("k"): Text("v"),
    }
    assert jsontext.dumps(obj, indent) == _json(obj, indent)
    assert jsontext.dumps("only a string", indent) == _json("only a string", indent)
    assert jsontext.dumps([], indent) == "[]"


def test_what_json_refuses_it_refuses_the_same_way():
    for bad in ({"a": {1, 2}}, [object()], {(1, 2): "tuple key"}):
        with pytest.raises(TypeError) as ours:
            jsontext.dumps(bad, 2)
        with pytest.raises(TypeError) as theirs:
            _json(bad, 2)
        assert str(ours.value) == str(theirs.value)
    circular: list = []
    circular.append(circular)
    with pytest.raises(ValueError, match="Circular reference"):
        jsontext.dumps(circular, 2)


def test_diagnosis_to_json_is_json_dumps():
    d = tmsrules.diagnose({"tms": {"version": "15.2.1"}, "endpoints": [{"name": "Sala é", "software": "TC7.3.6"}]})
    for indent in (None, 0, 2, 4):
        assert d.to_json(indent=indent) == json.dumps(d.to_dict(), indent=indent, ensure_ascii=False)
