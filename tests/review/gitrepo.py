"""Build small git repositories in a temporary directory for tests and benchmarks.

Plain `git` through subprocess with a fixed identity and dates, so commit ids are
stable across runs; nothing of the user's git configuration leaks in.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

_ENV = {
    "GIT_AUTHOR_NAME": "Ada Reviewer", "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada Reviewer", "GIT_COMMITTER_EMAIL": "ada@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": os.devnull,
}

FROB_C = """\
// Synthetic kernel-style code written for mmreview tests.
#include <linux/mm.h>

static bool frob_can_reuse(struct folio *folio)
{
\tif (folio_test_ksm(folio))
\t\treturn false;
\tif (folio_ref_count(folio) > 1)
\t\treturn false;
\treturn true;
}

int frob_wp_fault(struct vm_fault *vmf)
{
\tstruct folio *folio = page_folio(vmf->page);

\tif (frob_can_reuse(folio)) {
\t\tfrob_reuse(vmf);
\t\treturn 0;
\t}
\treturn frob_copy(vmf);
}
"""


class GitRepo:
    def __init__(self, path: Path, *, bare_copy: bool = False):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._tick = 0
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, input: str | None = None) -> str:
        self._tick += 1
        env = dict(os.environ, **_ENV)
        stamp = f"{1767600000 + self._tick * 60} +0000"
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = stamp
        out = subprocess.run(["git", *args], cwd=self.path, env=env, check=True,
                             capture_output=True, text=True, input=input)
        return out.stdout.strip()

    def write(self, rel: str, text: str | bytes) -> None:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text)

    def commit(self, message: str, files: dict[str, str | bytes | None] | None = None) -> str:
        for rel, text in (files or {}).items():
            if text is None:
                self.git("rm", "-q", rel)
            else:
                self.write(rel, text)
                self.git("add", rel)
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def state(self) -> tuple[str, str, str]:
        """Refs, index and HEAD: what a read-only reader must leave untouched."""
        index = self.path / ".git" / "index"
        return (self.git("for-each-ref"), index.read_bytes().hex() if index.exists() else "",
                self.git("rev-parse", "HEAD"))


def frob_repo(path: Path) -> tuple[GitRepo, dict[str, str]]:
    """A repository with: base, a modification, a rename with an edit, a side branch
    merged back (a merge commit), and a binary file. Returns (repo, name -> sha)."""
    r = GitRepo(path)
    shas = {}
    shas["base"] = r.commit("mm/frob: add frob", {"mm/frob.c": FROB_C,
                                                  "include/linux/frob.h": "int frob_wp_fault(struct vm_fault *vmf);\n"})
    shas["exclusive"] = r.commit(
        "mm/frob: reuse exclusive anonymous pages\n\nTrust PG_anon_exclusive.\n\n"
        "Reviewed-by: Bo Checker <bo@example.net>\nSigned-off-by: Ada Reviewer <ada@example.org>\n",
        {"mm/frob.c": FROB_C.replace("\tif (folio_ref_count(folio) > 1)",
                                     "\tif (PageAnonExclusive(&folio->page))\n\t\treturn true;\n"
                                     "\tif (folio_ref_count(folio) > 1)")})
    text = (r.path / "mm/frob.c").read_text().replace("int frob_wp_fault", "int frob_handle_wp_fault")
    r.git("mv", "mm/frob.c", "mm/frob_core.c")
    shas["rename"] = r.commit("mm/frob: rename frob.c to frob_core.c\n\nSigned-off-by: Ada Reviewer <ada@example.org>\n",
                              {"mm/frob_core.c": text})
    r.git("checkout", "-q", "-b", "side")
    shas["side"] = r.commit("mm/frob: document the header", {"include/linux/frob.h":
                            "/* frob: synthetic */\nint frob_wp_fault(struct vm_fault *vmf);\n"})
    r.git("checkout", "-q", "main")
    shas["binary"] = r.commit("mm/frob: add a binary blob", {"mm/frob.bin": bytes(range(256))})
    r.git("merge", "-q", "--no-ff", "-m", "Merge branch 'side'", "side")
    shas["merge"] = r.head()
    shas["after"] = r.commit("mm/frob: drop the blob", {"mm/frob.bin": None})
    return r, shas
