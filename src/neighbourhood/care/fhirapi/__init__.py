"""The FHIR R4 API partners' systems use to read and write the neighbourhood care record
(ADR 25): the operational records seen through FHIR UK Core, behind SMART Backend
Services (OAuth 2.0 client credentials with signed JWT assertions)."""
