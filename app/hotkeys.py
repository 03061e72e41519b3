"""The tray's global hotkeys: pynput's GlobalHotKeys receives them; under X11 a combination another program
holds (its XGrabKey) is reported, not registered.

X gives a key combination to one grabbing client: grabbing one already grabbed fails with BadAccess. pynput
listens through the RECORD extension and would still see such a key, so both programs would act on it; the
check grabs and at once releases each combination with python-xlib before pynput is started.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from deskscribe import hotkeys
from deskscribe.errors import ConfigError

log = logging.getLogger(__name__)


def taken_on_x(combo: str, display: str | None = None) -> bool | None:
    """True when another X client holds ``combo``; None when there is no X display to ask."""
    if not (display or os.environ.get("DISPLAY")):
        return None
    from Xlib import XK, X, error
    from Xlib import display as xdisplay

    masks, keysym_name = hotkeys.parse(combo).x_keys()
    try:
        d = xdisplay.Display(display)
    except Exception:  # noqa: BLE001 - Xlib raises several types for an unreachable display
        return None
    try:
        keycode = d.keysym_to_keycode(XK.string_to_keysym(keysym_name))
        if not keycode:
            raise ConfigError(f"{combo}: this keyboard has no such key")
        mods = 0
        for mask in masks:
            mods |= getattr(X, mask)
        root = d.screen().root
        catcher = error.CatchError(error.BadAccess)
        root.grab_key(keycode, mods, False, X.GrabModeAsync, X.GrabModeAsync, onerror=catcher)
        d.sync()
        if catcher.get_error() is not None:
            return True
        root.ungrab_key(keycode, mods)
        d.sync()
        return False
    finally:
        d.close()


def taken_message(combo: str, setting: str) -> str:
    return (f"the hotkey {combo} is already taken by another program: choose another for {setting} "
            "in Settings → Task")


class Hotkeys:
    """The combinations in use (combination → callback, called on pynput's thread)."""

    def __init__(self) -> None:
        self.listener: Any = None
        self.problems: list[str] = []
        self.active: dict[str, str] = {}  # setting → combination

    def start(self, wanted: dict[str, tuple[str, Callable[[], None]]]) -> list[str]:
        """``wanted``: setting → (combination, callback); "" = off. Returns one line per hotkey left out."""
        self.stop()
        self.problems, self.active = [], {}
        bindings: dict[str, Callable[[], None]] = {}
        for setting, (combo, callback) in wanted.items():
            if not combo.strip():
                continue
            try:
                if taken_on_x(combo):
                    self.problems.append(taken_message(combo, setting))
                    continue
            except ConfigError as exc:
                self.problems.append(str(exc))
                continue
            bindings[combo.strip().lower()] = callback
            self.active[setting] = combo
        if bindings:
            try:
                self.listener = _listener(bindings)
            except ImportError as exc:  # pynput has no backend here (no X display)
                log.warning("global hotkeys cannot be used here (%s); the tray menu and `deskscribe task` can",
                            str(exc).splitlines()[0])  # a desktop without X: said in the log, not each start
                self.active = {}
                bindings = {}
        if bindings:
            self.listener.daemon = True
            self.listener.start()
            self.listener.wait()  # listening once this returns: a key pressed next is not missed
        for line in self.problems:
            log.warning("%s", line)
        return self.problems

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.stopping = True
            try:
                self.listener.stop()
            except Exception:  # noqa: BLE001 - the X display already went away: nothing left to stop
                log.debug("stopping the hotkey listener", exc_info=True)
            self.listener.join(5)
            self.listener = None


def _listener(bindings: dict[str, Callable[[], None]]) -> Any:
    from pynput import keyboard

    class Listener(keyboard.GlobalHotKeys):
        """pynput 1.8's X listener, stopped from another thread, can find its stop connection already closed
        as it cleans up (both threads use the RECORD connections): once stopping, that is not an error. A
        display that goes away (the session ended, Xvfb killed) ends the listener with one warning."""

        stopping = False

        def run(self) -> None:
            try:
                super().run()
            except Exception as exc:  # noqa: BLE001 - Xlib raises several types for a closed connection
                if self.stopping:
                    log.debug("the hotkey listener's X connection closed as it stopped", exc_info=True)
                else:
                    log.warning("global hotkeys stopped: the X display went away (%s)", exc)

    return Listener(bindings)
