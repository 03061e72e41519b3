from deskscribe.capture.activity import Aggregator, modifier_of, shortcut_name
from deskscribe.storage import events as ev
from deskscribe.storage.events import to_details


def test_modifier_names():
    assert modifier_of("ctrl_l") == "ctrl"
    assert modifier_of("ctrl_r") == "ctrl"
    assert modifier_of("alt_l") == "alt"
    assert modifier_of("alt_gr") == "altgr"  # not Alt: it types characters
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
    assert shortcut_name({"altgr"}, "@") is None
    assert shortcut_name({"altgr", "ctrl", "alt"}, "{") is None  # Windows reports AltGr as Ctrl+Alt


def done(agg):
    """Every action finished as if the engine had taken its frames."""
    agg.end_bursts(10**9)
    for p in agg.needing_before(10**9):
        p.has_before = True
        agg.closed(p)
    for p in agg.needing_after():
        p.has_after = True
    return [(p.ts, e.kind, to_details(e)) for p in agg.take_ready() for e in p.events()]


def told(p):
    """What key_down tells the engine: the event's kind, and for a keys burst whether Enter ended it."""
    if p is None:
        return None
    return p.event.kind, p.event.ended_by if isinstance(p.event, ev.Keys) else None


START, ENTER, SHORTCUT = (ev.Keys.kind, None), (ev.Keys.kind, "enter"), (ev.Shortcut.kind, None)


def test_altgr_characters_are_typing_not_alt_shortcuts():
    agg = Aggregator(keep_text=False)
    agg.key_down(1.0, "alt_gr")
    assert told(agg.key_down(1.1, "@", "@")) == START
    assert agg.key_down(1.2, "{", "{") is None
    agg.key_up(1.3, "alt_gr")
    assert done(agg) == [(1.1, "keys", {"count": 2, "ended_by": "pause"})]
    agg.key_down(2.0, "alt_l")
    assert told(agg.key_down(2.1, "f", "f")) == SHORTCUT  # real Alt still makes shortcuts


def test_keys_are_counted_not_stored_by_default_and_enter_ends_the_burst():
    agg = Aggregator()
    news = [agg.key_down(i, ch, ch) for i, ch in enumerate("secret42")]
    assert told(news[0]) == START and news[1:] == [None] * 7
    assert agg.key_down(9, "backspace") is None
    burst = agg.key_down(10, "enter")
    assert told(burst) == ENTER and burst is news[0] and not burst.open
    got = done(agg)
    assert got == [(0, "keys", {"count": 10, "special": {"backspace": 1, "enter": 1}, "ended_by": "enter"})]
    assert "secret" not in repr(got)
    assert done(agg) == []


def test_enter_alone_is_a_burst_that_enter_ended_and_a_shortcut_is_not_a_burst():
    agg = Aggregator()
    assert told(agg.key_down(1.0, "enter")) == ENTER
    agg.key_down(2.0, "ctrl_l")
    shortcut = agg.key_down(2.1, "s", "s")
    assert told(shortcut) == SHORTCUT and not shortcut.open
    assert [(k, d.get("ended_by")) for _, k, d in done(agg)] == [("keys", "enter"), ("shortcut", None)]


def test_a_pause_or_a_click_ends_a_typing_burst():
    agg = Aggregator(key_pause_s=1.0)
    agg.key_down(1.0, "a", "a")
    assert agg.end_bursts(1.5) == []
    assert [p.event.ended_by for p in agg.end_bursts(2.0)] == ["pause"]
    agg.key_down(3.0, "b", "b")
    agg.click(3.1, "left", 5, 5)
    assert [(k, d.get("ended_by")) for _, k, d in done(agg)] == [("keys", "pause"), ("keys", "action"),
                                                                 ("click", None)]


def test_a_burst_ended_by_a_click_or_shortcut_ends_on_that_action_s_before_frame():
    """Its text is on the screen just before the action, not on what the action opened (a Save As dialog)."""
    agg = Aggregator()
    agg.key_down(1.0, "a", "a")
    for p in agg.needing_before(1.0):
        p.before, p.has_before = 7, True  # the burst's before frame
    shortcut = None
    agg.key_down(1.5, "ctrl_l")
    shortcut = agg.key_down(1.6, "s", "s")
    burst = next(p for p in agg._pending if isinstance(p.event, ev.Keys))
    assert burst.event.ended_by == "action" and agg.needing_after() == []  # waits for the shortcut's frame
    for p in agg.needing_before(2.0):
        p.before, p.has_before = 8, True
        agg.closed(p)
    assert shortcut is not None and (burst.after, burst.has_after) == (8, True)
    assert agg.needing_after() == [shortcut]


def test_shortcuts_use_held_modifiers_and_releases():
    agg = Aggregator()
    agg.key_down(1.0, "ctrl_l")
    assert told(agg.key_down(1.1, "c", "c")) == SHORTCUT
    agg.key_up(1.2, "ctrl_l")
    assert told(agg.key_down(1.3, "c", "c")) == START  # ctrl released: plain typing
    agg.key_down(2.0, "shift")
    assert agg.key_down(2.1, "a", "A") is None
    assert [(k, d) for _, k, d in done(agg)] == [
        ("shortcut", {"keys": "ctrl+c"}),
        ("keys", {"count": 2, "ended_by": "pause"}),
    ]


def test_deskscribe_s_own_hotkeys_are_not_recorded():
    from deskscribe.hotkeys import own_shortcuts

    agg = Aggregator(ignored=own_shortcuts("<ctrl>+<alt>+t", "<alt>+<ctrl>+<f8>", ""))
    assert agg.ignored == {"ctrl+alt+t", "ctrl+alt+f8"}
    agg.key_down(1.0, "ctrl_l")
    agg.key_down(1.05, "alt_l")
    assert agg.key_down(1.1, "t", "t") is None and agg.key_down(1.2, "f8") is None
    assert told(agg.key_down(1.3, "s", "s")) == SHORTCUT
    assert [(k, d) for _, k, d in done(agg)] == [("shortcut", {"keys": "ctrl+alt+s"})]


def test_typed_text_only_when_opted_in():
    agg = Aggregator(keep_text=True)
    for i, ch in enumerate("hellp"):
        agg.key_down(i, ch, ch)
    agg.key_down(5, "backspace")
    agg.key_down(6, "o", "o")
    agg.key_down(7, "space", " ")
    texts = [d["text"] for _, k, d in done(agg) if k == "text"]
    assert texts == ["hello "]


def test_clicks_double_clicks_scroll_bursts_and_app_switches():
    agg = Aggregator(scroll_gap_s=1.0)
    assert agg.click(1.0, "left", 10, 20, monitor=1) is not None
    assert agg.click(1.2, "left", 11, 20) is None  # the same click, twice: a double click
    assert agg.scroll(2.0, 5, 5, 0, -1) is not None
    assert agg.scroll(2.5, 6, 6, 0, -1) is None
    agg.scroll(2.9, 6, 6, 1, 0)
    assert agg.scroll(5.0, 7, 7, 0, 1) is not None  # a new burst after a pause
    agg.app_switch(6.0, "XTerm", "firefox", "Mozilla Firefox")
    assert done(agg) == [
        (1.0, "click", {"button": "left", "count": 2, "x": 10, "y": 20, "monitor": 1}),
        (2.0, "scroll", {"x": 5, "y": 5, "dx": 1, "dy": -2, "count": 3}),
        (5.0, "scroll", {"x": 7, "y": 7, "dx": 0, "dy": 1, "count": 1}),
        (6.0, "app_switch", {"from_app": "XTerm", "to_app": "firefox", "title": "Mozilla Firefox"}),
    ]
    assert agg.last_input_ts == 5.0


def test_an_action_waits_for_its_frames_and_element():
    agg = Aggregator()
    p = agg.click(1.0, "left", 1, 1)
    p.lookup = True
    assert agg.take_ready() == []
    p.has_before = True
    assert agg.needing_after() == [p] and agg.take_ready() == []
    p.has_after = True
    assert agg.take_ready() == []  # the element lookup is still in flight
    agg.set_element(p, ev.Element("push button", "OK"), dropped=False)
    assert [q.event.element.name for q in agg.take_ready()] == ["OK"]


def test_clicks_on_excluded_windows_are_dropped_and_discard_forgets():
    agg = Aggregator()
    p = agg.click(1.0, "left", 1, 1)
    agg.set_element(p, None, dropped=True)
    assert agg.take_ready(force=True) == []
    agg.click(2.0, "left", 1, 1)
    agg.key_down(2.1, "a", "a")
    agg.discard()
    assert agg.take_ready(force=True) == []


class _Titles:
    """Test double of a window backend (capture.window.WindowBackend) whose focused windows are listed."""

    def __init__(self, windows):
        self.windows = list(windows)

    def active_window(self):
        return self.windows.pop(0)


def test_a_title_that_changes_as_a_key_lands_does_not_split_the_word(monkeypatch):
    """An editor marks its title modified at the first key ("notes.txt" → "*notes.txt"); a listener behind on
    a loaded machine asked for the focus after that and ended the burst at 's' of 'second' (CI, mousepad)."""
    import threading
    from types import SimpleNamespace

    from deskscribe.capture import engine
    from deskscribe.capture.privacy import Rules
    from deskscribe.capture.window import WindowInfo
    from deskscribe.config import PrivacyConfig

    windows = [WindowInfo("mousepad", "notes.txt - Mousepad", pid=40),
               WindowInfo("mousepad", "*notes.txt - Mousepad", pid=40),
               WindowInfo("mousepad", "*notes.txt - Mousepad", pid=40), WindowInfo("xterm", "shell", pid=41)]
    monkeypatch.setattr(engine, "get_backend", lambda: _Titles(windows))
    probe = SimpleNamespace(_local=threading.local(), rules=Rules.from_config(PrivacyConfig()))
    agg = Aggregator(keep_text=True)
    for i, ch in enumerate("sec"):
        agg.key_down(1.0 + i / 10, ch, ch, engine.Engine._input_focus(probe))
    agg.key_down(1.5, "x", "x", engine.Engine._input_focus(probe))  # another window, another process
    texts = [d["text"] for _ts, kind, d in done(agg) if kind == "text"]
    assert texts == ["sec", "x"]
