from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from storehelp import store  # type: ignore[import-not-found]  # noqa: F401
