"""``hotloop julia``: render a Julia set to an 8-bit PNG (the document's command-line tool).

The flags are the document's (``-x/--xleft -X/--xright -y/--ybottom -Y/--ytop -r/--real
-i/--imag -t/--threshold -m/--itermin -M/--itermax -R/--resolution --fast -o FILE``) with its
defaults, plus ``--threads``, ``--smooth``, ``--cmap`` and ``--mandelbrot``. Image row 0 is
``ytop``; a pixel is ``uint8(value * 255)``, gray, or through a matplotlib colormap.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hotloop.cli._common import (
    CLIError,
    add_threads_argument,
    atomic_output,
    check_output_path,
    finite_float,
    positive_int,
)

# Renders at least this big draw a progress bar (when stderr is a terminal).
PROGRESS_PIXELS = 4_000_000
GRAY = ("gray", "grey", "greys_r")


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
    add("-r", "--real", type=finite_float, default=-0.835, help="real part of c (default -0.835)")
    add("-i", "--imag", type=finite_float, default=-0.2321,
        help="imaginary part of c (default -0.2321)")
    add("-t", "--threshold", type=finite_float, default=2.0, help="escape radius (default 2)")
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


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 0 <= value <= 2**32 - 1:
        raise argparse.ArgumentTypeError(f"expected an integer in 0..4294967295, got {value}")
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
        print(f"hotloop julia: warning: --cmap {cmap} needs matplotlib "
              f"(pip install 'hotloop[plot]'); writing gray", file=sys.stderr)
        return None
    try:
        colormap = matplotlib.colormaps[cmap]
    except KeyError:
        raise CLIError(f"--cmap {cmap}: unknown colormap") from None
    lut: NDArray[np.uint8] = np.ascontiguousarray(colormap(np.arange(256), bytes=True)[:, :3])
    return lut


def colorize(levels: NDArray[np.uint8], lut: NDArray[np.uint8] | None) -> NDArray[np.uint8]:
    """The gray picture itself (``lut`` None), or an (h, w, 3) RGB picture through ``lut``
    (from :func:`colormap_lut`)."""
    if lut is None:
        return levels
    rgb: NDArray[np.uint8] = lut[levels]
    return rgb


def png_bytes(picture: NDArray[np.uint8], level: int, threads: int = 1) -> list[bytes]:
    """The PNG file of an 8-bit gray (h, w) or RGB (h, w, 3) picture, as a list of byte
    strings to write in order.

    The image data is one zlib stream (RFC 1950) made of raw deflate pieces compressed in
    parallel, one per band of rows: every piece but the last ends with a full flush (byte
    aligned, no final block) so they concatenate into one valid stream, as pigz does; the
    Adler-32 of the whole filtered data closes it. Filter type 0 (none) on every row.
    """
    import struct
    import zlib
    from concurrent.futures import ThreadPoolExecutor

    h, w = picture.shape[:2]
    if h == 0 or w == 0:  # PNG (ISO 15948, IHDR) requires width and height >= 1
        raise ValueError(f"a PNG needs at least one row and one column, got {h} x {w}")
    channels = 1 if picture.ndim == 2 else picture.shape[2]
    raw = np.zeros((h, 1 + w * channels), dtype=np.uint8)  # column 0: the filter byte
    raw[:, 1:] = picture.reshape(h, w * channels)
    data = memoryview(raw.data).cast("B")
    stride = raw.shape[1]
    bands = max(1, min(4 * threads, h // 64))
    cuts = [h * k // bands * stride for k in range(bands + 1)]

    def piece(k: int) -> bytes:
        comp = zlib.compressobj(level, zlib.DEFLATED, -15, 9)
        last = k == bands - 1
        body = comp.compress(data[cuts[k] : cuts[k + 1]])
        return body + comp.flush(zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH)

    if threads > 1 and bands > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            pieces = list(pool.map(piece, range(bands)))
    else:
        pieces = [piece(k) for k in range(bands)]
    adler = zlib.adler32(data)

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(payload, zlib.crc32(kind))
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    idat = b"".join([b"\x78\x01", *pieces, struct.pack(">I", adler)])
    color_type = 0 if channels == 1 else 2
    ihdr = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return [b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", ihdr), chunk(b"IDAT", idat),
            chunk(b"IEND", b"")]


def write_png(picture: NDArray[np.uint8], path: str, fast: bool, threads: int = 1) -> None:
    """Writes the picture atomically (no partial file on failure): zlib level 1 with
    ``fast``, else 6."""
    parts = png_bytes(picture, 1 if fast else 6, threads)
    with atomic_output(path) as handle:
        for part in parts:
            handle.write(part)  # type: ignore[arg-type]


def run(args: argparse.Namespace) -> int:
    from hotloop._progress import ProgressBar
    from hotloop._threads import resolve_threads
    from hotloop.julia import ComplexRegion, JuliaDiv, mandelbrot, to_picture

    parser: argparse.ArgumentParser = args._parser
    try:
        region = ComplexRegion(args.xleft, args.xright, args.ybottom, args.ytop)
        shape = region.shape(args.resolution)
        julia = JuliaDiv(complex(args.real, args.imag), args.threshold,
                         (args.itermin, args.itermax), args.resolution, threads=args.threads,
                         smooth=args.smooth)
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))
    if shape[1] == 0:  # the API's empty image; a PNG needs at least one row
        parser.error(
            f"resolution: -R {args.resolution} gives this region an image of 0 rows "
            f"(ny = int(resolution * |ytop - ybottom| / |xright - xleft|) = 0): raise "
            f"-R/--resolution or the y span"
        )
    # fail before the work: a bad output path or colormap name
    check_output_path(args.output)
    lut = colormap_lut(args.cmap)
    start = time.perf_counter()
    with ProgressBar("julia", None if shape[0] * shape[1] >= PROGRESS_PIXELS else False) as bar:
        if args.mandelbrot:
            levels = to_picture(mandelbrot(region, args.threshold, (args.itermin, args.itermax),
                                           args.resolution, threads=args.threads,
                                           smooth=args.smooth, progress=bar))
        else:
            levels = julia.picture(region, progress=bar)  # one pass, no float image
    computed = time.perf_counter()
    write_png(colorize(levels, lut), args.output, args.fast,
              resolve_threads(args.threads))
    if not args.quiet:
        print(f"{args.output}: {shape[0]} x {shape[1]} pixels, computed in "
              f"{computed - start:.3f} s, written in {time.perf_counter() - computed:.3f} s",
              file=sys.stderr)
    return 0
