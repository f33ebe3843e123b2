"""Write .env with fresh random development keys, once (make run calls it). Never overwrites."""

from __future__ import annotations

import base64
import secrets
import sys
from pathlib import Path


def key() -> str:
    """A fresh random 32-byte key, base64 (PII_KEYS, BLIND_INDEX_KEY, AUDIT_HMAC_KEY)."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else ".env")
    if path.exists():
        return 0

    path.write_text(
        "\n".join(
            [
                "# Development settings written by `make run`. Not for production.",
                "DEBUG=1",
                f"SECRET_KEY={secrets.token_urlsafe(50)}",
                f"PII_KEYS=k{secrets.token_hex(3)}:{key()}",
                f"BLIND_INDEX_KEY={key()}",
                f"AUDIT_HMAC_KEY={key()}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    path.chmod(0o600)
    print(f"Wrote {path} with fresh development keys.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
