"""A synthetic integrated care system, written as its partners would send it.

No real patient data is ever in this repository: linkage, risk stratification,
case finding, capacity modelling and evaluation are all developed and measured
on what this package writes. Public surface: :func:`run_synth` and its options.
"""

from neighbourhood.synth.options import DefectRates, SynthOptions
from neighbourhood.synth.run import run_synth
from neighbourhood.synth.world import SynthSummary

__all__ = ["DefectRates", "SynthOptions", "SynthSummary", "run_synth"]
