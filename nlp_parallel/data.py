"""``data install``: NLTK's downloader, online or from a local mirror."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.error import URLError

import nltk.data
from nltk.downloader import Downloader

from .errors import ConfigError, NlpParallelError


def install(
    names: Sequence[str], mirror: str | None = None, directory: str | None = None
) -> Iterator[str]:
    """Install NLTK data packages, yielding a line per package installed.

    ``mirror`` is a directory holding NLTK's ``index.xml`` and the package zips
    (at the index's paths, or as ``packages/<subdir>/<id>.zip``), for machines
    without a network.  Raises :class:`ConfigError` for an unknown package or a
    mirror without an index, :class:`NlpParallelError` when the index cannot be
    reached or a download fails.
    """
    if mirror is None:
        yield from _install(names, None, directory)
        return
    index = Path(mirror).resolve() / "index.xml"
    if not index.is_file():
        raise ConfigError(f"--from: {mirror} has no index.xml; a mirror holds NLTK's "
                          f"index.xml and the package zips")
    # NLTK's sandbox refuses file:// reads outside its data roots: authorize exactly
    # the mirror the user named, for as long as the install runs.
    root = str(index.parent)
    nltk.data.path.append(root)
    try:
        yield from _install(names, index, directory)
    finally:
        nltk.data.path.remove(root)


def _install(names: Sequence[str], index: Path | None, directory: str | None) -> Iterator[str]:
    mirror = index is not None
    downloader = Downloader(server_index_url=index.as_uri() if index else None)
    for name in names:
        try:
            info = downloader.info(name)
        except ValueError:
            raise ConfigError(f"data install: {name!r} is not a package in "
                              f"{'the mirror' if mirror else 'NLTK'}'s index") from None
        except (URLError, OSError) as exc:
            raise NlpParallelError(
                f"data install: cannot reach NLTK's package index ({exc}); on a machine "
                f"without network, install from a local mirror with --from DIR"
            ) from None
        if index is not None:
            info.url = _mirrored(index.parent, info)
        target = directory or downloader.default_download_dir()
        try:
            downloader.download(info, download_dir=target, quiet=True, raise_on_error=True)
        except (ValueError, URLError, OSError) as exc:
            raise NlpParallelError(f"data install: {name}: {exc}") from None
        yield f"installed {name} into {os.path.join(target, info.subdir)}"


def _mirrored(root: Path, info: object) -> str:
    """The package's zip inside the mirror, wherever its index says it lives."""
    subdir, package = getattr(info, "subdir", ""), getattr(info, "id")
    for candidate in (root / "packages" / subdir / f"{package}.zip",
                      root / subdir / f"{package}.zip",
                      root / f"{package}.zip"):
        if candidate.is_file():
            return candidate.as_uri()
    raise ConfigError(f"--from: the mirror has no zip for {package} "
                      f"(looked for packages/{subdir}/{package}.zip)")
