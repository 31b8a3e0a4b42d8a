"""Command-line flags: detection, quoting, args and `sh -c` scripts."""

import unittest

from dynamo_plugin import flags


class Quote(unittest.TestCase):
    def test_safe_words_stay_bare(self):
        for word in ["8080", "--port", "Qwen/Qwen2.5-7B", "a=b", "x@y%z+w,v:u", "_.-"]:
            self.assertEqual(flags.shell_quote(word), word)

    def test_other_words_are_single_quoted(self):
        self.assertEqual(flags.shell_quote("my model"), "'my model'")
        self.assertEqual(flags.shell_quote("$(HOME)"), "'$(HOME)'")
        self.assertEqual(flags.shell_quote("it's"), "'it'\"'\"'s'")
        self.assertEqual(flags.shell_quote(""), "''")
        self.assertEqual(flags.shell_quote("é"), "'é'")


class Detect(unittest.TestCase):
    def test_has_flag(self):
        self.assertTrue(flags.has_flag(["x", "--port", "1"], "--port"))
        self.assertTrue(flags.has_flag(["--port=1"], "--port"))
        self.assertFalse(flags.has_flag(["--ports", "1"], "--port"))
        self.assertFalse(flags.has_flag(["sh", "-c", "x --port 1"], "--port"))

    def test_argv(self):
        self.assertEqual(flags.argv({"command": ["a"], "args": ["b"]}), ["a", "b"])
        self.assertEqual(flags.argv({"command": None}), [])
        self.assertEqual(flags.argv(None), [])

    def test_shell_script_index(self):
        self.assertEqual(flags.shell_script_index(["sh", "-c", "s"]), 2)
        self.assertEqual(flags.shell_script_index(["/bin/bash", "-c", "s"]), 2)
        self.assertEqual(flags.shell_script_index(["/usr/bin/sh", "-c", "s", "arg0"]), 3)
        self.assertIsNone(flags.shell_script_index(["sh", "-c"]))
        self.assertIsNone(flags.shell_script_index(["sh", "script.sh"]))
        self.assertIsNone(flags.shell_script_index(["zsh", "-c", "s"]))
        self.assertIsNone(flags.shell_script_index(["bash", "-lc", "s"]))
        self.assertIsNone(flags.shell_script_index(["python3", "-c", "s"]))


class Append(unittest.TestCase):
    def test_args_are_created_and_extended(self):
        c = {"name": "main"}
        self.assertEqual(flags.append_words(c, ["--a", 1]), "args")
        self.assertEqual(c["args"], ["--a", "1"])
        c = {"args": None}
        flags.append_words(c, ["--b"])
        self.assertEqual(c["args"], ["--b"])
        self.assertEqual(flags.append_words(c, []), "unchanged")

    def test_script_in_args_or_command(self):
        c = {"command": ["sh", "-c"], "args": ["run"]}
        self.assertEqual(flags.append_words(c, ["--name", "a b", "it's"]), "script")
        self.assertEqual(c["args"], ["run --name 'a b' 'it'\"'\"'s'"])
        c = {"command": ["bash", "-c", "run"], "args": []}
        flags.append_words(c, ["--x"])
        self.assertEqual(c, {"command": ["bash", "-c", "run --x"], "args": []})

    def test_add_flag_only_when_absent(self):
        c = {"command": ["engine"], "args": ["--port=1"]}
        self.assertFalse(flags.add_flag(c, "--port", 2))
        self.assertTrue(flags.add_flag(c, "--shards", 2))
        self.assertTrue(flags.add_flag(c, "--verbose"))
        self.assertEqual(c["args"], ["--port=1", "--shards", "2", "--verbose"])


if __name__ == "__main__":
    unittest.main()
