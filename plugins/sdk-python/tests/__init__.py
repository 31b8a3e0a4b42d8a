"""Unit tests of the Python plugin SDK (`python3 -m unittest` from `plugins/sdk-python`)."""
