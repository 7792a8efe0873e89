"""Where data enters: partners' FHIR and CSV extracts, declared in a source registry,
loaded into the warehouse with every record accounted for."""
