"""Built-in seed pools. The emotion list is the paper's (see EMOTIONS_NOTE)."""

from __future__ import annotations

# 40 emotions are legible in the paper's list; it states 45. The last five below fill the
# gaps of its alphabetical table and are this project's reconstruction.
EMOTIONS: tuple[str, ...] = (
    "Anger", "Anxiety", "Bitterness", "Contempt", "Despair", "Disappointment", "Disgust",
    "Embarrassment", "Envy", "Fear", "Frustration", "Grief", "Guilt", "Hatred", "Helplessness",
    "Hopelessness", "Humiliation", "Insecurity", "Irritation", "Jealousy", "Loneliness",
    "Melancholy", "Misery", "Neglect", "Panic", "Paranoia", "Rage", "Regret", "Rejection",
    "Remorse", "Resentment", "Sadness", "Shame", "Sorrow", "Spite", "Stress", "Suffering",
    "Unhappiness", "Vengefulness", "Worry",
    "Inadequacy", "Terror", "Upset", "Vulnerability", "Worthlessness",
)

SEXES: tuple[str, ...] = ("female", "male", "non-binary")

RELATIONSHIP_STATUSES: tuple[str, ...] = (
    "single", "dating", "in a relationship", "engaged", "married", "in a civil partnership",
    "separated", "divorced", "widowed",
)

OCCUPATIONS: tuple[str, ...] = (
    "accountant", "actor", "administrative assistant", "air traffic controller", "architect",
    "baker", "bank teller", "barber", "barista", "bartender", "bus driver", "butcher",
    "carpenter", "cashier", "chef", "chemist", "civil engineer", "cleaner", "construction worker",
    "customer service representative", "data analyst", "delivery driver", "dental hygienist",
    "dentist", "dietitian", "electrician", "elementary school teacher", "event planner",
    "factory worker", "farmer", "firefighter", "fitness instructor", "flight attendant",
    "florist", "gardener", "graphic designer", "hairdresser", "high school teacher",
    "hotel receptionist", "human resources manager", "insurance agent", "interpreter",
    "janitor", "journalist", "judge", "kindergarten teacher", "lab technician", "landscaper",
    "lawyer", "librarian", "lifeguard", "machinist", "marketing manager", "mechanic",
    "medical receptionist", "midwife", "museum curator", "musician", "nurse",
    "occupational therapist", "optician", "painter and decorator", "paramedic", "pharmacist",
    "photographer", "physical therapist", "physician", "pilot", "plumber", "police officer",
    "postal worker", "project manager", "psychologist", "real estate agent", "research scientist",
    "restaurant manager", "retail sales associate", "roofer", "security guard", "social worker",
    "software developer", "sound engineer", "speech therapist", "stay-at-home parent",
    "store manager", "surgeon", "tailor", "tax advisor", "taxi driver", "translator",
    "truck driver", "university lecturer", "university student", "veterinarian",
    "video game tester", "waiter", "warehouse worker", "web designer", "welder", "writer",
    "youth worker", "zookeeper", "retired teacher", "call center agent", "small business owner",
    "graduate student", "nursing home caregiver", "IT support technician",
)
