"""The precompressed copies of a site file, as cargo-leptos's `--precompress` makes them: brotli
at quality 11 (the brotli CLI scripts/bootstrap installs, EXECDASH_BROTLI) and gzip at level 9.
Shared by the scripts that change a built file after cargo-leptos wrote it and its copies."""
import gzip
import os
import pathlib
import subprocess
import sys


def brotli_cli(script: str) -> str:
    """The brotli CLI, or exits naming `script` and what to do."""
    brotli = os.environ.get("EXECDASH_BROTLI")
    if not brotli:
        sys.exit(f"{script}: EXECDASH_BROTLI is not set: run scripts/bootstrap, then source its env.sh")
    return brotli


def write_with_copies(path: pathlib.Path, content: bytes, brotli: str) -> None:
    """Writes `content` to `path`, then its `.br` and `.gz` copies."""
    path.write_bytes(content)
    compressed = subprocess.run([brotli, "-c", "-q11"], input=content, check=True, capture_output=True).stdout
    path.with_name(path.name + ".br").write_bytes(compressed)
    path.with_name(path.name + ".gz").write_bytes(gzip.compress(content, compresslevel=9, mtime=0))
