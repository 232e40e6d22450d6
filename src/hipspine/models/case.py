"""The case format `hipspine.case/1` (PRODUCT.md section 2).

Absent or null means "not known / not examined", never "negative": every finding is
optional and defaults to None, and the engine treats None as uninformative. Unknown field
names are rejected (a misspelt finding silently ignored would be a clinical error).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

CASE_FORMAT = "hipspine.case/1"

Setting = Literal["primary_care", "spine_clinic", "arthroplasty_clinic", "physiotherapy"]
Sex = Literal["female", "male", "other"]
Side = Literal["left", "right", "bilateral"]
PainLocation = Literal[
    "groin", "buttock", "lateral_hip", "anterior_thigh", "posterior_thigh",
    "below_knee", "foot", "low_back",
    "lateral_thigh", "medial_thigh", "knee",  # extension (docs/case-format.md)
]
TreatmentType = Literal[
    "physiotherapy", "nsaid", "hip_injection", "epidural_injection", "nerve_root_block",
    "lumbar_decompression", "lumbar_fusion", "total_hip_arthroplasty", "hip_arthroscopy",
    "facet_joint_injection", "sacroiliac_injection", "trochanteric_injection", "other",
]
TreatmentTarget = Literal["hip", "spine", "other"]
StenosisSeverity = Literal["none", "mild", "moderate", "severe"]
Severity = Literal["none", "mild", "moderate", "severe"]
SensoryPattern = Literal["dermatomal", "peripheral_nerve", "stocking"]
Nerve = Literal[
    "sciatic", "femoral", "obturator", "lateral_femoral_cutaneous", "cluneal", "pudendal",
    "common_peroneal", "tibial", "lumbosacral_plexus",
]
LesionKind = Literal[
    "femoral_head_osteonecrosis", "hip_fracture", "hip_bone_marrow_oedema", "labral_tear",
    "femoroacetabular_impingement", "hip_effusion", "septic_arthritis_hip",
    "intra_articular_hip_tumour",
    "nerve_root_compression", "facet_synovial_cyst", "intraspinal_tumour", "vertebral_fracture",
    "spinal_infection", "spinal_metastasis",
    "arterial_stenosis_or_occlusion", "gluteal_tendon_tear", "gluteal_tendinopathy_or_bursitis",
    "sacroiliitis", "peripheral_nerve_lesion", "hernia", "pubic_disorder",
    "bone_tumour_pelvis_femur", "soft_tissue_tumour", "soft_tissue_infection",
]
"""Specific lesions imaging can show (docs/case-format.md); what each weighs is knowledge data."""
ArterialImaging = Literal["significant_stenosis_or_occlusion", "no_significant_disease"]
Electrodiagnosis = Literal["radiculopathy", "polyneuropathy", "mononeuropathy", "plexopathy",
                           "normal"]
Aspirate = Literal["septic", "not_septic"]
StenosisType = Literal["central", "lateral_recess", "foraminal"]
LumbarLevel = Annotated[str, Field(
    pattern=r"^(T12|L[1-5])-(L[1-5]|S1)$",
    description="A lumbar motion segment such as 'L4-L5' or 'L5-S1'",
)]

Percent = Annotated[float, Field(ge=0, le=100)]
Flag = bool | None


class _Strict(BaseModel):
    """Shared config: unknown fields are errors, values are not coerced from strings."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PriorTreatment(_Strict):
    type: TreatmentType
    target: TreatmentTarget
    relief_pct: Percent | None = None
    months_ago: Annotated[float, Field(ge=0, le=1200)] | None = None


class TreatmentResponse:
    """`history.relief_after.<type>`: the best relief any earlier treatment of that type gave
    (None when none is recorded with its relief), so knowledge conditions can weigh the
    response to treatment aimed at one organ."""

    __slots__ = ("_treatments",)

    def __init__(self, treatments: list[PriorTreatment]) -> None:
        self._treatments = treatments

    def __getattr__(self, treatment_type: str) -> float | None:
        reliefs = [t.relief_pct for t in self._treatments
                   if t.type == treatment_type and t.relief_pct is not None]
        return max(reliefs) if reliefs else None


class History(_Strict):
    smoker: Flag = None
    diabetes: Flag = None
    cancer_history: Flag = None
    anticoagulant: Flag = None
    gi_bleed_history: Flag = None
    cardiovascular_disease: Flag = None
    nsaid_intolerance: Flag = None
    # Extension (docs/case-format.md): current medicines by class, as the FHIR import reads
    # them (active MedicationRequest / MedicationStatement); None = not known, never "not taking".
    antiplatelet: Flag = None
    nsaid_use: Flag = None
    opioid_use: Flag = None
    gabapentinoid_use: Flag = None
    corticosteroid_use: Flag = None  # systemic (oral or injected), not topical or inhaled
    bmi: Annotated[float, Field(ge=10, le=90, description="kg/m2")] | None = None
    egfr: Annotated[float, Field(ge=0, le=200, description="mL/min/1.73m2")] | None = None
    prior_treatments: list[PriorTreatment] = Field(default_factory=list)

    @property
    def relief_after(self) -> TreatmentResponse:
        return TreatmentResponse(self.prior_treatments)


class Symptoms(_Strict):
    pain_locations: list[PainLocation] | None = None
    laterality: Side | None = None
    walking_limited: Flag = None
    neurogenic_claudication: Flag = None
    relief_sitting: Flag = None
    relief_forward_flexion: Flag = None
    worse_standing: Flag = None
    worse_walking_uphill: Flag = None
    numbness_tingling: Flag = None
    weakness: Flag = None
    limp: Flag = None
    night_pain: Flag = None
    rest_pain: Flag = None
    pain_putting_on_shoes_socks: Flag = None
    morning_stiffness_over_60min: Flag = None
    bladder_bowel_dysfunction: Flag = None
    saddle_anaesthesia: Flag = None
    unexplained_weight_loss: Flag = None
    fever: Flag = None
    squatting_aggravates: Flag = None  # self-reported (Sutlive 2008 item 1)
    relief_standing_still: Flag = None  # pain eases standing still, any posture (vascular pattern)
    leg_pain_worse_than_back_pain: Flag = None  # Cook 2011 LSS cluster item
    duration_months: Annotated[float, Field(ge=0, le=1200)] | None = None


class Exam(_Strict):
    hip_internal_rotation_deg: Annotated[float, Field(ge=-30, le=90)] | None = None
    hip_flexion_deg: Annotated[float, Field(ge=0, le=160)] | None = None
    pain_on_hip_internal_rotation: Flag = None
    faber_positive: Flag = None
    fadir_positive: Flag = None
    hip_scour_positive: Flag = None
    straight_leg_raise_positive: Flag = None
    femoral_stretch_positive: Flag = None
    achilles_reflex_reduced: Flag = None
    patellar_reflex_reduced: Flag = None
    sensory_deficit: Flag = None
    motor_deficit: Flag = None
    wide_based_gait: Flag = None
    romberg_abnormal: Flag = None
    trochanteric_tenderness: Flag = None
    hip_flexion_contracture: Flag = None
    sij_provocation_positive_count: Annotated[int, Field(ge=0, le=5)] | None = None
    peripheral_pulses_normal: Flag = None
    # 30-s single-leg stance reproduces lateral hip pain (gluteal tendinopathy screen)
    single_leg_stance_lateral_hip_pain: Flag = None
    symptoms_provoked_by_bending_forward: Flag = None  # Konno 2007 exam item (-1)
    symptoms_provoked_by_bending_backward: Flag = None  # Konno 2007 exam item (+1)
    active_hip_flexion_lateral_pain: Flag = None  # Sutlive 2008 item 2
    active_hip_extension_pain: Flag = None  # Sutlive 2008 item 4
    hip_rom_full_painless: Flag = None  # full, painless hip motion (argues against the hip)
    sensory_deficit_pattern: SensoryPattern | None = None
    monofilament_abnormal: Flag = None  # 10-g monofilament not felt
    vibration_sense_reduced: Flag = None  # 128-Hz tuning fork
    femoral_bruit: Flag = None


class HipOA(_Strict):
    side: Side | None = None
    kellgren_lawrence: Annotated[int, Field(ge=0, le=4)] | None = None
    severity: Severity | None = Field(default=None, exclude_if=lambda v: v is None)
    """As a report words it when no grade is given (extension; left out when unknown)."""


class LumbarStenosis(_Strict):
    severity: StenosisSeverity | None = None
    levels: list[LumbarLevel] | None = None
    type: StenosisType | None = None


class Spondylolisthesis(_Strict):
    level: LumbarLevel | None = None
    grade: Annotated[int, Field(ge=1, le=4)] | None = None


class Lesion(_Strict):
    """A specific lesion imaging showed; `kind` says what, the rest where."""

    kind: LesionKind
    side: Side | None = None
    level: LumbarLevel | None = None
    nerve: Nerve | None = None


class Imaging(_Strict):
    hip_oa: HipOA | None = None
    lumbar_stenosis: LumbarStenosis | None = None
    spondylolisthesis: Spondylolisthesis | None = None
    # Alarming findings on any imaging (red flags, not pain sources): True when a report
    # says so or suspects it; filled from `reports` by the report reader when absent.
    suspected_malignancy: Flag = None  # bone tumour, metastasis, aggressive/lytic lesion
    fracture: Flag = None              # a current fracture (stress and insufficiency too)
    infection: Flag = None             # discitis, osteomyelitis, abscess, septic arthritis
    lesions: list[Lesion] = Field(default_factory=list)
    reports: list[str] = Field(default_factory=list)

    @property
    def lesion_kinds(self) -> frozenset[str] | None:
        """The kinds of lesion shown, what the knowledge base's conditions test; None (not
        known) when no lesion is recorded: an empty list never argues against a lesion."""
        return frozenset(lesion.kind for lesion in self.lesions) or None


class Tests(_Strict):
    intra_articular_hip_injection_relief_pct: Percent | None = None
    epidural_injection_relief_pct: Percent | None = None
    nerve_root_block_relief_pct: Percent | None = None
    abi: Annotated[float, Field(ge=0, le=3, description="ankle-brachial index")] | None = None
    esr_mm_h: Annotated[float, Field(ge=0, le=200)] | None = None
    # extension (docs/case-format.md)
    facet_block_relief_pct: Percent | None = None
    sacroiliac_block_relief_pct: Percent | None = None
    trochanteric_injection_relief_pct: Percent | None = None
    peripheral_nerve_block_relief_pct: Percent | None = None
    peripheral_nerve_block_nerve: Nerve | None = None
    toe_brachial_index: Annotated[float, Field(ge=0, le=2)] | None = None
    crp_mg_l: Annotated[float, Field(ge=0, le=1000)] | None = None
    arterial_imaging: ArterialImaging | None = None
    electrodiagnosis: Electrodiagnosis | None = None
    hip_aspirate: Aspirate | None = None


class PromEntry(_Strict):
    instrument: str
    date: str | None = None
    items: list[int | None] | None = None
    score: float | None = None


class Case(_Strict):
    """One patient presentation. Build it with `hipspine.models.parse_case` for clear errors."""

    format: Literal["hipspine.case/1"]
    id: str | None = None
    setting: Setting | None = None
    age: Annotated[int, Field(ge=18, le=110)] | None = None
    sex: Sex | None = None
    history: History = Field(default_factory=History)
    symptoms: Symptoms = Field(default_factory=Symptoms)
    exam: Exam = Field(default_factory=Exam)
    imaging: Imaging = Field(default_factory=Imaging)
    tests: Tests = Field(default_factory=Tests)
    proms: list[PromEntry] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
