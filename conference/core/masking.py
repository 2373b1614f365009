"""The one masking policy for personal data shown to people who do not need it in full."""
import re

MASK = "○"


def mask_name(name: str) -> str:
    """김민수 → 김○○; a single character stays masked too."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + MASK * max(len(name) - 1, 1)


def mask_phone(phone: str) -> str:
    """010-2345-6789 → 010-****-6789: keep the area prefix and the last four digits."""
    digits = re.sub(r"\D", "", phone or "")
    if not digits:
        return ""
    if len(digits) <= 4:
        return "*" * len(digits)
    return f"{digits[:3]}-****-{digits[-4:]}"


def mask_address(address: str, district: str) -> str:
    """Only the 행정동 is shown."""
    return district or ""
