"""review.terminal: which characters never reach a terminal raw, and how they show."""
from __future__ import annotations

import json

import pytest

from review import terminal

# Written out here, not taken from the module: the test is the specification.
CONTROLS = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0))]
FORMAT = [chr(c) for c in (0x061C, *range(0x200B, 0x2010), *range(0x202A, 0x202F),
                           *range(0x2060, 0x2065), *range(0x2066, 0x206A), 0xFEFF)]
HARMLESS = "a Z 0 ~ é ß € → ␛ 中 \u00a0 \u2011 \U0001f600"


@pytest.mark.parametrize("ch", CONTROLS + FORMAT + ["\t", "\n"])
def test_every_unsafe_character_is_made_visible(ch):
    for out in (terminal.escape(f"x{ch}y"), terminal.pictures(f"x{ch}y")):
        assert ch not in out and out[0] == "x" and out[-1] == "y"


def test_escape_spelling():
    assert terminal.escape("\x1b[31mred\x1b]2;title\x07") == "\\x1b[31mred\\x1b]2;title\\x07"
    assert terminal.escape("\x7f\x9b\x85") == "\\x7f\\x9b\\x85"
    assert terminal.escape("access\u202e\u2066level\u200b\ufeff") == \
        "access<U+202E><U+2066>level<U+200B><U+FEFF>"


def test_pictures_spelling():
    assert terminal.pictures("\x1b[31m\r\x00\x7f") == "␛[31m␍␀␡"
    assert terminal.pictures("\x9b\u061c\u2060") == "<U+009B><U+061C><U+2060>"


def test_keep_tab_and_newline_only_where_asked():
    assert terminal.escape("a\tb\nc", keep="\t\n") == "a\tb\nc"
    assert terminal.escape("a\tb\nc", keep="\n") == "a\\x09b\nc"
    assert terminal.pictures("a\tb\nc", keep="\t") == "a\tb␊c"
    with pytest.raises(ValueError):
        terminal.escape("x", keep="\x1b")


def test_harmless_text_is_untouched():
    assert terminal.escape(HARMLESS) == HARMLESS == terminal.pictures(HARMLESS)


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_json_carries_nothing_raw_and_decodes_to_the_same_value(ensure_ascii):
    value = {"subject": "".join(CONTROLS + FORMAT) + "\t\n" + HARMLESS, "n": [1, 2]}
    text = terminal.json_dumps(value, indent=1, ensure_ascii=ensure_ascii)
    assert not set(text) & set(CONTROLS + FORMAT)
    assert json.loads(text) == value
    if not ensure_ascii:
        assert "€" in text  # readable text stays readable
