"""Load one distribution's plugins in a fresh interpreter with the network blocked; print a JSON report.

Run by :func:`neurorep.testing.check_entry_point_loads` as
``python -m neurorep.testing._probe DIST``. Every attempt to resolve a host name or to open
an internet socket is refused and recorded; the report also says how long loading took and
whether CUDA was initialised.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from dataclasses import asdict


def _block_network(attempts: list[str]) -> None:
    inet = {socket.AF_INET, socket.AF_INET6}
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self: socket.socket, address: object) -> None:
        if self.family in inet:
            attempts.append(f"connect {address!r}")
            raise OSError("network access is disabled while neurorep checks plugin imports")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        if self.family in inet:
            attempts.append(f"connect {address!r}")
            return 111  # ECONNREFUSED
        return real_connect_ex(self, address)

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        attempts.append(f"resolve {host!r}")
        raise socket.gaierror(socket.EAI_NONAME, "name resolution is disabled while neurorep checks plugin imports")

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]


def main(argv: list[str]) -> int:
    from neurorep.testing._common import normalize_distribution

    target = normalize_distribution(argv[0])
    attempts: list[str] = []
    _block_network(attempts)
    t0 = time.perf_counter()
    from neurorep.plugins import PluginSystem

    system = PluginSystem()
    elapsed = time.perf_counter() - t0
    cuda = False
    if "torch" in sys.modules:
        try:
            cuda = bool(sys.modules["torch"].cuda.is_initialized())
        except Exception:
            cuda = False
    report = {
        "elapsed_s": elapsed,
        "network": attempts,
        "cuda_initialized": cuda,
        "plugins": [p.name for p in system.plugins.values() if normalize_distribution(p.distribution) == target],
        "components": [c.id for c in system.registry if normalize_distribution(c.distribution) == target],
        "errors": [asdict(e) for e in system.errors if normalize_distribution(e.distribution) == target],
    }
    sys.stdout.write("\n" + json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
