"""The ``hnas`` parser loads no heavy library, and its logging survives Paddle's root handler."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: Libraries a command may import inside ``run`` but never while the parser is built.
HEAVY = ("paddle", "scipy", "matplotlib")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "statement",
    [
        "import hnas.cli; hnas.cli.build_parser()",
        "import hnas.search_spaces, hnas.io.archs, hnas.proxies, hnas.proxies.flops, hnas.evaluation.request",
    ],
)
def test_light_imports_load_no_heavy_library(statement: str) -> None:
    result = _python(f"""
        import sys
        {statement}
        print(",".join(name for name in {HEAVY!r} if name in sys.modules))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("paddle_first", [True, False])
def test_log_format_applies_whether_paddle_is_imported_before_or_after(tmp_path: Path, paddle_first: bool) -> None:
    archs = tmp_path / "archs.json"
    result = _python(f"""
        import logging
        {"import paddle" if paddle_first else ""}
        from hnas.cli import main
        assert main(["sample-archs", "--n", "2", "--out", {str(archs)!r}]) == 0
        import paddle
        logging.getLogger("hnas.probe").info("after paddle")
        assert len(logging.getLogger().handlers) == 1
    """)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert any(line.endswith(" INFO hnas.probe: after paddle") for line in lines), result.stderr
    if not paddle_first:  # main's filter is in place before Paddle is imported
        assert "No ccache found" not in result.stderr
