"""Block until the leader of a multi-node group accepts TCP connections.

Environment:
  LEADER_HOST           host name (or address) of the leader pod; required
  LEADER_PORT           TCP port to reach on the leader; required
  WAIT_TIMEOUT_SECONDS  give up after this long (default 3600; 0 waits forever)

The leader's DNS record may not exist yet when this runs, so the name is looked
up again on every attempt; each resolved address is then tried with a short
connect timeout. Exit status: 0 when the leader is reachable, 1 on timeout,
2 on bad settings.
"""

import os
import socket
import sys
import time

RETRY_DELAY_SECONDS = 2.0
CONNECT_TIMEOUT_SECONDS = 3.0
PROGRESS_EVERY_SECONDS = 30.0


def log(message):
    print(f"wait-for-leader: {message}", flush=True)


def settings():
    host = os.environ.get("LEADER_HOST", "").strip()
    port = os.environ.get("LEADER_PORT", "").strip()
    limit = os.environ.get("WAIT_TIMEOUT_SECONDS", "3600").strip() or "0"
    if not host:
        raise ValueError("LEADER_HOST is empty")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"LEADER_PORT is not a TCP port: {port!r}")
    try:
        limit_seconds = float(limit)
    except ValueError:
        raise ValueError(f"WAIT_TIMEOUT_SECONDS is not a number: {limit!r}") from None
    return host, int(port), limit_seconds


def try_once(host, port):
    """One attempt: returns (reachable address or None, reason for failure)."""
    try:
        candidates = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        return None, f"cannot resolve {host}: {err}"
    reason = f"{host} resolved to no address"
    for family, kind, proto, _, address in candidates:
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(CONNECT_TIMEOUT_SECONDS)
                sock.connect(address)
            return address[0], ""
        except OSError as err:
            reason = f"cannot connect to {address[0]}:{port}: {err}"
    return None, reason


def main():
    try:
        host, port, limit = settings()
    except ValueError as err:
        log(str(err))
        return 2
    log(f"waiting for {host}:{port}")
    start = time.monotonic()
    last_progress = start
    while True:
        address, reason = try_once(host, port)
        now = time.monotonic()
        if address is not None:
            log(f"{host}:{port} is reachable at {address} after {now - start:.0f}s")
            return 0
        if limit > 0 and now - start >= limit:
            log(f"giving up after {limit:.0f}s: {reason}")
            return 1
        if now - last_progress >= PROGRESS_EVERY_SECONDS:
            log(f"still waiting after {now - start:.0f}s: {reason}")
            last_progress = now
        time.sleep(RETRY_DELAY_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
