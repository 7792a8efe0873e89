"""Clinical and demographic reference data the synthetic population is drawn from.

Every SNOMED CT concept carries its provenance; tests check each identifier's
Verhoeff check digit. Prevalences are rough all-age figures for England (QOF
registers 2022/23, scaled to all ages); coefficients are log-odds per decade of
age above 50, for the most against the least deprived decile, and per standard
deviation of a shared latent ill-health score (which is what makes conditions
cluster into multimorbidity).
"""

from __future__ import annotations

from dataclasses import dataclass

SNOMED_UK = "SNOMED CT UK Edition"
QOF = "QOF register concept (SNOMED CT UK Edition)"
EFI = "electronic Frailty Index deficit (Clegg et al., Age Ageing 2016), SNOMED CT UK Edition"


@dataclass(frozen=True)
class Condition:
    key: str
    code: str
    display: str
    prevalence: float
    min_age: int
    age_slope: float
    deprivation: float
    latent: float
    long_term: bool
    provenance: str = QOF


CONDITIONS: tuple[Condition, ...] = (
    Condition("hypertension", "59621000", "Essential hypertension", 0.14, 18, 0.75, 0.3, 0.6, True),
    Condition(
        "diabetes_t2", "44054006", "Type 2 diabetes mellitus", 0.07, 18, 0.55, 0.7, 0.6, True
    ),
    Condition("diabetes_t1", "46635009", "Type 1 diabetes mellitus", 0.005, 0, 0.0, 0.0, 0.2, True),
    Condition("asthma", "195967001", "Asthma", 0.065, 2, -0.05, 0.3, 0.4, True),
    Condition(
        "copd", "13645005", "Chronic obstructive lung disease", 0.019, 35, 0.7, 1.1, 0.7, True
    ),
    Condition("chd", "414545008", "Ischaemic heart disease", 0.03, 30, 0.8, 0.6, 0.7, True),
    Condition("heart_failure", "84114007", "Heart failure", 0.011, 30, 0.95, 0.5, 0.8, True),
    Condition(
        "atrial_fibrillation", "49436004", "Atrial fibrillation", 0.021, 30, 1.0, 0.1, 0.6, True
    ),
    Condition("ckd", "709044004", "Chronic kidney disease", 0.04, 18, 0.95, 0.3, 0.7, True),
    Condition("stroke", "230690007", "Cerebrovascular accident", 0.018, 30, 0.85, 0.5, 0.7, True),
    Condition(
        "cancer", "363346000", "Malignant neoplastic disease", 0.034, 18, 0.7, 0.2, 0.5, True
    ),
    Condition("dementia", "52448006", "Dementia", 0.007, 40, 1.6, 0.3, 0.7, True),
    Condition("depression", "35489007", "Depressive disorder", 0.12, 18, 0.05, 0.6, 0.6, True),
    Condition("anxiety", "197480006", "Anxiety disorder", 0.08, 12, -0.05, 0.4, 0.5, False),
    Condition("schizophrenia", "58214004", "Schizophrenia", 0.006, 16, 0.0, 1.0, 0.6, True),
    Condition("bipolar", "13746004", "Bipolar disorder", 0.004, 16, 0.0, 0.5, 0.5, True),
    Condition("epilepsy", "84757009", "Epilepsy", 0.008, 0, 0.0, 0.5, 0.5, True),
    Condition(
        "learning_disability",
        "110359009",
        "Intellectual disability",
        0.006,
        0,
        -0.1,
        0.4,
        0.3,
        True,
    ),
    Condition("osteoarthritis", "396275006", "Osteoarthritis", 0.09, 30, 0.8, 0.4, 0.5, True),
    Condition(
        "rheumatoid_arthritis", "69896004", "Rheumatoid arthritis", 0.008, 18, 0.4, 0.3, 0.5, True
    ),
    Condition("osteoporosis", "64859006", "Osteoporosis", 0.02, 40, 1.0, 0.2, 0.5, True),
    Condition("parkinsons", "49049000", "Parkinson's disease", 0.003, 40, 1.2, 0.0, 0.4, True),
    Condition(
        "multiple_sclerosis", "24700007", "Multiple sclerosis", 0.002, 18, 0.1, 0.0, 0.3, True
    ),
    Condition("liver_disease", "328383001", "Chronic liver disease", 0.01, 18, 0.3, 0.9, 0.6, True),
)
CONDITION_INDEX = {c.key: i for i, c in enumerate(CONDITIONS)}
SEVERE_MENTAL_ILLNESS = ("schizophrenia", "bipolar")


@dataclass(frozen=True)
class Concept:
    code: str
    display: str
    provenance: str = SNOMED_UK


# Frailty deficits recorded in general practice: coefficient on the shared latent
# score and the share of people aged 75 with the deficit.
FRAILTY_DEFICITS: tuple[tuple[Concept, float], ...] = (
    (Concept("161898004", "Falls", EFI), 0.22),
    (Concept("165232002", "Urinary incontinence", EFI), 0.15),
    (Concept("15188001", "Hearing loss", EFI), 0.25),
    (Concept("397540003", "Visual impairment", EFI), 0.12),
    (Concept("228158008", "Walking disability", EFI), 0.18),
    (Concept("386807006", "Memory impairment", EFI), 0.10),
    (Concept("160689007", "Housebound", EFI), 0.07),
    (Concept("105529008", "Lives alone", EFI), 0.30),
    (Concept("5913000", "Fracture of neck of femur", EFI), 0.03),
    (Concept("400047006", "Peripheral vascular disease", EFI), 0.06),
    (Concept("404640003", "Dizziness", EFI), 0.12),
    (Concept("267036007", "Dyspnoea", EFI), 0.14),
    (Concept("89362005", "Weight loss", EFI), 0.06),
)
EFI_DEFICIT_COUNT = 36
FRAILTY_CODES = {
    "mild": Concept("925791000000100", "Mild frailty", EFI),
    "moderate": Concept("925831000000107", "Moderate frailty", EFI),
    "severe": Concept("925861000000102", "Severe frailty", EFI),
}
FRAILTY_LEVELS = ("fit", "mild", "moderate", "severe")

PALLIATIVE_CARE = Concept("103735009", "Palliative care")
CARER = Concept("224484003", "Patient themselves providing care")

# Encounters and activities.
GP_CONSULTATION = Concept("11429006", "Consultation")
TELEPHONE_CONSULTATION = Concept("185317003", "Telephone encounter")
HOME_VISIT = Concept("439708006", "Home visit")
ED_ATTENDANCE = Concept("4525004", "Emergency department patient visit")
EMERGENCY_ADMISSION = Concept("183452005", "Emergency hospital admission")
ELECTIVE_ADMISSION = Concept("8715000", "Elective admission")
WOUND_CARE = Concept("225358003", "Wound care")
PHYSIOTHERAPY = Concept("91251008", "Physical therapy procedure")
OCCUPATIONAL_THERAPY = Concept("84478008", "Occupational therapy")
PSYCHOTHERAPY = Concept("75516001", "Psychotherapy")
NEEDS_ASSESSMENT = Concept("710824005", "Assessment of health and social care needs")
SOCIAL_PRESCRIBING = Concept("871731000000106", "Referral to social prescribing service")

# Observations.
BMI = Concept("60621009", "Body mass index")
SYSTOLIC_BP = Concept("271649006", "Systolic blood pressure")
CHOLESTEROL = Concept("77068002", "Cholesterol measurement")
SMOKING_STATUS = {
    "current": Concept("77176002", "Smoker"),
    "ex": Concept("8517006", "Ex-smoker"),
    "never": Concept("266919005", "Never smoked tobacco"),
}


# Ethnic groups: ONS 2021 census categories (England), with the NHS Data
# Dictionary ethnic category code used by FHIR UK Core and most NHS systems.
# Weights: a blend of England and London 2021 census shares, in per cent.
@dataclass(frozen=True)
class Ethnicity:
    key: str
    label: str
    group: str
    nhs_code: str
    share: float
    name_locales: tuple[str, ...]


ETHNICITIES: tuple[Ethnicity, ...] = (
    Ethnicity(
        "white_british",
        "White: English, Welsh, Scottish, Northern Irish or British",
        "White",
        "A",
        55.2,
        ("en_GB",),
    ),
    Ethnicity("white_irish", "White: Irish", "White", "B", 1.3, ("en_IE",)),
    Ethnicity(
        "white_gypsy_traveller",
        "White: Gypsy or Irish Traveller",
        "White",
        "C",
        0.1,
        ("en_IE", "en_GB"),
    ),
    Ethnicity("white_roma", "White: Roma", "White", "C", 0.3, ("ro_RO",)),
    Ethnicity(
        "white_other",
        "White: Other White",
        "White",
        "C",
        10.5,
        ("it_IT", "pt_PT", "ro_RO", "tr_TR"),
    ),
    Ethnicity(
        "mixed_white_black_caribbean",
        "Mixed or Multiple: White and Black Caribbean",
        "Mixed or Multiple",
        "D",
        1.2,
        ("en_GB",),
    ),
    Ethnicity(
        "mixed_white_black_african",
        "Mixed or Multiple: White and Black African",
        "Mixed or Multiple",
        "E",
        0.6,
        ("en_GB", "yo_NG"),
    ),
    Ethnicity(
        "mixed_white_asian",
        "Mixed or Multiple: White and Asian",
        "Mixed or Multiple",
        "F",
        1.0,
        ("en_GB", "en_IN"),
    ),
    Ethnicity(
        "mixed_other",
        "Mixed or Multiple: Other Mixed or Multiple",
        "Mixed or Multiple",
        "G",
        1.3,
        ("en_GB",),
    ),
    Ethnicity(
        "asian_indian",
        "Asian or Asian British: Indian",
        "Asian or Asian British",
        "H",
        5.4,
        ("en_IN",),
    ),
    Ethnicity(
        "asian_pakistani",
        "Asian or Asian British: Pakistani",
        "Asian or Asian British",
        "J",
        3.0,
        ("en_PK",),
    ),
    Ethnicity(
        "asian_bangladeshi",
        "Asian or Asian British: Bangladeshi",
        "Asian or Asian British",
        "K",
        2.4,
        ("en_PK",),
    ),
    Ethnicity(
        "asian_chinese",
        "Asian or Asian British: Chinese",
        "Asian or Asian British",
        "R",
        1.2,
        ("zh_CN",),
    ),
    Ethnicity(
        "asian_other",
        "Asian or Asian British: Other Asian",
        "Asian or Asian British",
        "L",
        3.1,
        ("en_IN", "vi_VN"),
    ),
    Ethnicity(
        "black_african",
        "Black, Black British, Caribbean or African: African",
        "Black, Black British, Caribbean or African",
        "N",
        5.2,
        ("yo_NG", "ig_NG", "tw_GH", "en_KE"),
    ),
    Ethnicity(
        "black_caribbean",
        "Black, Black British, Caribbean or African: Caribbean",
        "Black, Black British, Caribbean or African",
        "M",
        2.5,
        ("en_GB",),
    ),
    Ethnicity(
        "black_other",
        "Black, Black British, Caribbean or African: Other Black",
        "Black, Black British, Caribbean or African",
        "P",
        1.3,
        ("en_GB", "yo_NG"),
    ),
    Ethnicity("other_arab", "Other ethnic group: Arab", "Other ethnic group", "S", 1.1, ("en_PK",)),
    Ethnicity(
        "other_any",
        "Other ethnic group: Any other ethnic group",
        "Other ethnic group",
        "S",
        2.6,
        ("tr_TR", "en_PK", "vi_VN"),
    ),
)
ETHNIC_GROUPS = tuple(dict.fromkeys(e.group for e in ETHNICITIES))

# England, Census 2021, per cent of people by five-year age band (0-4 ... 90+).
AGE_BANDS_PERCENT = (
    5.4,
    5.9,
    6.0,
    5.6,
    6.0,
    6.6,
    6.9,
    6.7,
    6.3,
    6.3,
    6.9,
    6.7,
    5.8,
    5.0,
    5.0,
    3.7,
    2.6,
    1.6,
    0.9,
)
