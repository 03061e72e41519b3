from deskscribe.capture.activity import Aggregator, modifier_of, shortcut_name


def test_modifier_names():
    assert modifier_of("ctrl_l") == "ctrl"
    assert modifier_of("ctrl_r") == "ctrl"
    assert modifier_of("alt_gr") == "alt"
    assert modifier_of("cmd") == "cmd"
    assert modifier_of("super_l") == "cmd"
    assert modifier_of("shift_r") == "shift"
    assert modifier_of("a") is None
    assert modifier_of("enter") is None


def test_shortcut_naming():
    assert shortcut_name({"ctrl"}, "c") == "ctrl+c"
    assert shortcut_name({"shift", "ctrl"}, "T") == "ctrl+shift+t"
    assert shortcut_name({"alt"}, "tab") == "alt+tab"
    assert shortcut_name({"cmd", "alt", "ctrl", "shift"}, "q") == "ctrl+alt+shift+cmd+q"
    assert shortcut_name({"shift"}, "a") is None  # shift alone is typing
    assert shortcut_name(set(), "a") is None
    assert shortcut_name({"ctrl"}, "shift_l") is None  # a modifier is never the key


def press(agg, ts, key, char=None):
    return agg.key_down(ts, key, char)


def test_keys_are_counted_not_stored_by_default():
    agg = Aggregator()
    for i, ch in enumerate("secret42"):
        press(agg, i, ch, ch)
    press(agg, 9, "enter")
    press(agg, 10, "backspace")
    events = agg.drain()
    assert [e.kind for e in events] == ["keys"]
    assert events[0].details == {"count": 10, "special": {"backspace": 1, "enter": 1}}
    assert "secret" not in repr(events)
    assert agg.drain() == []


def test_shortcuts_use_held_modifiers_and_releases():
    agg = Aggregator()
    press(agg, 1.0, "ctrl_l")
    assert press(agg, 1.1, "c", "c") == "ctrl+c"
    agg.key_up(1.2, "ctrl_l")
    assert press(agg, 1.3, "c", "c") is None  # ctrl released: plain typing
    press(agg, 2.0, "shift")
    assert press(agg, 2.1, "a", "A") is None
    events = agg.drain()
    assert [(e.kind, e.details) for e in events] == [
        ("shortcut", {"keys": "ctrl+c"}),
        ("keys", {"count": 2}),
    ]


def test_typed_text_only_when_opted_in_and_allowed():
    agg = Aggregator(keep_text=True)
    for i, ch in enumerate("hellp"):
        agg.key_down(i, ch, ch)
    agg.key_down(5, "backspace")
    agg.key_down(6, "o", "o")
    agg.key_down(7, "space", " ")
    agg.key_down(8, "x", "x", text_allowed=False)  # an excluded window had focus
    texts = [e.details["text"] for e in agg.drain() if e.kind == "text"]
    assert texts == ["hello "]


def test_clicks_scroll_bursts_and_app_switches():
    agg = Aggregator(scroll_gap_s=1.0)
    agg.click(1.0, "left", 10, 20)
    agg.scroll(2.0, 5, 5, 0, -1)
    agg.scroll(2.5, 6, 6, 0, -1)
    agg.scroll(2.9, 6, 6, 1, 0)
    agg.scroll(5.0, 7, 7, 0, 1)  # a new burst after a pause
    agg.app_switch(6.0, "XTerm", "firefox", "Mozilla Firefox")
    events = agg.drain()
    assert [(e.ts, e.kind, e.details) for e in events] == [
        (1.0, "click", {"button": "left", "count": 1, "x": 10, "y": 20}),
        (2.0, "scroll", {"x": 5, "y": 5, "dx": 1, "dy": -2, "count": 3}),
        (5.0, "scroll", {"x": 7, "y": 7, "dx": 0, "dy": 1, "count": 1}),
        (6.0, "app_switch", {"from_app": "XTerm", "to_app": "firefox", "title": "Mozilla Firefox"}),
    ]
    assert agg.last_input_ts == 5.0


def test_discard_and_restore():
    agg = Aggregator()
    agg.click(1.0, "left", 1, 1)
    agg.discard()
    assert agg.drain() == []
    agg.click(2.0, "right", 1, 1)
    events = agg.drain()
    agg.click(3.0, "left", 2, 2)
    agg.restore(events)
    assert [e.ts for e in agg.drain()] == [2.0, 3.0]
