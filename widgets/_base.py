"""Shared machinery of the course widgets (private).

Every widget of :mod:`widgets` is an :class:`ipywidgets.VBox` built the same way:

* one matplotlib :class:`~matplotlib.figure.Figure` with its own
  :class:`~matplotlib.backends.backend_agg.FigureCanvasAgg` (no pyplot state), built
  once; each frame only changes the data of its artists (``set_data``,
  ``set_height``, ...) and the canvas is drawn again by Agg;
* the drawn canvas is encoded (PNG or JPEG) into an :class:`ipywidgets.Image`, which
  every front end shows (JupyterLab, VS Code, Colab) without add-on widget libraries;
* a :class:`ipywidgets.Play` button linked in the browser (``jslink``) to an
  :class:`ipywidgets.IntSlider` of animation frames; the kernel observes the slider,
  so tests set ``frame_slider.value`` and see what a student sees;
* an :class:`ipywidgets.HTML` error area: an exception inside a callback is shown
  there as one short line, and the widget keeps working with the user's settings;
* a counter of model calls (:class:`CountingModel`);
* ``_repr_mimebundle_`` adds ``image/png`` of the current state, so an HTML export
  or a terminal without a widget front end still shows a picture;
* :meth:`AnimatedWidget.show_static` draws chosen frames as small multiples for
  slides and PDFs.

Nothing in here does any explanation maths: that lives in :mod:`lime_core`.
"""

from __future__ import annotations

import html
import io
import struct
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lime_core._validation import check_callable, check_choice, check_model_output

IMAGE_FORMATS = ("png", "jpeg")
# CSS pixels per figure inch: a widget of figsize (w, h) takes w*100 x h*100 pixels on the
# page; it is rendered at pixel_ratio times that (sharp on a 2x display, never scaled up).
LOGICAL_DPI = 100
# Smallest font (points) any widget uses: 8 pt is 11 px at LOGICAL_DPI (course rule: >= 10 px).
MIN_FONT_PT = 8
CONTROL_WIDTH = "272px"


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + tag + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))


def encode_png(rgba: np.ndarray, level: int = 1) -> bytes:
    """An ``(H, W, 3 or 4)`` uint8 picture as RGB PNG bytes (the alpha channel is dropped).

    Every frame a widget shows is encoded, so this is on the path of every control's
    change. It writes the PNG directly: each row gets the "up" filter (its difference
    from the row above, one numpy subtraction; flat areas and vertical edges become
    runs of zeros) and the rows are compressed with zlib at ``level`` (1: fastest).
    For the course widgets' 1680 x 600 frames this takes about half the time of
    Pillow's ``save(format="PNG", compress_level=1)``, whose per-row adaptive filter
    choice is the costly part, for PNGs of about the same size.
    """
    rgba = np.asarray(rgba)
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] not in (3, 4):
        raise ValueError(f"rgba must be an (H, W, 3) or (H, W, 4) uint8 array, got shape "
                         f"{rgba.shape} and dtype {rgba.dtype}")
    h, w = rgba.shape[:2]
    rgb = rgba[..., :3].reshape(h, 3 * w)
    rows = np.empty((h, 1 + 3 * w), dtype=np.uint8)
    rows[:, 0] = 2  # PNG filter type 2, "up": byte minus the byte above (mod 256)
    rows[0, 1:] = rgb[0]  # the first row's "above" is zeros
    np.subtract(rgb[1:], rgb[:-1], out=rows[1:, 1:])
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), level))
            + _png_chunk(b"IEND", b""))


class CountingModel:
    """Wrap a model so that every call is counted.

    ``calls`` counts invocations (one per batch) and ``rows`` the inputs sent in
    total. The widgets read ``calls`` to show, and tests to assert, that a knob
    which needs no new predictions really made none.
    """

    def __init__(self, fn: Callable, name: str = "classifier_fn") -> None:
        self.fn = check_callable(fn, name)
        self.name = name
        self.calls = 0
        self.rows = 0

    def __call__(self, batch: Any) -> Any:
        self.calls += 1
        try:
            self.rows += len(batch)
        except TypeError:
            pass
        return self.fn(batch)

    def predict(self, batch: Any) -> np.ndarray:
        """Call the model and return its output as a checked ``(n, k)`` float array."""
        return check_model_output(self(batch), len(batch), self.name)


class PrefixReuse:
    """Serve the leading rows of a new LIME sample from the previous one.

    Masks drawn with the same integer seed are the same row for row whatever the
    sample size (:func:`lime_core.sampling.sample_masks` draws them in order), so when
    only the number of samples N changes, rows ``0 .. min(N_old, N_new) - 1`` are the
    same perturbed inputs as before and need no new model call. Pass this object as
    the model to a samples function; it hands out the stored predictions batch by
    batch (batches arrive in row order) and calls ``predict`` only for rows it has not
    seen. :meth:`keep` stores the new run, and checks that its masks really extend
    the old ones (else the reused rows are predicted again).
    """

    def __init__(self, predict: Callable) -> None:
        self.predict = predict
        self.settings: Any = None
        self.Z: np.ndarray | None = None
        self.predictions: np.ndarray | None = None
        self._offset = 0

    def start(self, settings: Any) -> "PrefixReuse":
        """Begin a run; forget the stored rows unless ``settings`` (seed, image,
        segments, baseline...) equal the last run's and the seed is an integer."""
        seeded = isinstance(settings, tuple) and isinstance(settings[0], (int, np.integer))
        if not seeded or not _same(settings, self.settings):
            self.Z = self.predictions = None
        self.settings = settings
        self._offset = 0
        return self

    def __call__(self, batch: Any) -> np.ndarray:
        start, self._offset = self._offset, self._offset + len(batch)
        have = 0 if self.predictions is None else len(self.predictions)
        if self._offset <= have:
            return self.predictions[start:self._offset]
        if start >= have:
            return self.predict(batch)
        # a batch across the end of the stored rows: predict only its new rows
        new = np.asarray(self.predict(batch[have - start:]))
        return np.concatenate([self.predictions[start:have], new])

    def keep(self, Z: np.ndarray, predictions: np.ndarray) -> bool:
        """Store this run; False when the reused rows turn out not to match (the
        caller then runs again without reuse)."""
        if self.Z is not None:
            m = min(len(self.Z), len(Z))
            if not np.array_equal(self.Z[:m], Z[:m]):
                self.Z = self.predictions = None
                return False
        self.Z, self.predictions = np.array(Z), np.array(predictions)
        return True


def _same(a: Any, b: Any) -> bool:
    """Equality for tuples that may hold arrays."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.shape == b.shape and bool(np.array_equal(a, b)))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _tick_extent(axis: Any, renderer: Any, which: int) -> float:
    """Largest width (``which=0``) or height (``which=1``), in pixels, of the tick labels
    ``axis`` will draw for its current view limits, measured without drawing."""
    lo, hi = sorted(axis.get_view_interval())
    ticks = axis.get_major_ticks()
    if not ticks:
        return 0.0
    label = ticks[0].label1
    prop = label.get_fontproperties()
    biggest = 0.0
    for locator, formatter in ((axis.get_major_locator(), axis.get_major_formatter()),
                               (axis.get_minor_locator(), axis.get_minor_formatter())):
        locs = [float(v) for v in locator() if lo <= v <= hi]
        for text in (formatter.format_ticks(locs) if locs else ()):
            if text:
                text, ismath = label._preprocess_math(text)
                size = renderer.get_text_width_height_descent(text, prop, ismath=ismath)
                biggest = max(biggest, float(size[which]))
    return biggest


def _layout_state(fig: Any, renderer: Any) -> tuple[tuple, np.ndarray]:
    """What decides the constrained layout's margins: ``(key, extents)``.

    ``key`` holds the structure (axes, scales, how many titles, texts and legend
    entries); ``extents`` the pixel width and height of every static text the layout
    makes room for (axis labels, titles, texts, legend entries) and the largest
    tick-label height (x) and width (y) of each axes. Animated texts (redrawn every frame
    on top of the saved background) are left out: the layout was made with room for
    them. A redraw with the same key and no text larger than at the last layout still
    fits the frozen layout, and the costly layout pass is skipped.
    """
    key: list = [tuple(fig.get_size_inches())]
    extents: list[float] = []

    def measure(texts: list) -> None:
        for t in texts:
            if t.get_text() and t.get_visible():
                box = t.get_window_extent(renderer)
                extents.extend((float(box.width), float(box.height)))
            else:
                extents.extend((0.0, 0.0))

    for ax in fig.axes:
        titles = [t for t in (ax.title, ax._left_title, ax._right_title) if not t.get_animated()]
        texts = [t for t in ax.texts if t.get_in_layout() and not t.get_animated()]
        legend = ax.get_legend()
        legend_texts = [] if legend is None else list(legend.get_texts())
        key.append((ax.get_visible(), ax.get_xscale(), ax.get_yscale(),
                    len(titles), len(texts), legend is None, len(legend_texts)))
        measure([ax.xaxis.label, ax.yaxis.label, *titles, *texts, *legend_texts])
        extents += [_tick_extent(ax.xaxis, renderer, 1), _tick_extent(ax.yaxis, renderer, 0)]
    key.append(len(fig.texts))
    measure(list(fig.texts))
    return tuple(key), np.asarray(extents)


class Throttle:
    """Apply a callback at most once per ``interval`` seconds, always ending on the last value.

    A continuous slider sends many values per second while it is dragged. The first
    value is applied at once; values that arrive within ``interval`` seconds of the
    last update are held, and the latest one is applied when the interval has
    passed (a trailing update), so the view always ends on the slider's final
    value. ``interval=0`` applies every value immediately (deterministic, for tests
    and scripts). :meth:`flush` applies a held value now.
    """

    def __init__(self, fn: Callable[[], None], interval: float) -> None:
        self.fn = fn
        self.interval = float(interval)
        self._last = -np.inf
        self._pending = False
        self._timer: threading.Timer | None = None
        self._lock = threading.RLock()

    def __call__(self) -> None:
        with self._lock:
            now = time.monotonic()
            wait = self._last + self.interval - now
            if self.interval <= 0 or wait <= 0:
                self._cancel()
                self._run()
                return
            self._pending = True
            if self._timer is None:
                self._timer = threading.Timer(wait, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending = False

    def _run(self) -> None:
        self._last = time.monotonic()
        self.fn()

    def flush(self) -> None:
        """Apply a held update now (no-op when nothing is held)."""
        with self._lock:
            pending = self._pending
            self._cancel()
            if pending:
                self._run()

    @property
    def pending(self) -> bool:
        return self._pending


class FrameWorker:
    """Draw animation frames in one background thread, always the newest one requested.

    Play runs in the browser and sends one slider value per tick. If the kernel drew
    every value in turn, a slow machine would queue frames and keep animating long
    after Play reached the end. Instead the slider's observer only records the frame
    wanted (which returns at once, so the kernel keeps reading messages) and this
    worker draws the newest recorded frame when it is free: frames the kernel cannot
    keep up with are skipped (``skipped`` counts them) and the last frame is on
    screen one drawing after the last tick.
    """

    def __init__(self, draw: Callable[[int], Any]) -> None:
        self._draw = draw
        self._cond = threading.Condition()
        self._wanted: int | None = None
        self._busy = False
        self._thread: threading.Thread | None = None
        self.requested = 0
        self.drawn = 0
        self.skipped = 0

    def request(self, i: int) -> None:
        with self._cond:
            if self._wanted is not None:
                self.skipped += 1
            self._wanted = int(i)
            self.requested += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, daemon=True,
                                                name="widget-frames")
                self._thread.start()
            self._cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._wanted is None:
                    self._cond.wait()
                i, self._wanted = self._wanted, None
                self._busy = True
            try:
                self._draw(i)
            finally:
                with self._cond:
                    self._busy = False
                    self.drawn += 1
                    self._cond.notify_all()

    def wait(self, timeout: float | None = 30.0) -> bool:
        """Block until every requested frame is drawn (True) or ``timeout`` passes."""
        with self._cond:
            return self._cond.wait_for(lambda: self._wanted is None and not self._busy,
                                       timeout)


class AnimatedWidget(ipywidgets.VBox):
    """Base of every course widget: figure, image, Play + frame slider, error area.

    Subclasses build their artists in :meth:`_build_figure` (called once), set the
    number of frames with :meth:`_set_num_frames`, and draw frame ``i`` by changing
    artist data in :meth:`_draw_frame`. Knobs call :meth:`_guarded` so that an error
    lands in the error area instead of a traceback.

    Parameters
    ----------
    figsize : (float, float)
        Size in inches; the picture takes ``100 *`` that many CSS pixels on the page
        (``display_size``), chosen so that the widget with its controls fits a
        1280x720 JupyterLab window.
    pixel_ratio : float
        Rendered pixels per CSS pixel (default 2: sharp on a 2x display; the browser
        only ever scales the picture down).
    image_format : {"png", "jpeg"}
        Encoding of the frames sent to the browser: PNG (default) keeps lines and text
        sharp; the static fallback is always PNG.
    debounce : float
        Seconds between two updates of a continuous slider (0: every move is applied
        at once and every frame is drawn synchronously, which tests use). With a
        positive value, frames asked for by Play are drawn by a :class:`FrameWorker`
        that skips the frames the kernel cannot keep up with.
    interval : int
        Milliseconds between two frames when Play runs (browser side).
    """

    figsize: tuple[float, float] = (9.0, 3.0)

    def __init__(
        self,
        *,
        figsize: tuple[float, float] | None = None,
        pixel_ratio: float = 2.0,
        image_format: str = "png",
        debounce: float = 0.15,
        interval: int = 150,
    ) -> None:
        super().__init__()
        self.image_format = check_choice(image_format, "image_format", IMAGE_FORMATS)
        self.debounce = float(debounce)
        if not np.isfinite(pixel_ratio) or not 0.5 <= float(pixel_ratio) <= 4:
            raise ValueError(f"pixel_ratio must be between 0.5 and 4, got {pixel_ratio!r}")
        self.pixel_ratio = float(pixel_ratio)
        size = tuple(float(v) for v in (figsize or self.figsize))
        self.fig = Figure(figsize=size, dpi=LOGICAL_DPI * self.pixel_ratio, layout="constrained")
        self.canvas = FigureCanvasAgg(self.fig)
        self._render_lock = threading.RLock()
        # shown at its logical size: the browser never scales the picture up
        self.display_size = (int(round(size[0] * LOGICAL_DPI)), int(round(size[1] * LOGICAL_DPI)))
        self.image = ipywidgets.Image(format=self.image_format, layout=ipywidgets.Layout(
            width=f"{self.display_size[0]}px", height=f"{self.display_size[1]}px",
            max_width="100%", object_fit="contain"))
        self.error_area = ipywidgets.HTML(value="")
        self.status = ipywidgets.HTML(value="")
        self.play = ipywidgets.Play(value=0, min=0, max=1, step=1, interval=interval,
                                    description="Play", repeat=False)
        self.frame_slider = ipywidgets.IntSlider(value=0, min=0, max=1, step=1,
                                                 description="step", continuous_update=True,
                                                 style={"description_width": "initial"})
        self._link = ipywidgets.jslink((self.play, "value"), (self.frame_slider, "value"))
        self.frame_slider.observe(self._on_frame_slider, names="value")
        self._frames = FrameWorker(lambda i: self._guarded(self._show_frame, i))
        self._throttles: list[Throttle] = []
        self._animated: list = []
        self._data_artists: list = []
        self._background = None
        self._chrome = None
        self._layout_frozen = False
        self.frame = 0
        self.renders = 0
        self.background_draws = 0
        self.controls: list = []

    # ------------------------------------------------------------------ layout
    def _layout(self, controls: Sequence[ipywidgets.Widget]) -> None:
        """Arrange the children: controls, Play + slider, image, status, errors.

        ``controls`` are kept as ``self.controls`` (the knobs a student can move; tests
        move each of them)."""
        self.controls = list(controls)
        for control in self.controls:  # three to a row inside an 840 px wide widget
            if control.layout.width is None:
                control.layout.width = CONTROL_WIDTH
        rows = [ipywidgets.HBox(list(controls[i:i + 3]), layout=ipywidgets.Layout(
            flex_flow="row wrap")) for i in range(0, len(controls), 3)]
        self.children = [
            *rows,
            ipywidgets.HBox([self.play, self.frame_slider]),
            self.image,
            self.status,
            self.error_area,
        ]

    # ------------------------------------------------------------------ frames
    @property
    def num_frames(self) -> int:
        """Number of animation frames (slider positions ``0 .. num_frames - 1``)."""
        return int(self.frame_slider.max) + 1

    def _set_num_frames(self, n: int) -> None:
        """Resize the Play/slider range to ``n`` frames, keeping the current frame when it
        still exists (else the last one). No redraw: the caller draws."""
        n = max(int(n), 1)
        keep = min(int(self.frame), n - 1)
        self._silent = True
        try:
            if n - 1 >= self.frame_slider.max:
                self.play.max = n - 1
                self.frame_slider.max = n - 1
                self.frame_slider.value = keep
                self.play.value = keep
            else:
                self.frame_slider.value = keep
                self.play.value = keep
                self.play.max = n - 1
                self.frame_slider.max = n - 1
        finally:
            self._silent = False
        self.frame = keep

    _silent = False
    _sync_depth = 0

    def _on_frame_slider(self, change: dict) -> None:
        if self._silent:
            return
        if self.debounce <= 0 or self._sync_depth:
            self._guarded(self._show_frame, int(change["new"]))
        else:
            self._frames.request(int(change["new"]))

    def _sync(self, fn: Callable, *args: Any) -> Any:
        """Run ``fn`` with slider moves drawn at once (scripted steps, not Play)."""
        self._frames.wait()
        self._sync_depth += 1
        try:
            return fn(*args)
        finally:
            self._sync_depth -= 1

    def _show_frame(self, i: int) -> None:
        self.frame = int(i)
        self._draw_frame(self.frame)
        self.render()

    def step(self) -> int:
        """Advance one frame (as one tick of Play does) and return the new frame index.

        Pending throttled slider updates are applied first, so a script or test
        that moves a slider and then steps sees the slider's effect.
        """
        self.flush()
        if self.frame_slider.value < self.frame_slider.max:
            self._sync(setattr, self.frame_slider, "value", self.frame_slider.value + 1)
        return int(self.frame_slider.value)

    def reset(self) -> None:
        """Go back to the first frame (settings and cached predictions are kept)."""
        self.flush()
        self.play.value = 0
        if self.frame_slider.value != 0:
            self._sync(setattr, self.frame_slider, "value", 0)
        else:
            self._guarded(self._show_frame, 0)

    def go_to(self, i: int) -> None:
        """Jump to frame ``i`` (negative counts from the end)."""
        self.flush()
        if i < 0:
            i = self.num_frames + i
        self._sync(setattr, self.frame_slider, "value", int(np.clip(i, 0, self.frame_slider.max)))

    def _draw_frame(self, i: int) -> None:  # pragma: no cover - subclasses draw
        raise NotImplementedError

    # ------------------------------------------------------------------ knobs
    def _throttled(self, fn: Callable[[], None]) -> Throttle:
        """A :class:`Throttle` of ``fn`` with this widget's ``debounce``, errors guarded."""
        throttle = Throttle(lambda: self._guarded(fn), self.debounce)
        self._throttles.append(throttle)
        return throttle

    def flush(self) -> None:
        """Apply every held (throttled) slider update now and wait for frames in flight."""
        for throttle in self._throttles:
            throttle.flush()
        self._frames.wait()

    def _guarded(self, fn: Callable, *args: Any) -> Any:
        """Run ``fn``; show an exception in the error area instead of raising it.

        Callbacks are serialised by one lock: a throttled update fired by its timer
        thread never draws while the slider's own callback is drawing.
        """
        with self._render_lock:
            try:
                out = fn(*args)
            except Exception as err:  # noqa: BLE001 - shown to the user, widget keeps running
                self.show_error(err)
                return None
            self.error_area.value = ""
            return out

    def show_error(self, err: BaseException | str) -> None:
        """Show a one-line error message in the widget's error area."""
        if isinstance(err, BaseException):
            text = f"{type(err).__name__}: {err}"
        else:
            text = str(err)
        first = text.strip().splitlines()[0] if text.strip() else text
        if len(first) > 300:
            first = first[:297] + "..."
        self.last_error = first
        self.error_area.value = (
            f'<div style="color:#a00;font-family:monospace">&#9888; {html.escape(first)}</div>'
        )

    last_error: str = ""

    # ------------------------------------------------------------------ rendering
    def render(self) -> None:
        """Draw the figure with Agg and send the encoded bytes to the ``Image``
        (in instructor mode, ask the ipympl canvas to redraw instead)."""
        if self.ipympl_canvas is not None:
            self._invalidate()
            self.ipympl_canvas.draw_idle()
        else:
            self.image.value = self.to_bytes(self.image_format)
        self.renders += 1
        status = f"frame {self.frame} of {self.num_frames - 1} · model calls: " \
            f"{getattr(self, 'model_calls', 0)}"
        if self.status.value != status:
            self.status.value = status

    ipympl_canvas: Any = None

    def use_ipympl(self) -> Any:
        """Optional instructor mode: show the live figure through ipympl (zoom, pan).

        Replaces the ``Image`` by an ipympl canvas of the same figure; every artist is
        then drawn by ipympl at each frame (no blitting), which is slower but lets an
        instructor zoom into the coefficient paths during a demo. Needs the optional
        ``ipympl`` package and its front-end extension; the default view never does.

        Returns the ipympl canvas.
        """
        try:
            from ipympl.backend_nbagg import Canvas, FigureManager
        except ImportError as err:
            raise ImportError("use_ipympl needs the optional package ipympl "
                              "(pip install ipympl); the default view works without it") from err
        if self.ipympl_canvas is not None:
            return self.ipympl_canvas
        with self._render_lock:
            for artist in [*self._animated, *self._data_artists]:
                artist.set_animated(False)
            self._animated = []
            self._data_artists = []
            canvas = Canvas(self.fig)
            FigureManager(canvas, 0)
            canvas.header_visible = False
            self.ipympl_canvas = canvas
            self.children = tuple(canvas if child is self.image else child
                                  for child in self.children)
            self._invalidate()
            self._show_frame(self.frame)
        return canvas

    def _animate(self, *artists: Any) -> None:
        """Mark artists that change from frame to frame.

        They are left out of the full (static) draw and drawn on top of a saved
        background at every frame (blitting), so a frame costs only their own drawing.
        """
        if self.ipympl_canvas is not None:  # instructor mode: ipympl draws everything
            return
        for artist in artists:
            artist.set_animated(True)
            self._animated.append(artist)

    def _data(self, *artists: Any) -> None:
        """Mark artists whose data a refit changes but a frame does not (a knob's lines).

        They are left out of the full draw too, and drawn on top of the saved static
        parts (the "chrome": axes, ticks, labels) when :meth:`_invalidate_data` says only
        they changed; the result is the background the frames restore. A refit that
        keeps the limits, ticks and texts then costs the drawing of these artists, not
        of the whole figure. Drawn in z-order, above every static artist.
        """
        if self.ipympl_canvas is not None:  # instructor mode: ipympl draws everything
            return
        for artist in artists:
            artist.set_animated(True)
            self._data_artists.append(artist)

    def _set_static_text(self, artist: Any, text: str) -> None:
        """Change a non-animated text; the background is redrawn only if it really changed."""
        if artist.get_text() != text:
            artist.set_text(text)
            self._invalidate()

    relayout_on_redraw = True

    def _freeze_layout(self) -> None:
        """Run the layout engine now and keep the result (for artists placed in pixels)."""
        if not self._layout_frozen:
            self.canvas.draw()
            self.fig.set_layout_engine("none")
            self._layout_frozen = True
            self._layout_memo = _layout_state(self.fig, self.canvas.get_renderer())
            self._invalidate()

    _layout_memo: tuple = ((), np.zeros(0))

    def _invalidate(self) -> None:
        """Forget the saved background: the next render draws the static parts again."""
        self._background = None
        self._chrome = None

    def _invalidate_data(self) -> None:
        """Only the artists marked by :meth:`_data` changed (same limits, ticks and
        texts): the next render draws them again on the saved static parts."""
        self._background = None

    def _redraw(self) -> None:
        """Static parts changed (limits, labels, lines): draw everything again."""
        self._invalidate()
        self._show_frame(self.frame)

    def to_rgba(self) -> np.ndarray:
        """The current figure as an ``(H, W, 4)`` uint8 array.

        The static parts are drawn once (the first time with the figure's layout
        engine, which is then switched off so the layout stays put) and saved; each
        frame restores them and draws only the animated artists.
        """
        with self._render_lock:
            if self.ipympl_canvas is not None:
                self._invalidate()  # nothing is animated: draw all of it
            if self._background is None and self._chrome is not None:
                # only the data artists changed: draw them on the saved static parts
                self.canvas.restore_region(self._chrome)
                self._draw_data_artists()
            elif self._background is None:
                if self._layout_frozen and self.relayout_on_redraw:
                    # labels, titles or scales changed, or tick labels grew wider than
                    # at the last layout: let the layout engine make room again. Else
                    # (a refit with new numbers in the same room) keep the frozen layout.
                    key, extents = _layout_state(self.fig, self.canvas.get_renderer())
                    old_key, old_extents = self._layout_memo
                    if (key != old_key or len(extents) != len(old_extents)
                            or np.any(extents > old_extents + 0.5)):
                        self.fig.set_layout_engine("constrained")
                        self._layout_memo = (key, extents)
                self.canvas.draw()
                if not self._layout_frozen and self.relayout_on_redraw:
                    self._layout_memo = _layout_state(self.fig, self.canvas.get_renderer())
                self.fig.set_layout_engine("none")
                self._layout_frozen = True
                self._chrome = self.canvas.copy_from_bbox(self.fig.bbox)
                self.background_draws += 1
                self._draw_data_artists()
            else:
                self.canvas.restore_region(self._background)
            self._animated = [a for a in self._animated if a.figure is not None]
            renderer = self.canvas.get_renderer()
            for artist in self._animated:
                if artist.get_visible():
                    artist.draw(renderer)
            return np.asarray(self.canvas.buffer_rgba()).copy()

    def _draw_data_artists(self) -> None:
        """Draw the :meth:`_data` artists on the canvas (in z-order) and save the result
        as the background of the frames."""
        self._data_artists = [a for a in self._data_artists if a.figure is not None]
        if self._data_artists:
            renderer = self.canvas.get_renderer()
            for artist in sorted(self._data_artists, key=lambda a: a.get_zorder()):
                if artist.get_visible():
                    artist.draw(renderer)
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
        else:
            self._background = self._chrome

    def to_bytes(self, fmt: str = "png") -> bytes:
        """The current figure encoded as PNG (:func:`encode_png`) or JPEG bytes."""
        rgba = self.to_rgba()
        if fmt != "jpeg":
            return encode_png(rgba)
        from PIL import Image as PILImage

        buf = io.BytesIO()
        PILImage.fromarray(rgba[..., :3]).save(buf, format="JPEG", quality=90)
        return buf.getvalue()

    def to_png(self) -> bytes:
        """PNG bytes of the current state (the static fallback)."""
        return self.to_bytes("png")

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        data = super()._repr_mimebundle_(**kwargs) or {}
        try:
            data["image/png"] = self.to_png()
        except Exception:  # noqa: BLE001 - the widget view still works without it
            pass
        return data

    def static_frames(self, num: int = 6) -> list[int]:
        """``num`` frame indices spread evenly from the first to the last frame."""
        n = self.num_frames
        return sorted(set(np.linspace(0, n - 1, min(num, n)).round().astype(int).tolist()))

    def show_static(self, frames: Sequence[int] | None = None, ncols: int = 3) -> Figure:
        """Small multiples of the animation, for slides and PDFs.

        Parameters
        ----------
        frames : sequence of int, optional
            Frames to show (default: six frames spread from first to last).
        ncols : int
            Panels per row.

        Returns
        -------
        matplotlib.figure.Figure
            A new figure (not registered with pyplot); the widget returns to the
            frame it showed before.
        """
        self.flush()
        frames = self.static_frames() if frames is None else [int(f) for f in frames]
        current = self.frame
        pictures = []
        for f in frames:
            self._draw_frame(int(np.clip(f, 0, self.num_frames - 1)))
            pictures.append(self.to_rgba())
        self._draw_frame(current)
        ncols = max(1, min(ncols, len(pictures)))
        nrows = int(np.ceil(len(pictures) / ncols))
        h, w = pictures[0].shape[:2]
        scale = 3.2 / w * 100
        fig = Figure(figsize=(ncols * w * scale / 100, nrows * h * scale / 100 + 0.3 * nrows),
                     dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        for k, (f, pic) in enumerate(zip(frames, pictures, strict=True)):
            ax = fig.add_subplot(nrows, ncols, k + 1)
            ax.imshow(pic)
            ax.set_title(f"frame {f}", fontsize=8)
            ax.set_axis_off()
        return fig


def float_slider(description: str, value: float, lo: float, hi: float, step: float,
                 **kwargs: Any) -> ipywidgets.FloatSlider:
    """A continuous float slider with a readable label width."""
    return ipywidgets.FloatSlider(value=value, min=lo, max=hi, step=step,
                                  description=description, continuous_update=True,
                                  style={"description_width": "initial"}, **kwargs)


def log_slider(description: str, value: float, lo: float, hi: float,
               **kwargs: Any) -> ipywidgets.FloatLogSlider:
    """A continuous logarithmic slider between ``lo`` and ``hi``."""
    return ipywidgets.FloatLogSlider(value=value, base=10, min=np.log10(lo), max=np.log10(hi),
                                     step=0.01, description=description,
                                     continuous_update=True,
                                     style={"description_width": "initial"}, **kwargs)


def choice(description: str, options: Sequence, value: Any) -> ipywidgets.Dropdown:
    return ipywidgets.Dropdown(options=list(options), value=value, description=description,
                               style={"description_width": "initial"})


def int_slider(description: str, value: int, lo: int, hi: int,
               continuous: bool = False) -> ipywidgets.IntSlider:
    """An integer slider; by default it reports only on release (no throttling needed)."""
    return ipywidgets.IntSlider(value=value, min=lo, max=hi, step=1, description=description,
                                continuous_update=continuous,
                                style={"description_width": "initial"})
