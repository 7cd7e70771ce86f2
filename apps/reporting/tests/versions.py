"""What the data-version tests of the ERP apps share."""

from apps.reporting.models import AREAS, versions


def assert_raised_only(before: dict[str, int], area: str) -> None:
    """The area's version went up (by the service and by each row it saved); no other did."""
    after = versions(AREAS)
    assert after[area] > before[area]
    assert {name: after[name] for name in AREAS if name != area} == {
        name: before[name] for name in AREAS if name != area
    }
