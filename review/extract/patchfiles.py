"""What one patch's C files give the extraction: each file's images and where its
pre-image came from, the functions the patch touches (in both images where a whole
image shows them), and per image the definitions and one-call macros that inlining
may use.

    read_patch_files(patch, base, series) -> PatchFiles
    PatchFiles.in_both_images() -> [Found]
    PatchFiles.helper_finder(side) -> name -> CFunction | None
    PatchFiles.advance(series)              the series' files as this patch leaves them
"""
from __future__ import annotations

from dataclasses import dataclass, field

from review.extract.apply import LineMap
from review.extract.cparse import CFunction
from review.extract.definitions import Definitions
from review.extract.images import FileImages, file_images, is_c_file
from review.extract.sources import Base, FileSource, SeriesFiles
from review.model import Patch


@dataclass
class Found:
    """A touched function in one image, and the lines of what it was read from."""
    fn: CFunction
    file: str
    image: str
    source: str          # "git" | "tree" | "repo" | "hunks"
    lines: LineMap


@dataclass
class PatchFiles:
    images: dict[str, FileImages] = field(default_factory=dict)
    found: list[Found] = field(default_factory=list)
    helpers: dict[str, dict[str, CFunction]] = field(default_factory=lambda: {"pre": {}, "post": {}})
    aliases: dict[str, dict[str, str]] = field(default_factory=lambda: {"pre": {}, "post": {}})
    sources: list[FileSource] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)     # not C, or binary
    warnings: list[str] = field(default_factory=list)
    definitions: Definitions | None = None
    series: SeriesFiles = field(default_factory=SeriesFiles)

    def in_both_images(self) -> list[Found]:
        """The touched functions, and each one's definition in the other image where a
        whole image shows it (a change on one side is a change of both)."""
        names = []
        for f in self.found:
            if f.source != "hunks" and (f.file, f.fn.name) not in names:
                names.append((f.file, f.fn.name))
        full = list(self.found)
        for file, name in names:
            img = self.images[file]
            for side in ("pre", "post"):
                if not any(x.file == file and x.fn.name == name and x.image == side for x in full):
                    fn = next((g for g in img.functions(side) if g.name == name), None)
                    if fn is not None:
                        full.append(Found(fn, file, side, img.source, img.lines(side)))
        return full

    def helper_finder(self, side: str):
        """name -> the definition inlining uses in `side`: the patch's own files first,
        then the base (its files as the series left them, and for the post image as
        this patch leaves them), through up to three one-call macros."""
        local = self.helpers[side]
        aliases = self.aliases[side]
        overrides = dict(self.series.texts)
        if side == "post":
            for path, img in self.images.items():
                if img.post is not None:
                    overrides[path] = img.post
        definitions = self.definitions

        def find(name: str, hops: int = 0) -> CFunction | None:
            fn = local.get(name) or (definitions.find(name, overrides) if definitions else None)
            if fn is None and hops < 3:
                target = aliases.get(name) or (definitions.alias(name, overrides) if definitions else None)
                if target and target != name:
                    return find(target, hops + 1)
            return fn
        return find

    def advance(self) -> None:
        """The series' files as this patch leaves them (its whole post-images)."""
        for img in self.images.values():
            if img.source != "hunks" and img.origin is not None:
                self.series.advance(img.diff, img.post, img.origin, "tree" if img.source == "tree" else "repo")


def read_patch_files(patch: Patch, base: Base, series: SeriesFiles) -> PatchFiles:
    """The images of every C file of the patch and what each side gives; the files
    that are not C (or are binary) are listed as skipped, unreadable images warned of."""
    out = PatchFiles(definitions=base.definitions(patch), series=series)
    for fd in patch.files:
        if fd.is_binary or not is_c_file(fd.path):
            out.skipped.append(fd.path)
            continue
        try:
            img = file_images(fd, patch, base, series)
        except Exception as exc:  # a damaged image must not hide the other files
            out.warnings.append(f"{fd.path}: could not read its images: {type(exc).__name__}: {exc}")
            continue
        out.images[fd.path] = img
        if img.origin is not None:
            out.sources.append(img.origin)
        out.warnings += img.warnings
        for side in ("pre", "post"):
            out.aliases[side].update(img.aliases(side))
            changed = img.changed_functions(side)
            for f in changed.helpers:
                out.helpers[side].setdefault(f.name, f)
            out.warnings += changed.warnings
            mail = LineMap(side, None, fd.hunks)
            out.found += [Found(f, fd.path, side, "hunks", mail) for f in changed.from_hunks]
            out.found += [Found(f, fd.path, side, img.source, img.lines(side)) for f in changed.touched]
    return out
