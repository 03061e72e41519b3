"""Distinct, screenshot-like images for benchmarks, and a filler that stores them as captured episodes.

Every frame is different (its own text, clock and cursor, so its own image hash and JPEG), and looks like a
desktop: a panel with a clock, one to three windows with title bars in varied colours, a terminal, an editor
or a form full of text. Within an episode, consecutive frames change the way real ones do — a typed line
added, the clock moved on, sometimes a dialog — so they compress and cost what captured frames cost.
A benchmark built on one shared image measures SQLite's page cache, not the application.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

FONT_MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
FONT_SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WORDS = ("report invoice budget meeting notes draft review deploy build test config server client users "
         "orders customer quarterly summary project design backlog sprint release ticket email calendar "
         "price total amount monday tuesday agenda minutes contract schedule").split()
COMMANDS = ["ls -la", "git status", "git diff", "make test", "python3 manage.py migrate", "grep -rn TODO src",
            "cat notes.txt", "ssh build01", "docker ps", "tail -f app.log", "pytest -q", "vim report.md"]
APPS = [("xterm", "Terminal"), ("mousepad", "Mousepad"), ("firefox", "Mozilla Firefox"),
        ("libreoffice-calc", "LibreOffice Calc"), ("thunderbird", "Thunderbird"), ("code", "Visual Studio Code")]


@dataclass(frozen=True)
class Frame:
    data: bytes
    width: int
    height: int
    app: str
    title: str


def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _sentence(rng: random.Random, n: int | None = None) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n or rng.randrange(3, 11)))


class Scene:
    """One episode's screen: a desktop with windows, redrawn with small changes for each frame."""

    def __init__(self, rng: random.Random, size: tuple[int, int]) -> None:
        self.rng, self.size = rng, size
        w, h = size
        self.scale = h / 800
        self.mono, self.sans = _font(FONT_MONO, round(13 * self.scale)), _font(FONT_SANS, round(13 * self.scale))
        self.app, self.app_title = rng.choice(APPS)
        self.doc = f"{rng.choice(WORDS)}-{rng.randrange(1000)}.{rng.choice(['txt', 'md', 'py', 'ods'])}"
        self.title = f"{self.doc} — {self.app_title}"
        self.bg = tuple(rng.randrange(30, 200) for _ in range(3))
        self.dark = self.app in ("xterm", "code")
        self.lines = [self._line() for _ in range(rng.randrange(8, 30))]
        self.others = [(rng.randrange(0, w // 2), rng.randrange(30, h // 2), rng.randrange(w // 4, w // 2),
                        rng.randrange(h // 4, h // 2), tuple(rng.randrange(150, 250) for _ in range(3)),
                        [_sentence(rng) for _ in range(rng.randrange(3, 12))]) for _ in range(rng.randrange(0, 3))]
        self.main = (rng.randrange(0, w // 6), rng.randrange(30, h // 6), 0, 0)
        mw, mh = rng.randrange(w // 2, w - self.main[0]), rng.randrange(h // 2, h - self.main[1])
        self.main = (self.main[0], self.main[1], mw, mh)
        self.clock = rng.randrange(8 * 3600, 18 * 3600)
        self.typed: list[str] = []
        self.dialog = False
        self._base: Image.Image | None = None
        self.text_at: tuple = ()

    def _line(self) -> str:
        rng = self.rng
        if self.app == "xterm":
            return rng.choice([f"$ {rng.choice(COMMANDS)}", f"-rw-r--r-- 1 user user {rng.randrange(99999)} "
                               f"{rng.choice(WORDS)}.txt", _sentence(rng)])
        if self.app == "libreoffice-calc":
            return "  ".join(f"{rng.randrange(10000) / 100:>9.2f}" for _ in range(rng.randrange(3, 8)))
        return _sentence(rng)

    def step(self) -> None:
        """What happens between two frames: the clock moves on, a line is typed, sometimes a dialog opens."""
        rng = self.rng
        self.clock += rng.randrange(2, 30)
        self.typed.append(self._line())
        self.dialog = rng.random() < 0.1

    def base(self) -> Image.Image:
        """The episode's first screen, drawn once (text rendering is most of the cost; frames add to it)."""
        w, h = self.size
        img = Image.new("RGB", self.size, self.bg)
        d = ImageDraw.Draw(img)
        d.rectangle([0, 0, w, round(24 * self.scale)], fill=(36, 36, 40))
        d.text((8, 4 * self.scale), "Activities   " + self.app_title, fill="white", font=self.sans)
        for x, y, ow, oh, colour, text in self.others:
            self._window(d, x, y, ow, oh, colour, (60, 60, 60), text, f"{text[0][:30]}", dark=False)
        x, y, mw, mh = self.main
        body = (30, 30, 30) if self.dark else (252, 252, 250)
        self.text_at = self._window(d, x, y, mw, mh, body, (40, 90, 160), self.lines, self.title, dark=self.dark)
        return img

    def render(self) -> Image.Image:
        if self._base is None:
            self._base = self.base()
        img = self._base.copy()
        d = ImageDraw.Draw(img)
        w, h = self.size
        hh, mm, ss = self.clock // 3600 % 24, self.clock // 60 % 60, self.clock % 60
        d.text((w - 90 * self.scale, 4 * self.scale), f"{hh:02d}:{mm:02d}:{ss:02d}", fill="white", font=self.sans)
        x, y, step, room, ink, body = self.text_at
        for i, line in enumerate(self.typed[-room:]):  # typed lines overwrite the window's text from its top
            top = y + i * step
            d.rectangle([x, top, x + self.main[2] - 16, top + step - 1], fill=body)
            d.text((x, top), line, fill=ink, font=self.mono)
        if self.dialog:
            cx, cy = x + self.main[2] // 3, y + self.main[3] // 3
            d.rectangle([cx, cy, cx + 360 * self.scale, cy + 120 * self.scale], fill=(236, 236, 236), outline=(0, 0, 0))
            d.text((cx + 12, cy + 12), f"Save changes to {self.doc}?", fill=(0, 0, 0), font=self.sans)
            d.text((cx + 12, cy + 80 * self.scale), "Cancel      Don't save      Save", fill=(0, 0, 0), font=self.sans)
        return img

    def _window(self, d: ImageDraw.ImageDraw, x: int, y: int, w: int, h: int, body: tuple[int, ...],
                title_bg: tuple[int, ...], lines: list[str], title: str, *, dark: bool) -> None:
        tb = round(26 * self.scale)
        d.rectangle([x, y, x + w, y + h], fill=body, outline=(20, 20, 20))
        d.rectangle([x, y, x + w, y + tb], fill=title_bg)
        d.text((x + 10, y + 5 * self.scale), title, fill="white", font=self.sans)
        step = round(17 * self.scale)
        visible = max(1, (h - tb - 10) // step)
        ink = (220, 220, 220) if dark else (25, 25, 25)
        for i, line in enumerate(lines[-visible:]):
            d.text((x + 8, y + tb + 6 + i * step), line[: max(8, w // max(1, round(8 * self.scale)))],
                   fill=ink, font=self.mono)
        return x + 8, y + tb + 6, step, visible, ink, body


def episode_frames(seed: int, index: int, per_episode: int, size: tuple[int, int], quality: int = 80) -> list[Frame]:
    """Episode ``index``'s distinct JPEG frames (capture's default format and quality); its own seed, so any
    episode can be made alone — in another process, or when a fill resumes."""
    scene = Scene(random.Random(f"{seed}-{index}"), size)
    out = []
    for _ in range(per_episode):
        buf = io.BytesIO()
        scene.render().save(buf, "JPEG", quality=quality)
        out.append(Frame(buf.getvalue(), size[0], size[1], scene.app, scene.title))
        scene.step()
    return out


def _episode(args: tuple[int, int, int, tuple[int, int]]) -> list[Frame]:
    return episode_frames(*args)


def frames(seed: int, episodes: int, per_episode: int, size: tuple[int, int], *, start: int = 0,
           workers: int = 1) -> Iterator[list[Frame]]:
    """Episodes ``start`` … ``episodes - 1`` in order; ``workers`` > 1 renders them in that many processes."""
    jobs = ((seed, i, per_episode, size) for i in range(start, episodes))
    if workers <= 1:
        yield from map(_episode, jobs)
        return
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        yield from pool.imap(_episode, jobs, chunksize=4)


def fill(db, episodes: int, per_episode: int, size: tuple[int, int], *, seed: int = 1,  # type: ignore[no-untyped-def]
         start_ts: float = 1_700_000_000.0, batch: int = 200, workers: int = 1) -> dict[str, float]:
    """Store generated episodes through the storage functions capture uses; some described and reviewed.

    Resumes a fill that was stopped (episodes already in ``db`` are kept; batches are transactions).
    Returns how many frames and bytes the database holds. Every 3rd episode gets a model description; of those,
    some are accepted, edited or rejected, so the review window's status filter has something to show.
    """
    from deskscribe.storage import descriptions as D
    from deskscribe.storage.db import transaction
    from deskscribe.storage.frames import EncodedImage, EventIn, FrameIn, add_frame, close_episode, create_episode

    run = D.model_run_id(db, D.ModelRun("describe", "llama_cpp", "bench-filler", None, "v1", {}))
    i = int(db.conn.execute("SELECT count(*) FROM episodes").fetchone()[0])
    ts = start_ts + i * (2 * per_episode + 60)
    n_frames, n_bytes = db.conn.execute("SELECT count(*), coalesce(sum(bytes), 0) FROM images").fetchone()
    gen = frames(seed, episodes, per_episode, size, start=i, workers=workers)
    while i < episodes:
        with transaction(db):
            for shots in (next(gen) for _ in range(min(batch, episodes - i))):
                ep = create_episode(db, ts)
                for j, f in enumerate(shots):
                    events = [EventIn(ts + 2 * j, "click", {"x": 10 * j, "y": 20, "button": "left", "count": 1})]
                    add_frame(db, ep, FrameIn(ts + 2 * j, EncodedImage(f.data, "jpeg", f.width, f.height),
                                              app=f.app, window_title=f.title, events=events))
                    n_bytes += len(f.data)
                n_frames += len(shots)
                close_episode(db, ep)
                if i % 3 == 0:
                    D.add_description(db, ep, f"Edited {shots[0].title} ({i}).", ["Clicked the window",
                                      "Typed a line"], author="model", model_run_id=run)
                    if i % 9 == 0:
                        D.review(db, ep, "accepted")
                    elif i % 9 == 3:
                        D.add_description(db, ep, f"Wrote the {i} report.", ["Typed it"], author="person")
                    else:
                        D.review(db, ep, "rejected")
                ts += 2 * per_episode + 60
                i += 1
    return {"frames": n_frames, "image_bytes": n_bytes}
