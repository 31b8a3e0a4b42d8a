"""The stdlib mirror matches componentize-py's generated bindings, and the SDK runs on both.

Generates the bindings of `wit/dynamo-backend@0.3.0` with `componentize-py` (found on `PATH` or in
the repository's tools cache, `hack/build-tools.sh`); skipped when it is not installed.
"""

import dataclasses
import enum
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import typing
import unittest

from dynamo_plugin import _fallback

SDK = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WIT = os.path.join(SDK, "..", "..", "wit", "dynamo-backend@0.3.0")
NESTED = "DYNAMO_PLUGIN_SDK_UNDER_BINDINGS"


def componentize_py():
    found = shutil.which("componentize-py")
    if found:
        return found
    cache = os.environ.get("DYNAMO_TOOLS_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "dynamo-operator", "tools"
    )
    path = os.path.join(cache, "bin", "componentize-py")
    return path if os.access(path, os.X_OK) else None


@unittest.skipIf(os.environ.get(NESTED), "already running under the generated bindings")
@unittest.skipIf(sys.version_info < (3, 11), "the generated bindings need Python >= 3.11")
@unittest.skipUnless(os.path.isdir(WIT), "the WIT folder is not beside the SDK")
@unittest.skipUnless(componentize_py(), "componentize-py is not installed (hack/build-tools.sh)")
class Bindings(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="dynamo-plugin-bindings-")
        subprocess.run([componentize_py(), "-d", WIT, "-w", "plugin", "bindings", cls.dir], check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_the_mirror_matches_the_generated_types(self):
        sys.path.insert(0, self.dir)
        try:
            generated = importlib.import_module("wit_world.imports.types")
            runtime = importlib.import_module("componentize_py_types")
        finally:
            sys.path.remove(self.dir)
        names = [n for n, v in vars(generated).items() if isinstance(v, type) and v.__module__ == generated.__name__]
        names += [n for n, v in vars(generated).items() if typing.get_origin(v) is typing.Union]
        self.assertGreater(len(names), 20)
        for name in names:
            ours, theirs = getattr(_fallback, name, None), getattr(generated, name)
            self.assertIsNotNone(ours, f"{name} is missing from the mirror")
            if isinstance(theirs, type) and issubclass(theirs, enum.Enum):
                self.assertEqual([(m.name, m.value) for m in ours], [(m.name, m.value) for m in theirs], name)
            elif dataclasses.is_dataclass(theirs):
                self.assertEqual([f.name for f in dataclasses.fields(ours)], [f.name for f in dataclasses.fields(theirs)], name)
            else:
                self.assertEqual(
                    [a.__name__ for a in typing.get_args(ours)], [a.__name__ for a in typing.get_args(theirs)], name
                )
        for name in ("Err", "Ok", "Some"):
            self.assertEqual(
                [f.name for f in dataclasses.fields(getattr(_fallback, name))],
                [f.name for f in dataclasses.fields(getattr(runtime, name))],
            )

    def test_the_sdk_suite_passes_under_the_generated_bindings(self):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([self.dir, SDK]), **{NESTED: "1"})
        probe = "import dynamo_plugin.wit as w; assert w.BINDINGS and w.WitWorldProtocol is not None"
        subprocess.run([sys.executable, "-c", probe], check=True, env=env, cwd=SDK)
        run = subprocess.run(
            [sys.executable, "-m", "unittest", "discover", "-s", "tests", "-t", "."],
            env=env,
            cwd=SDK,
            capture_output=True,
            text=True,
        )
        self.assertEqual(run.returncode, 0, run.stderr[-4000:])


if __name__ == "__main__":
    unittest.main()
