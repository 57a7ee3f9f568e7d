"""Checksum speed of the backup verifier against `sha256sum`, on the same 1 GiB file, in one run.

    .venv/bin/python bench/backups_checksum.py [--size-mib 1024] [--rounds 3] [--dir /tmp]

Writes a file of random bytes in a temporary directory (deleted at the end, whatever happens),
then times, in alternating order so both meet the same page cache, `backups.services.sha256_file`
(the streaming checksum of the checksum verification) and the coreutils `sha256sum`. Prints MB/s of
both (best round and median), the ratio, and the peak memory of our checksum: the Python heap peak
measured by tracemalloc in an extra round, and the process's maximum resident set size, to show the
file is streamed through a 1 MiB buffer and never read into memory. Asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402

MIB = 1024 * 1024


def _write_file(path: Path, size: int) -> str:
    """Random bytes (incompressible, no sparse blocks); returns hashlib's digest for a cross-check."""
    digest = hashlib.sha256()
    block = os.urandom(4 * MIB)
    written = 0
    with open(path, "wb") as handle:
        while written < size:
            # Vary each block cheaply so the file is not one block repeated.
            chunk = written.to_bytes(8, "little") + block[8 : min(len(block), size - written)]
            handle.write(chunk)
            digest.update(chunk)
            written += len(chunk)
    return digest.hexdigest()


def _time(fn) -> tuple[float, str]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where to write the temporary file")
    args = parser.parse_args()
    if shutil.which("sha256sum") is None:
        sys.exit("sha256sum (coreutils) is not installed")

    benchlib.configure(sqlite_path="/tmp/erpc-bench-backups.sqlite3", fresh=False)
    import django

    django.setup()
    from backups.services import CHUNK_SIZE, sha256_file

    size = args.size_mib * MIB
    with tempfile.TemporaryDirectory(prefix="erpc-bench-checksum-", dir=args.dir) as tmp:
        path = Path(tmp) / "backup.bin"
        print(f"writing {args.size_mib} MiB of random bytes to {path} …", flush=True)
        expected = _write_file(path, size)

        ours, theirs = [], []
        for round_no in range(args.rounds):
            pair = [("ours", lambda: sha256_file(path)), ("sha256sum", lambda: _sha256sum(path))]
            if round_no % 2:
                pair.reverse()
            for name, fn in pair:
                seconds, digest = _time(fn)
                if digest != expected:
                    sys.exit(f"{name} computed {digest}, expected {expected}")
                (ours if name == "ours" else theirs).append(seconds)
                print(f"  round {round_no + 1}: {name:<9} {size / seconds / 1e6:8.1f} MB/s ({seconds:.2f} s)")

        # Memory, in a separate round: tracemalloc slows allocation-heavy code, so it is not timed.
        tracemalloc.start()
        sha256_file(path)
        _current, heap_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

    def mbps(seconds: float) -> float:
        return size / seconds / 1e6

    best_ours, best_theirs = min(ours), min(theirs)
    print()
    print("SUMMARY")
    print(f"  file                       {args.size_mib} MiB ({size:,} bytes), {args.rounds} rounds each")
    print(
        f"  verifier sha256_file       best {mbps(best_ours):8.1f} MB/s   median {mbps(statistics.median(ours)):8.1f} MB/s"
    )
    print(
        f"  sha256sum (coreutils)      best {mbps(best_theirs):8.1f} MB/s   median {mbps(statistics.median(theirs)):8.1f} MB/s"
    )
    print(
        f"  ratio verifier/sha256sum   {best_theirs / best_ours:.2f} (best)   {statistics.median(theirs) / statistics.median(ours):.2f} (median)"
    )
    print(f"  read buffer                {CHUNK_SIZE / MIB:.0f} MiB")
    print(f"  Python heap peak (tracemalloc) during sha256_file: {heap_peak / MIB:.2f} MiB")
    print(
        f"  process max RSS (whole bench, incl. Django): {maxrss_kib / 1024:.0f} MiB — the file is {args.size_mib} MiB"
    )
    print("  temporary file deleted")


def _sha256sum(path: Path) -> str:
    out = subprocess.run(["sha256sum", str(path)], check=True, capture_output=True, text=True).stdout
    return out.split()[0]


if __name__ == "__main__":
    main()
