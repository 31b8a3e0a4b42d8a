"""Block until the leader pod of a multi-node group is up.

Environment:
  LEADER_HOST           host name of the leader pod (its first label is the pod's name); required
  LEADER_PORT           TCP port the leader serves its peers on; required
  INITIAL_DELAY_SECONDS wait this long before the first check (default 5)
  WAIT_TIMEOUT_SECONDS  give up after this long (default 0: never)
  KUBERNETES_API_URL    the API server (default: the in-cluster address)
  SERVICE_ACCOUNT_DIR   token, CA and namespace of the pod (default: the mounted service account)

The leader is up when the API server says its pod is Running and not being deleted; the pod's
own service account asks (the graph's discovery Role allows reading pods). When the API cannot
be asked (no token, unreachable, forbidden), a TCP connection to the leader port counts instead;
the leader's DNS record may not exist yet, so its name is looked up on every attempt. Exit
status: 0 when the leader is up, 1 on timeout, 2 on bad settings.
"""

import json
import os
import socket
import ssl
import sys
import time
import urllib.error
import urllib.request

RETRY_DELAY_SECONDS = 2.0
CONNECT_TIMEOUT_SECONDS = 3.0
PROGRESS_EVERY_SECONDS = 30.0
DEFAULT_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def log(message):
    print(f"wait-for-leader: {message}", flush=True)


def number(name, default):
    text = os.environ.get(name, default).strip() or default
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} is not a number: {text!r}") from None


def settings():
    host = os.environ.get("LEADER_HOST", "").strip()
    port = os.environ.get("LEADER_PORT", "").strip()
    if not host:
        raise ValueError("LEADER_HOST is empty")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"LEADER_PORT is not a TCP port: {port!r}")
    return host, int(port), number("INITIAL_DELAY_SECONDS", "5"), number("WAIT_TIMEOUT_SECONDS", "0")


class Api:
    """Reads one pod with the pod's own service account; None when the API cannot be asked."""

    def __init__(self):
        account = os.environ.get("SERVICE_ACCOUNT_DIR", DEFAULT_ACCOUNT_DIR)
        self.url = os.environ.get("KUBERNETES_API_URL", "").strip()
        if not self.url:
            host = os.environ.get("KUBERNETES_SERVICE_HOST", "").strip()
            port = os.environ.get("KUBERNETES_SERVICE_PORT", "443").strip()
            self.url = f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
            if not host:
                self.url = ""
        self.token = read(os.path.join(account, "token"))
        self.namespace = read(os.path.join(account, "namespace"))
        ca = os.path.join(account, "ca.crt")
        self.context = ssl.create_default_context(cafile=ca) if os.path.exists(ca) else None

    def usable(self):
        return bool(self.url and self.token and self.namespace)

    def pod(self, name):
        """(pod JSON or None if it does not exist, error text if the API could not be asked)."""
        request = urllib.request.Request(
            f"{self.url}/api/v1/namespaces/{self.namespace}/pods/{name}",
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=CONNECT_TIMEOUT_SECONDS, context=self.context) as response:
                return json.load(response), ""
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None, ""
            return None, f"the API answered {err.code}"
        except (OSError, ValueError) as err:
            return None, f"the API cannot be reached: {err}"


def read(path):
    try:
        with open(path, encoding="utf-8") as file:
            return file.read().strip()
    except OSError:
        return ""


def leader_is_running(pod):
    return (
        pod is not None
        and pod.get("status", {}).get("phase") == "Running"
        and not pod.get("metadata", {}).get("deletionTimestamp")
    )


def reachable(host, port):
    """One TCP attempt: (reachable address or None, reason for failure)."""
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


def check(api, host, port):
    """(True when the leader is up, how it was decided or why not)."""
    pod_name = host.split(".", 1)[0]
    if api.usable():
        pod, error = api.pod(pod_name)
        if not error:
            if leader_is_running(pod):
                return True, f"pod {pod_name} is Running"
            phase = "missing" if pod is None else pod.get("status", {}).get("phase", "unknown")
            return False, f"pod {pod_name} is {phase}"
        fallback = f"{error}; "
    else:
        fallback = "no service account to ask the API with; "
    address, reason = reachable(host, port)
    if address is not None:
        return True, f"{fallback}{host}:{port} is reachable at {address}"
    return False, f"{fallback}{reason}"


def main():
    try:
        host, port, delay, limit = settings()
    except ValueError as err:
        log(str(err))
        return 2
    api = Api()
    log(f"waiting for the leader {host} (port {port})")
    time.sleep(max(delay, 0))
    start = time.monotonic()
    last_progress = start
    while True:
        up, why = check(api, host, port)
        now = time.monotonic()
        if up:
            log(f"leader is up after {now - start:.0f}s: {why}")
            return 0
        if limit > 0 and now - start >= limit:
            log(f"giving up after {limit:.0f}s: {why}")
            return 1
        if now - last_progress >= PROGRESS_EVERY_SECONDS:
            log(f"still waiting after {now - start:.0f}s: {why}")
            last_progress = now
        time.sleep(RETRY_DELAY_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
