"""Tests of the Python `tgi` plugin; puts the SDK (`plugins/sdk-python`) on `sys.path` when needed."""

import os
import sys

try:
    import dynamo_plugin  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "sdk-python"))
