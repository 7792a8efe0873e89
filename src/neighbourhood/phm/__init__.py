"""Population health management: segments, frailty, multimorbidity, cohorts, case finding."""
