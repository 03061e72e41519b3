"""pynput mouse and keyboard listeners feeding an :class:`~deskscribe.capture.activity.Aggregator`.

pynput needs the X RECORD extension on Linux; without it the listener thread dies and ``Listener.wait()``
would block forever, so readiness is awaited with a timeout and a dead thread counts as "unavailable".
Mouse moves are not listened to (nothing uses them and they are the most frequent events).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from deskscribe.capture.activity import Aggregator, Pending, modifier_of

log = logging.getLogger(__name__)
READY_TIMEOUT_S = 3.0


def key_name(key: Any) -> tuple[str, str | None]:
    """A pynput key as (plain name, typed character or None): Key.ctrl_l → ('ctrl_l', None), 'T' → ('t', 'T')."""
    from pynput import keyboard

    if isinstance(key, keyboard.Key):
        char = getattr(key.value, "char", None)
        return key.name, char if key.name == "space" else None
    char = getattr(key, "char", None)
    if char:
        return char.lower(), char
    return f"vk{getattr(key, 'vk', '?')}", None


def _x11_record_missing() -> str | None:
    """On X11, pynput needs the RECORD extension; without it its threads die with a traceback."""
    if not sys.platform.startswith("linux") or not os.environ.get("DISPLAY"):
        return None
    try:
        from Xlib import display

        conn = display.Display()
    except Exception as exc:  # noqa: BLE001 - Xlib raises several types when it cannot connect
        return f"pynput cannot connect to the X display ({exc})"
    try:
        if not conn.has_extension("RECORD"):
            return "pynput cannot listen: the X server lacks the RECORD extension"
        return None
    finally:
        conn.close()


def _wait_ready(listener: Any, timeout: float) -> bool:
    # pynput's own wait() has no timeout; its ready flag lives behind this condition.
    deadline = time.monotonic() + timeout
    cond = getattr(listener, "_condition", None)
    while time.monotonic() < deadline:
        if getattr(listener, "_ready", False):
            return True
        if not listener.is_alive():
            return False
        if cond is not None:
            with cond:
                cond.wait(0.05)
        else:  # a pynput without the condition: poll the thread's state
            threading.Event().wait(0.05)
    return bool(getattr(listener, "_ready", False))


class InputListeners:
    """Starts both listeners; ``start()`` returns None when they run, else why they cannot.

    ``focus()`` is asked on the listener thread before any input counts: None (focus is on an excluded
    window, or cannot be told) drops it there and then; else it names the focused window, so a typing burst
    ends where focus moved. ``on_action(pending)`` tells the engine an action started (a click, a shortcut, a
    scroll or keys burst) or Enter ended a keys burst — the event's kind and ``ended_by`` say which —, so it
    can keep the frames around it; ``monitor_of(x, y)`` places pointer input.
    """

    def __init__(
        self,
        aggregator: Aggregator,
        on_action: Callable[[Pending], None] = lambda p: None,
        focus: Callable[[], tuple[str | None, int | None] | None] = lambda: (None, None),
        monitor_of: Callable[[int, int], int | None] = lambda x, y: None,
    ) -> None:
        self.aggregator = aggregator
        self._on_action, self._focus, self._monitor_of = on_action, focus, monitor_of
        self._listeners: list[Any] = []

    def start(self, timeout: float = READY_TIMEOUT_S) -> str | None:
        missing = _x11_record_missing()
        if missing:
            return missing
        try:
            from pynput import keyboard, mouse
        except Exception as exc:  # pynput raises ImportError subclasses or Xlib errors when there is no display
            return f"pynput cannot start ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        self._listeners = [
            mouse.Listener(on_click=self._click, on_scroll=self._scroll),
            keyboard.Listener(on_press=self._press, on_release=self._release),
        ]
        for listener in self._listeners:
            listener.start()
        if all(_wait_ready(listener, timeout) for listener in self._listeners):
            return None
        self.stop()
        return "pynput listeners did not start (on X11 the RECORD extension is needed)"

    def stop(self) -> None:
        for listener in self._listeners:
            if not listener.is_alive():
                continue
            if getattr(listener, "_ready", False):
                try:
                    listener.stop()
                except Exception:  # noqa: BLE001 - a dead listener cannot fail shutdown
                    log.debug("stopping a listener failed", exc_info=True)
            else:  # pynput's stop() waits for readiness, forever if it never comes
                threading.Thread(target=listener.stop, daemon=True).start()
        self._listeners = []

    def _click(self, x: int, y: int, button: Any, pressed: bool) -> None:
        if pressed and self._focus() is not None:
            p = self.aggregator.click(time.time(), getattr(button, "name", str(button)), x, y, self._monitor_of(x, y))
            if p is not None:
                self._on_action(p)

    def _scroll(self, x: int, y: int, dx: int, dy: int) -> None:
        if self._focus() is not None:
            p = self.aggregator.scroll(time.time(), x, y, dx, dy, self._monitor_of(x, y))
            if p is not None:
                self._on_action(p)

    def _press(self, key: Any) -> None:
        if key is None:
            return
        name, char = key_name(key)
        where = self._focus() if modifier_of(name) is None else None
        if modifier_of(name) is None and where is None:
            return  # modifiers are tracked even then, or a shortcut would miss its Ctrl after a switch
        p = self.aggregator.key_down(time.time(), name, char, where)
        if p is not None:
            self._on_action(p)

    def _release(self, key: Any) -> None:
        if key is not None:
            self.aggregator.key_up(time.time(), key_name(key)[0])
