"""Global hotkey combinations as the config writes them (pynput's form: ``<ctrl>+<alt>+t``), checked once.

A combination is one or more modifiers and one key; the empty string turns a hotkey off. ``x_keys`` gives the
X11 modifier mask names and keysym name, which the tray uses to tell whether another program holds it.
"""

from __future__ import annotations

from dataclasses import dataclass

from deskscribe.errors import ConfigError

MODIFIERS = {"ctrl": "ControlMask", "alt": "Mod1Mask", "shift": "ShiftMask", "cmd": "Mod4Mask"}
NAMED = {"space": "space", "enter": "Return", "tab": "Tab", "esc": "Escape", "backspace": "BackSpace",
         "delete": "Delete", "insert": "Insert", "home": "Home", "end": "End", "page_up": "Prior",
         "page_down": "Next", "up": "Up", "down": "Down", "left": "Left", "right": "Right",
         **{f"f{n}": f"F{n}" for n in range(1, 25)}}
PUNCTUATION = {",": "comma", ".": "period", "/": "slash", ";": "semicolon", "'": "apostrophe", "[": "bracketleft",
               "]": "bracketright", "-": "minus", "=": "equal", "`": "grave", "\\": "backslash"}


@dataclass(frozen=True)
class Combo:
    modifiers: tuple[str, ...]  # of MODIFIERS, in the order written
    key: str  # a single character, or a name of NAMED

    def x_keys(self) -> tuple[list[str], str]:
        """X11: the modifier mask names and the keysym name."""
        keysym = NAMED.get(self.key) or PUNCTUATION.get(self.key) or self.key.lower()
        return [MODIFIERS[m] for m in self.modifiers], keysym

    def shortcut(self) -> str:
        """As capture names a shortcut event (capture/activity.py): modifiers in a fixed order, then the key."""
        return "+".join([m for m in MODIFIERS if m in self.modifiers] + [self.key])


def own_shortcuts(*combos: str) -> frozenset[str]:
    """The shortcut names of deskscribe's own hotkeys (capture leaves them out of the recorded actions)."""
    return frozenset(parse(c).shortcut() for c in combos if c.strip())


def parse(text: str, key: str = "hotkey") -> Combo:
    """``<ctrl>+<alt>+t`` → Combo; a ConfigError naming ``key`` says what is wrong."""
    parts = [p.strip() for p in text.strip().lower().split("+")]
    if text.strip().endswith("++"):  # "<ctrl>++" means the plus key
        parts = [*parts[:-2], "+"]
    mods, keys = [], []
    for part in parts:
        name = part[1:-1] if part.startswith("<") and part.endswith(">") and len(part) > 2 else None
        if name in MODIFIERS:
            mods.append(name)
        elif name in NAMED or (name is None and len(part) == 1 and part.isprintable() and not part.isspace()):
            keys.append(name or part)
        else:
            raise ConfigError(f"{key}: {part!r} in {text!r} is not a key: use <ctrl>, <alt>, <shift>, <cmd>, "
                              "one letter or digit, or a name such as <f8> or <space>")
    if not mods or len(keys) != 1 or len(set(mods)) != len(mods):
        raise ConfigError(f"{key}: {text!r} must be one or more modifiers and one key, e.g. <ctrl>+<alt>+t")
    return Combo(tuple(mods), keys[0])
