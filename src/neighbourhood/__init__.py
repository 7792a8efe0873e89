"""neighbourhood: population health, case finding and care coordination for
integrated neighbourhood teams (INTs).

Where data enters: ``synth`` (synthetic partners' extracts) and, later, ``ingest``.
Where it is linked: ``linkage``. Where it is scored: ``phm``. Where a person sees
it: ``care`` (the Django web application).
"""

__version__ = "0.1.0"
