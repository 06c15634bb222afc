"""``hotloop julia``: render a Julia set to an 8-bit PNG (the document's command-line tool).

The flags are the document's (``-x/--xleft -X/--xright -y/--ybottom -Y/--ytop -r/--real
-i/--imag -t/--threshold -m/--itermin -M/--itermax -R/--resolution --fast -o FILE``) with its
defaults, plus ``--threads``, ``--smooth``, ``--cmap`` and ``--mandelbrot``. Image row 0 is
``ytop``; a pixel is ``uint8(value * 255)``, gray, or through a matplotlib colormap.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import re
import struct
import sys
import threading
import time
import zlib
from collections.abc import Generator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hotloop._numbers import count_text
from hotloop.cli._common import (
    CLIError,
    add_threads_argument,
    atomic_output,
    check_output_path,
    finite_float,
    positive_int,
    read_int,
    shortened,
    shown_int,
)

# Renders at least this big draw a progress bar (when stderr is a terminal).
PROGRESS_PIXELS = 4_000_000
# Names drawn as the document's gray (value * 255), also with matplotlib installed: its "gray"
# is the same ramp (within one level); "Greys_r" is not, and goes through matplotlib.
GRAY = ("gray", "grey")
# The document's c (-r/--real, -i/--imag).
C_0 = complex(-0.835, -0.2321)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "julia",
        help="render a Julia set to a PNG file",
        description="Render the filled Julia set of z -> z^2 + c over a region of the complex "
        "plane to an 8-bit PNG: each pixel's gray level is how many iterations z took to "
        "reach |z| >= threshold (black: early, white: never within itermax).",
    )
    add = parser.add_argument
    add("-x", "--xleft", type=finite_float, default=-1.6, help="left bound (default -1.6)")
    add("-X", "--xright", type=finite_float, default=1.6, help="right bound (default 1.6)")
    add("-y", "--ybottom", type=finite_float, default=-1.0, help="bottom bound (default -1)")
    add("-Y", "--ytop", type=finite_float, default=1.0, help="top bound (default 1)")
    # -r/-i default to None so that run() can tell them given (refused with --mandelbrot)
    add("-r", "--real", type=finite_float, default=None,
        help=f"real part of c (default {C_0.real})")
    add("-i", "--imag", type=finite_float, default=None,
        help=f"imaginary part of c (default {C_0.imag})")
    add("-t", "--threshold", type=_threshold, default=2.0, help="escape radius (default 2)")
    add("-m", "--itermin", type=_count, default=5,
        help="pixels escaping within this many iterations are black (default 5)")
    add("-M", "--itermax", type=_count, default=80, help="iterations at most (default 80)")
    add("-R", "--resolution", type=positive_int, default=500,
        help="pixels along x (default 500); y gets the same pixel size")
    add("-o", "--output", default="plot.png", metavar="FILE", help="PNG file (default plot.png)")
    add("--fast", action="store_true", help="minimal PNG compression (faster, bigger file)")
    add("--smooth", action="store_true", help="continuous escape time instead of bands")
    add("--cmap", default="gray", metavar="NAME",
        help="colormap: gray (default) or any matplotlib colormap name (gray, with a "
        "warning, when matplotlib is not installed)")
    add("--mandelbrot", action="store_true", help="the Mandelbrot set instead (c = pixel)")
    add("--quiet", action="store_true", help="print nothing on success")
    add_threads_argument(parser)
    parser.set_defaults(func=run, _parser=parser)


def _threshold(text: str) -> float:
    """An escape radius for -t: a finite number > 0 (the API's threshold)."""
    value = finite_float(text)
    if not value > 0.0:
        # "1e-400" is positive but rounds to 0.0: say so, or "> 0, got '1e-400'" puzzles
        rounds = value == 0.0 and re.search(r"[1-9]", re.split(r"[eE]", text)[0]) is not None
        raise argparse.ArgumentTypeError(
            f"expected a number > 0, got {shortened(text)}{' (0 as a double)' if rounds else ''}")
    return value


def _count(text: str) -> int:
    """An iteration count for -m/-M: an integer from 0 to 2^32 - 1 (the core's uint32)."""
    value = read_int(text)
    if not 0 <= value <= 2**32 - 1:
        raise argparse.ArgumentTypeError(
            f"expected an integer in 0..4294967295, got {shown_int(text, value)}")
    return value


def colormap_lut(cmap: str = "gray") -> NDArray[np.uint8] | None:
    """The (256, 3) RGB table of a matplotlib colormap, or None for gray.

    Without matplotlib every name gives gray, with a one-line warning on stderr: the colormap
    only changes how the picture looks, so the run goes on as the document's (gray) would.
    An unknown name with matplotlib installed is an error (``CLIError``)."""
    if cmap.lower() in GRAY:
        return None
    try:
        import matplotlib
    except ImportError:
        print(f"hotloop julia: warning: --cmap {shortened(cmap)} needs matplotlib "
              f"(pip install 'hotloop[plot]'); writing gray", file=sys.stderr)
        return None
    try:
        colormap = matplotlib.colormaps[cmap]
    except KeyError:
        raise CLIError(f"--cmap {shortened(cmap)}: unknown colormap") from None
    lut: NDArray[np.uint8] = np.ascontiguousarray(colormap(np.arange(256), bytes=True)[:, :3])
    return lut


# Raw bytes per band (whole rows, or a piece of a row wider than this): each band is built,
# compressed and checksummed on its own (in parallel with threads), so the bands in flight
# bound the memory beyond the picture, whatever its width.
BAND_BYTES = 1 << 20
# A band goes to zlib in pieces of this many bytes, and a cancelled write stops its running
# bands between pieces: at level 6 zlib took up to 160 ms for a whole band of noise on a
# loaded machine, longer than a Ctrl-C may wait (a piece: about a quarter of that).
PIECE_BYTES = 1 << 18
# PNG (ISO 15948, IHDR) stores width and height as 4-byte integers from 1 to 2^31 - 1.
PNG_MAX_SIDE = 2**31 - 1
_ADLER_BASE = 65521  # the largest prime below 2^16 (RFC 1950, section 8.2)


def adler32_concat(first: int, second: int, second_len: int) -> int:
    """The Adler-32 of A + B from those of A and B and the length of B (RFC 1950).

    Adler-32 keeps s1 = 1 + the sum of the bytes and s2 = the sum of s1 after each byte, both
    mod 65521. Running over B after A starts s1 at s1(A) instead of 1, which adds s1(A) - 1 to
    B's s1 and to each of B's len(B) terms of s2."""
    s1a, s2a = first & 0xFFFF, first >> 16
    s1b, s2b = second & 0xFFFF, second >> 16
    s1 = (s1a + s1b - 1) % _ADLER_BASE
    s2 = (s2a + s2b + second_len * (s1a - 1)) % _ADLER_BASE
    return (s2 << 16) | s1


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(payload, zlib.crc32(kind))
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_parts(picture: NDArray[np.uint8], level: int, threads: int = 1,
              lut: NDArray[np.uint8] | None = None,
              band_bytes: int = BAND_BYTES) -> Generator[bytes, None, None]:
    """The PNG file of an 8-bit picture, as byte strings to write in order.

    ``picture`` is gray (h, w), or RGB (h, w, 3); with ``lut`` (a (256, 3) table from
    :func:`colormap_lut`) gray levels are written as RGB through it, band by band, so the
    RGB picture never exists whole.

    The image data is one zlib stream (RFC 1950) of raw deflate pieces, one per band of at
    most ``band_bytes`` of the raw stream (compressed in parallel on ``threads``): whole rows
    when a row (its filter byte and pixels) fits in ``band_bytes``, else a range of one row's
    columns (the first range of each row carrying its filter byte), so a band's size does not
    grow with the width. Every piece but the last ends with a full flush (byte aligned, no
    final block), so they concatenate into one valid stream, as pigz does. The Adler-32 that
    closes it is combined from the bands'. Each piece is its own IDAT chunk (PNG allows
    consecutive IDATs; their payloads form the stream). Filter type 0 (none) on every row.
    Stopping the iteration (an exception, Ctrl-C) cancels the bands not started and waits
    only for those running.

    Memory beyond the picture: at most ``2 * threads`` bands are in flight (built, being
    compressed, or waiting their turn), so about ``2 * threads * band_bytes``, a few times
    over for a band's copies (the lut's RGB, the compressed piece) and zlib's own state
    (about 400 KiB per running band), whatever the picture's width.
    """
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    if picture.dtype != np.uint8 or not (picture.ndim == 2 or (
            picture.ndim == 3 and picture.shape[2] in (1, 3) and lut is None)):
        raise ValueError(f"picture: expected uint8 (h, w) gray or (h, w, 3) RGB (or (h, w) "
                         f"levels with a lut), got {picture.dtype} {picture.shape}")
    if lut is not None and (lut.dtype != np.uint8 or lut.shape != (256, 3)):
        raise ValueError(f"lut: expected a uint8 (256, 3) table, got {lut.dtype} {lut.shape}")
    if picture.ndim == 3 and picture.shape[2] == 1:
        picture = picture[:, :, 0]
    h, w = picture.shape[:2]
    if not (1 <= h <= PNG_MAX_SIDE and 1 <= w <= PNG_MAX_SIDE):
        raise ValueError(f"a PNG has 1 to {PNG_MAX_SIDE} rows and columns, got {h} x {w}")
    rgb = lut is not None or picture.ndim == 3
    channels = 3 if rgb else 1
    stride = 1 + w * channels  # column 0: the filter byte
    if stride <= band_bytes:  # a band of whole rows
        rows, cols, per_row = band_bytes // stride, w, 1
        bands = -(-h // rows)
    else:  # a row wider than a band: a band is a range of one row's columns
        rows, cols = 1, max(1, (band_bytes - 1) // channels)  # room for the filter byte
        per_row = -(-w // cols)
        bands = h * per_row

    stop = threading.Event()  # set when the write is abandoned: running bands end early

    def band(k: int) -> tuple[bytes, int, int]:
        r0, r1 = k // per_row * rows, min(h, (k // per_row + 1) * rows)
        c0, c1 = k % per_row * cols, min(w, (k % per_row + 1) * cols)
        lead = 1 if c0 == 0 else 0  # the filter byte starts a row's stream
        raw = np.empty((r1 - r0, lead + (c1 - c0) * channels), dtype=np.uint8)
        if lead:
            raw[:, 0] = 0  # filter type 0 (none)
        part = picture[r0:r1, c0:c1]  # only these columns go through the lut
        pixels = part if lut is None else np.take(lut, part, axis=0)
        raw[:, lead:] = pixels.reshape(r1 - r0, (c1 - c0) * channels)
        data = raw.data.cast("B")  # the flat bytes (raw is C-contiguous)
        comp = zlib.compressobj(level, zlib.DEFLATED, -15, 9)
        pieces = []
        for at in range(0, len(data), PIECE_BYTES):  # the same stream as one call makes
            if stop.is_set():
                return b"", 1, 0  # abandoned: never written
            pieces.append(comp.compress(data[at:at + PIECE_BYTES]))
        pieces.append(comp.flush(zlib.Z_FINISH if k == bands - 1 else zlib.Z_FULL_FLUSH))
        body = b"".join(pieces)
        if k == 0:
            body = b"\x78\x01" + body  # the zlib header: deflate, 32 KiB window
        return _chunk(b"IDAT", body), zlib.adler32(data), raw.nbytes

    yield b"\x89PNG\r\n\x1a\n"
    yield _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2 if rgb else 0, 0, 0, 0))
    adler = 1  # the Adler-32 of no bytes
    if threads <= 1 or bands == 1:
        for k in range(bands):
            part, band_adler, size = band(k)
            adler = adler32_concat(adler, band_adler, size)
            yield part
    else:
        pool = ThreadPoolExecutor(max_workers=threads)
        queued: deque[Future[tuple[bytes, int, int]]] = deque()
        try:
            submitted = 0
            while submitted < bands or queued:
                while submitted < bands and len(queued) < 2 * threads:  # bounded memory
                    queued.append(pool.submit(band, submitted))
                    submitted += 1
                part, band_adler, size = queued.popleft().result()
                adler = adler32_concat(adler, band_adler, size)
                yield part
        finally:
            stop.set()
            for future in queued:
                future.cancel()
            pool.shutdown(wait=True)
    yield _chunk(b"IDAT", struct.pack(">I", adler))
    yield _chunk(b"IEND", b"")


def write_png(picture: NDArray[np.uint8], path: str, fast: bool, threads: int = 1,
              lut: NDArray[np.uint8] | None = None) -> None:
    """Writes the picture (through ``lut``, if given: see :func:`png_parts`) atomically (no
    partial file on failure or Ctrl-C): zlib level 1 with ``fast``, else 6. Bands are
    written as they are compressed."""
    parts = png_parts(picture, 1 if fast else 6, threads, lut)
    with atomic_output(path) as handle, contextlib.closing(parts):  # closed first: no band runs on
        for part in parts:
            handle.write(part)  # type: ignore[arg-type]


def _usage_problem(args: argparse.Namespace) -> str | None:
    """The usage error of flags that are each valid but wrong together, as parser.error's
    text naming the flags the user typed, or None. Checked before the API sees the values,
    whose own messages name its arguments (``threshold``, ``n_iterations``, ``x span``)."""
    if args.mandelbrot:
        for flag, value in (("-r/--real", args.real), ("-i/--imag", args.imag)):
            if value is not None:
                return f"argument {flag}: not used with --mandelbrot (c is each pixel there)"
    # a bound right of (or above) the other is allowed: the picture is mirrored, as the
    # API's ComplexRegion allows reversed regions
    for flags, low, high in (("-x/--xleft and -X/--xright", args.xleft, args.xright),
                             ("-y/--ybottom and -Y/--ytop", args.ybottom, args.ytop)):
        if low == high:
            return f"arguments {flags}: expected different bounds, got {low!r} and {high!r}"
        if not math.isfinite(high - low):
            return (f"arguments {flags}: the span from {low!r} to {high!r} is beyond the "
                    f"float range")
    if args.itermin >= args.itermax:
        return (f"arguments -m/--itermin and -M/--itermax: expected itermin < itermax, got "
                f"{args.itermin} and {args.itermax}")
    if args.smooth and not args.threshold > 1.0:
        return f"argument --smooth: needs -t/--threshold > 1, got {args.threshold!r}"
    if args.resolution > PNG_MAX_SIDE:  # before the API's MemoryError for sides beyond 2^62
        return (f"argument -R/--resolution: expected at most {PNG_MAX_SIDE} (a PNG's "
                f"columns), got {count_text(args.resolution)}")
    return None


_ROWS = "ny = int(resolution * |ytop - ybottom| / |xright - xleft|)"


def _overflow_problem(args: argparse.Namespace) -> str:
    """The usage error of a region and -R whose number of rows overflows the doubles."""
    return (f"argument -R/--resolution: {args.resolution} gives this region an image whose "
            f"{_ROWS} overflows: lower -R/--resolution or the y span (-y/--ybottom to "
            f"-Y/--ytop), or widen the x span (-x/--xleft to -X/--xright)")


def _shape_problem(args: argparse.Namespace, shape: tuple[int, int]) -> str | None:
    """The usage error of a region and -R that make no PNG, or None."""
    if shape[1] == 0:  # the API's empty image; a PNG needs at least one row
        return (f"argument -R/--resolution: {args.resolution} gives this region an image of 0 "
                f"rows ({_ROWS} = 0): raise -R/--resolution or the y span (-y/--ybottom to "
                f"-Y/--ytop)")
    if max(shape) > PNG_MAX_SIDE:
        return (f"argument -R/--resolution: {args.resolution} gives this region an image of "
                f"{shape[0]} x {shape[1]} pixels; a PNG has at most {PNG_MAX_SIDE} columns and "
                f"rows")
    return None


def run(args: argparse.Namespace) -> int:
    from hotloop._progress import ProgressBar
    from hotloop._threads import resolve_threads
    from hotloop.julia import ComplexRegion, JuliaDiv, mandelbrot_picture

    parser: argparse.ArgumentParser = args._parser
    problem = _usage_problem(args)
    if problem is not None:
        parser.error(problem)
    # $HOTLOOP_NUM_THREADS malformed: a runtime error (exit 1) naming it, not a usage error
    threads = resolve_threads(args.threads)
    c_0 = complex(C_0.real if args.real is None else args.real,
                  C_0.imag if args.imag is None else args.imag)
    try:
        region = ComplexRegion(args.xleft, args.xright, args.ybottom, args.ytop)
        julia = JuliaDiv(c_0, args.threshold, (args.itermin, args.itermax), args.resolution,
                         threads=args.threads, smooth=args.smooth)
    except (ValueError, TypeError) as exc:  # not reached: _usage_problem checked the values
        parser.error(str(exc))
    try:
        shape = region.shape(args.resolution)
    except ValueError:  # ny's formula overflows the doubles
        parser.error(_overflow_problem(args))
    problem = _shape_problem(args, shape)
    if problem is not None:
        parser.error(problem)
    # fail before the work: a colormap name matplotlib does not know is a usage error (exit 2,
    # as a bad number is), an output path that cannot be written a runtime one (exit 1)
    try:
        lut = colormap_lut(args.cmap)
    except CLIError as exc:
        parser.error(f"argument {exc}; expected gray or a matplotlib colormap name such as "
                     f"viridis or magma")
    check_output_path(args.output)
    start = time.perf_counter()
    # --quiet prints nothing on success, so no bar either; else a bar on a terminal for
    # large renders
    draw = False if args.quiet or shape[0] * shape[1] < PROGRESS_PIXELS else None
    try:
        # the 8-bit picture in one pass: no float image in between
        with ProgressBar("julia", draw) as bar:
            if args.mandelbrot:
                levels = mandelbrot_picture(region, args.threshold,
                                            (args.itermin, args.itermax), args.resolution,
                                            threads=args.threads, smooth=args.smooth,
                                            progress=bar)
            else:
                levels = julia.picture(region, progress=bar)
    except MemoryError as exc:  # the API's names its argument, resolution: name the flag
        text = str(exc).removeprefix("resolution: ")
        raise CLIError(f"-R/--resolution {args.resolution}: {text}") from None
    computed = time.perf_counter()
    write_png(levels, args.output, args.fast, threads, lut)
    if not args.quiet:
        print(f"{args.output}: {shape[0]} x {shape[1]} pixels, computed in "
              f"{computed - start:.3f} s, written in {time.perf_counter() - computed:.3f} s",
              file=sys.stderr)
    return 0
