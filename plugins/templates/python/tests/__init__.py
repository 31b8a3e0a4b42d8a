"""Native tests of the `{{name}}` plugin (`python3 -m unittest` from the project folder)."""
