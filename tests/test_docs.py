"""The documentation site is wired: every nav page exists, every page is in the nav, every relative
link of ``docs/`` and ``README.md`` reaches a file (and a heading, for ``#anchor`` links), and, where
MkDocs is installed (the ``docs`` extra), ``mkdocs build --strict`` succeeds.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CONFIG = ROOT / "mkdocs.yml"

FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


class _ConfigLoader(yaml.SafeLoader):
    """Reads mkdocs.yml, whose MkDocs-specific tags (``!relative``, ``!ENV``) do not matter here."""


_ConfigLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def load_mkdocs_config() -> dict:
    return yaml.load(CONFIG.read_text(encoding="utf-8"), Loader=_ConfigLoader)


def nav_pages(entries: list) -> list[str]:
    """The page paths named by an mkdocs ``nav`` list, in order (external links left out)."""
    pages: list[str] = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(value, list):
            pages.extend(nav_pages(value))
        elif not EXTERNAL.match(value):
            pages.append(value)
    return pages


def strip_code(text: str) -> str:
    return INLINE_CODE.sub("", FENCE.sub("", text))


def slugify(title: str) -> str:
    """Python-Markdown's toc slug of a heading (the anchor MkDocs gives it)."""
    title = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", title)
    title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    title = re.sub(r"[^\w\s-]", "", title).strip().lower()
    return re.sub(r"[-\s]+", "-", title)


def anchors(path: Path) -> set[str]:
    """The heading anchors of a page (a repeated heading gets ``_1``, ``_2``, ... as in MkDocs)."""
    seen: dict[str, int] = {}
    found = set()
    for title in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        slug = slugify(title)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}_{count}")
    return found


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    problems = []
    for target in LINK.findall(strip_code(page.read_text(encoding="utf-8"))):
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        if not dest.exists():
            problems.append(f"{page.relative_to(root)}: {target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            problems.append(f"{page.relative_to(root)}: {target} (no heading with that anchor)")
    return problems


SNIPPET = re.compile(r'^--8<--\s+"([^":]+)(?::[0-9:]*)?"\s*$', re.M)


def missing_snippets(page: Path) -> list[str]:
    """Files a page includes with ``--8<-- "path"`` (paths from the repository root) that do not exist."""
    return [f"{page.relative_to(ROOT)}: includes {path} (no such file)"
            for path in SNIPPET.findall(page.read_text(encoding="utf-8")) if not (ROOT / path).is_file()]


def markdown_pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def test_every_nav_page_exists() -> None:
    config = load_mkdocs_config()
    missing = [page for page in nav_pages(config["nav"]) if not (DOCS / page).is_file()]
    assert not missing, f"mkdocs.yml nav names pages that do not exist under docs/: {missing}"


def test_every_page_is_in_the_nav() -> None:
    config = load_mkdocs_config()
    listed = set(nav_pages(config["nav"]))
    omitted = [str(p.relative_to(DOCS)) for p in markdown_pages() if str(p.relative_to(DOCS)) not in listed]
    assert not omitted, f"pages under docs/ missing from the nav of mkdocs.yml: {omitted}"


def test_relative_links_resolve() -> None:
    problems = [problem for page in [ROOT / "README.md", *markdown_pages()] for problem in broken_links(page)]
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_included_files_exist() -> None:
    problems = [problem for page in markdown_pages() for problem in missing_snippets(page)]
    assert not problems, "\n".join(problems)


def test_link_checker_finds_broken_links(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# A heading\n\ntext\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[ok](other.md) [ok](other.md#a-heading) [ok](#page) [web](https://example.org/x.md)\n"
        "`[code](nowhere.md)`\n\n```\n[fenced](nowhere.md)\n```\n"
        "[bad](missing.md) [bad](other.md#no-such-heading) ![bad](img/none.png)\n"
    )
    problems = broken_links(page, root=tmp_path)
    assert [p.split(": ", 1)[1].split(" (")[0] for p in problems] == [
        "missing.md", "other.md#no-such-heading", "img/none.png"]


def test_slugs_follow_markdown_toc() -> None:
    assert slugify("Ranking fidelity: priors and supernets side by side") == (
        "ranking-fidelity-priors-and-supernets-side-by-side")
    assert slugify("The `mbv2` family (224 px)") == "the-mbv2-family-224-px"
    assert slugify("Kendall τ, Pearson") == "kendall-pearson"
    assert slugify("`ofa_ps`") == "ofa_ps"


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason="the docs extra (mkdocs) is not installed: pip install -e '.[docs]'")
    pytest.importorskip("material", reason="the docs extra (mkdocs-material) is not installed")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(CONFIG),
         "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "index.html").is_file()
