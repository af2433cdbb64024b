"""Consent registry and data-subject rights (PIPL notice-and-consent, Art. 13-17, 23-25, 29, 31, 44-47).

``ws.consent`` is a :class:`ConsentRegistry`; ``ws.rights`` a :class:`omniguard.consent.rights.RightsDesk`.
"""

from omniguard.consent.checks import Decision
from omniguard.consent.registry import ConsentRegistry, Recorded

__all__ = ["ConsentRegistry", "Decision", "Recorded"]
