"""What a shell command changed: folders and files made, written, copied, moved or deleted, packages installed.

A command line is read as a shell would split it ("mkdir -p demo && cd demo", "echo hi > notes.txt"), with the
working folder followed through ``cd``, so "cd ~/Desktop" then "rm orange.jpeg" deletes a file on the Desktop.
Each :class:`Effect` has its sentence in both forms ("Deleted orange.jpeg from the Desktop" / "Delete …"); the
task sentence (:mod:`deskscribe.models.summary`) puts one or two of them together. A command that changes
nothing a person would name (``ls``, ``cat``, ``grep``) has no effect.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass

# Folders a person names by name: "on the Desktop", "in Downloads".
NAMED_FOLDERS = {"desktop": "the Desktop", "documents": "Documents", "downloads": "Downloads",
                 "pictures": "Pictures", "music": "Music", "videos": "Videos"}
_SEPARATORS = re.compile(r"\s*(?:&&|\|\||;|\|)\s*")
_INSTALLERS = {"apt": "", "apt-get": "", "dnf": "", "yum": "", "pacman": "", "brew": "", "snap": "",
               "pip": " with pip", "pip3": " with pip", "npm": " with npm", "gem": " with gem", "cargo": " with cargo"}
_INSTALL_WORDS = {"install", "add", "-s"}
_REMOVE_WORDS = {"remove", "uninstall", "purge", "erase", "-r", "rm"}


@dataclass(frozen=True)
class Effect:
    """One thing a command changed: ``verb`` (create_dir, create, write, delete, delete_dir, copy, move, rename,
    install, uninstall, clone, archive, extract, download), what it acted on (``name``, ``to``) and where."""

    verb: str
    name: str
    to: str = ""
    folder: str = ""  # a folder a person names ("the Desktop"), else ""
    how: str = ""  # " with pip"

    def sentence(self, request: bool = False, it: bool = False) -> str:
        """"Created the folder demo" (done) or "Create the folder demo" (request); ``it``: the object is the one
        the sentence named before ("… and copied it to backup.txt")."""
        done, do, obj, prep = _PHRASES[self.verb]
        name = "it" if it else self.name
        text = f"{do if request else done} {obj.format(name=name, to=self.to)}"
        if self.folder and prep:
            text += f" {prep} {self.folder}"
        return text + self.how


# verb → (done, request, object, preposition before a named folder)
_PHRASES = {
    "create_dir": ("Created", "Create", "the folder {name}", "on"), "create": ("Created", "Create", "{name}", "on"),
    "write": ("Wrote", "Write", "{name}", "on"), "delete": ("Deleted", "Delete", "{name}", "from"),
    "delete_dir": ("Deleted", "Delete", "the folder {name}", "from"),
    "copy": ("Copied", "Copy", "{name} to {to}", "on"), "move": ("Moved", "Move", "{name} to {to}", ""),
    "rename": ("Renamed", "Rename", "{name} to {to}", "on"), "install": ("Installed", "Install", "{name}", ""),
    "uninstall": ("Removed", "Remove", "the package {name}", ""), "clone": ("Cloned", "Clone", "{name}", ""),
    "archive": ("Made", "Make", "the archive {name}", "on"), "extract": ("Extracted", "Extract", "{name}", "on"),
    "download": ("Downloaded", "Download", "{name}", "to"),
}


def split_line(line: str) -> list[list[str]]:
    """The simple commands of a command line as word lists (OCR may leave a quote open: then plain words)."""
    out = []
    for part in _SEPARATORS.split(line.strip()):
        try:
            words = shlex.split(part)
        except ValueError:
            words = part.split()
        words = _joined([w for w in words if w])
        while words and (words[0] in ("sudo", "env", "time", "nohup") or re.fullmatch(r"\w+=\S*", words[0])):
            words = words[1:]
        if words:
            out.append(words)
    return out


def _joined(words: list[str]) -> list[str]:
    """Words with a file name OCR split after its dot put back together ("orange. jpeg" → "orange.jpeg")."""
    out: list[str] = []
    for w in words:
        if out and out[-1].endswith(".") and len(out[-1]) > 1 and re.fullmatch(r"[a-z][a-z0-9]{0,4}", w):
            out[-1] += w
        else:
            out.append(w)
    return out


def effects(lines: list[str]) -> list[Effect]:
    """What the command lines, run in order in one shell, changed."""
    cwd = ""
    out: list[Effect] = []
    for line in lines:
        for words in split_line(line):
            if words[0] == "cd":
                cwd = _cd(cwd, words[1] if len(words) > 1 else "~")
                continue
            out += _of(words, cwd)
    return out


def _cd(cwd: str, to: str) -> str:
    if to.startswith(("~", "/", "$HOME")):
        return to
    return posixpath.normpath(posixpath.join(cwd or ".", to))


def _place(path: str, cwd: str) -> tuple[str, str]:
    """(the name a person says, the named folder it is in or "") for a path given at a shell in ``cwd``."""
    path = path.rstrip("/") or path
    full = path if path.startswith(("~", "/", "$HOME")) else posixpath.join(cwd, path) if cwd else path
    folder = posixpath.basename(posixpath.dirname(full).rstrip("/"))
    return posixpath.basename(path) or path, NAMED_FOLDERS.get(folder.lower(), "")


def _at(path: str, cwd: str) -> dict[str, str]:
    name, folder = _place(path, cwd)
    return {"name": name, "folder": folder}


def _args(words: list[str]) -> list[str]:
    return [w for w in words[1:] if not w.startswith("-") and w not in (">", ">>")]


def _of(words: list[str], cwd: str) -> list[Effect]:
    """The effects of one simple command (its redirection to a file included)."""
    out: list[Effect] = []
    words, written = _redirect(words)
    prog, args = posixpath.basename(words[0]) if words else "", _args(words)
    flags = "".join(w.lstrip("-") for w in words[1:] if w.startswith("-"))
    if prog == "mkdir":
        out += [Effect("create_dir", **_at(a, cwd)) for a in args]
    elif prog == "touch":
        out += [Effect("create", **_at(a, cwd)) for a in args]
    elif prog in ("rm", "rmdir", "unlink"):
        folder = prog == "rmdir" or "r" in flags.lower()
        out += [Effect("delete_dir" if folder and "." not in a.strip("/").rsplit("/", 1)[-1] else "delete",
                       **_at(a, cwd)) for a in args]
    elif prog in ("cp", "mv") and len(args) >= 2:
        out += _copy_or_move(prog, args, cwd)
    elif prog in _INSTALLERS or (prog.startswith("python") and words[1:3] == ["-m", "pip"]):
        out += _install(prog, words)
    elif prog == "git" and len(args) >= 2 and args[0] == "clone":
        out.append(Effect("clone", posixpath.basename(args[1].rstrip("/")).removesuffix(".git")))
    elif prog in ("tar", "unzip", "zip") and args:
        out += _archive(prog, flags, args, cwd)
    elif prog in ("wget", "curl") and args:
        name = posixpath.basename(args[-1].split("?")[0].rstrip("/"))
        if name and (prog == "wget" or "o" in flags.lower()):
            out.append(Effect("download", name))
    if written:
        out.append(Effect("write", **_at(written, cwd)))
    return out


def _redirect(words: list[str]) -> tuple[list[str], str | None]:
    """The words without an output redirection, and the file it writes (None: none, or /dev/null)."""
    for i, w in enumerate(words):
        m = re.fullmatch(r"\d?>>?(.*)", w)
        if m:
            target = m.group(1) or (words[i + 1] if i + 1 < len(words) else "")
            rest = words[:i] + words[i + (1 if m.group(1) else 2):]
            return rest, (target if target and not target.startswith(("/dev/", "&")) else None)
    return words, None


def _copy_or_move(prog: str, args: list[str], cwd: str) -> list[Effect]:
    dest = args[-1]
    to, folder = _place(dest, cwd)
    to = NAMED_FOLDERS.get(to.lower(), to)
    out = []
    for src in args[:-1]:
        name, _ = _place(src, cwd)
        same_folder = "/" not in src.rstrip("/") and "/" not in dest.rstrip("/") and not dest.endswith("/")
        verb = "copy" if prog == "cp" else ("rename" if same_folder and len(args) == 2 else "move")
        out.append(Effect(verb, name, to, folder))
    return out


def _install(prog: str, words: list[str]) -> list[Effect]:
    how = _INSTALLERS.get(prog, " with pip")
    rest = words[3:] if words[1:3] == ["-m", "pip"] else words[1:]
    action = next((w for w in rest if not w.startswith("-")), "")
    pkgs = [w for w in rest[rest.index(action) + 1:] if not w.startswith("-")] if action else []
    if not pkgs or action not in _INSTALL_WORDS | _REMOVE_WORDS | {"-S"}:
        return []
    verb = "install" if action in _INSTALL_WORDS or action == "-S" else "uninstall"
    return [Effect(verb, " and ".join(pkgs[:2]) + (" …" if len(pkgs) > 2 else ""), how=how)]


def _archive(prog: str, flags: str, args: list[str], cwd: str) -> list[Effect]:
    if prog == "tar" and re.fullmatch(r"[A-Za-z]+", args[0]) and len(args) > 1:  # "tar czf out.tgz dir"
        flags, args = flags + args[0], args[1:]
    if prog == "unzip" or (prog == "tar" and "x" in flags):
        return [Effect("extract", **_at(args[0], cwd))]
    return [Effect("archive", **_at(args[0], cwd))] if prog == "zip" or "c" in flags else []
