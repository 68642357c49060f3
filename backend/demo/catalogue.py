"""The vocabulary of the demo data: chains, products, equipment and how often each occurs.

The weights are rough shares of a German convenience market, chosen so that filters,
analytics and dashboards have something to find; they are not statistics.
"""

from dataclasses import dataclass

STATUS_WEIGHTS = {"active": 58, "prospect": 20, "dormant": 13, "churned": 9}
GRADE_WEIGHTS = {
    "active": {"A": 20, "B": 35, "C": 45},
    "dormant": {"A": 5, "B": 30, "C": 65},
    "churned": {"B": 20, "C": 80},
    "prospect": {"": 50, "B": 15, "C": 35},
}
# Trade areas a store may have off its street's own: stations, hospitals and industrial
# estates come only from the street.
SECONDARY_TRADE_AREAS = {"residential": 40, "mixed": 30, "office": 15, "school": 7, "tourist": 8}
OWN_TRADE_AREA_SHARE = 0.6
CHAIN_SHARE = {"transit": 0.65, "office": 0.4, "tourist": 0.35}
DEFAULT_CHAIN_SHARE = 0.25
DUPLICATE_SHARE = 0.02


@dataclass(frozen=True)
class Chain:
    name: str
    # Where it has outlets, and how common it is there among chains.
    trade_areas: frozenset[str]
    weight: int
    petrol: bool = False


CHAINS = (
    Chain("REWE To Go", frozenset({"office", "transit", "mixed", "residential", "tourist"}), 6),
    Chain("Spar Express", frozenset({"office", "transit", "mixed", "residential"}), 4),
    Chain("k kiosk", frozenset({"transit", "mixed", "office"}), 3),
    Chain("Relay", frozenset({"transit"}), 3),
    Chain("Press & Books", frozenset({"transit"}), 2),
    Chain("Yorma's", frozenset({"transit"}), 2),
    Chain("EDEKA xpress", frozenset({"transit", "office", "mixed"}), 2),
    Chain("Ditsch", frozenset({"transit"}), 1),
    Chain("BackWerk", frozenset({"school", "office", "mixed", "tourist", "hospital"}), 2),
    Chain("Aral Store", frozenset({"industrial", "mixed", "residential"}), 3, petrol=True),
    Chain("Shell Shop", frozenset({"industrial", "mixed"}), 2, petrol=True),
)

EQUIPMENT_ODDS = {
    "coffee_machine": 0.55,
    "microwave": 0.4,
    "open_chiller": 0.7,
    "freezer": 0.5,
    "hot_food_cabinet": 0.15,
    "oven": 0.2,
    "bake_off": 0.2,
    "seating": 0.15,
}
# Where people eat on the go, stores are better equipped for it.
EQUIPMENT_BOOST = {
    "office": {"microwave": 0.25, "coffee_machine": 0.2},
    "transit": {"coffee_machine": 0.3, "hot_food_cabinet": 0.2, "bake_off": 0.2},
    "industrial": {"microwave": 0.3, "hot_food_cabinet": 0.2},
    "school": {"microwave": 0.15},
    "hospital": {"coffee_machine": 0.2},
}

FOOTFALL_WEEKDAY = {
    "transit": 2200,
    "tourist": 1500,
    "office": 700,
    "mixed": 650,
    "school": 600,
    "hospital": 500,
    "residential": 350,
    "industrial": 250,
}
WEEKEND_FACTOR = {
    "transit": 0.7,
    "tourist": 1.3,
    "office": 0.25,
    "mixed": 0.85,
    "school": 0.15,
    "hospital": 0.6,
    "residential": 1.0,
    "industrial": 0.2,
}
# Share of a weekday's footfall in the morning, lunch and evening slots.
SLOT_SHARES = {
    "transit": (0.4, 0.25, 0.35),
    "tourist": (0.2, 0.4, 0.4),
    "office": (0.35, 0.45, 0.2),
    "mixed": (0.3, 0.35, 0.35),
    "school": (0.4, 0.5, 0.1),
    "hospital": (0.3, 0.4, 0.3),
    "residential": (0.25, 0.25, 0.5),
    "industrial": (0.5, 0.4, 0.1),
}
CUSTOMER_GROUPS = {
    "transit": ("commuters", "tourists", "office_workers"),
    "tourist": ("tourists", "residents"),
    "office": ("office_workers", "commuters"),
    "mixed": ("residents", "office_workers", "students"),
    "school": ("students", "families"),
    "hospital": ("patients_visitors", "seniors"),
    "residential": ("residents", "families", "seniors"),
    "industrial": ("workers", "commuters"),
}
CAFES = ("Starbucks", "Espresso House", "Balzac Coffee", "Coffee Fellows")
FAST_FOOD = ("McDonald's", "Burger King", "Subway", "dean&david", "Nordsee")
CONVENIENCE = ("REWE To Go", "Spar Express", "Kiosk", "Späti")
SIGNAL_WEIGHTS = {"excellent": 20, "good": 40, "fair": 25, "poor": 12, "none": 3}
SURVEY_NOTES = (
    "Owner interested in hot snacks.",
    "Chiller full of competitor products.",
    "Manager only there in the mornings.",
    "Shelf space could double after the refit in spring.",
    "Lunch rush from the offices opposite, empty by 3 pm.",
    "Asked for a second chiller.",
    "Construction site in front until summer.",
)
# Equipment a store is tagged with ("has_coffee_machine"): what product decisions use.
TAGGED_EQUIPMENT = ("coffee_machine", "microwave", "hot_food_cabinet", "bake_off")
PHOTO_SECTIONS = ("storefront", "shelf", "interior", "equipment", "surroundings")
PHOTOS_PER_SURVEY = {"full": (1, 2), "partial": (0, 1), "sparse": (0, 0)}

VISIT_PURPOSE_WEIGHTS = {"routine": 60, "new_product": 14, "reactivation": 10, "complaint": 8}
VISIT_OUTCOMES = {
    "routine": (
        "Order taken",
        "Shelf restocked, no order",
        "Owner not in",
        "Order taken, more wraps",
    ),
    "survey": ("Survey captured", "Survey captured, photos to follow"),
    "new_product": ("Listed the new range", "Samples left", "Not interested for now"),
    "reactivation": ("Will order again next week", "Went to a competitor", "Closed for refit"),
    "complaint": ("Credit note promised", "Wrong delivery collected", "Resolved on site"),
}
VISIT_NOTES = (
    "Talked to the owner about the lunch range.",
    "Chiller was at 9 °C, told the owner.",
    "Competitor rep was there just before me.",
    "Best time to come: before 10.",
)
FOLLOWUP_NOTES = (
    "Call about the new wraps.",
    "Bring the price list.",
    "Check the chiller after the repair.",
    "Ask whether the sample sold.",
    "Owner back from holiday: call then.",
)
NEW_PRODUCTS = ("Chicken Tikka Bowl", "Falafel Wrap", "Quinoa Protein Pot", "Pasta Salad Caprese")
TASK_STATUS_WEIGHTS = {"open": 45, "accepted": 15, "in_progress": 10, "done": 25, "cancelled": 5}
REVIEW_WEIGHTS = {
    "stale": {"approved": 80, "pending": 10, "has_issues": 10},
    "full": {"approved": 50, "pending": 38, "has_issues": 9, "rejected": 3},
    "partial": {"approved": 35, "pending": 45, "has_issues": 15, "rejected": 5},
    "sparse": {"approved": 5, "pending": 40, "has_issues": 35, "rejected": 20},
}
COMPLETENESS_WEIGHTS = {"full": 45, "partial": 35, "sparse": 20}

# The survey templates HQ scores surveys against, per trade-area type: the versions in
# the order HQ introduced them, each (days before today it took effect, required fields).
# Every version also asks for notes when the signal is poor (orders then go by phone) and
# for the GPS fix at the store. No version sets photo minimums: demo photos carry their
# metadata only, their bytes never arrive, and a minimum would count none of them.
TEMPLATE_BASE_FIELDS = ("footfall_weekday", "area_m2", "customer_groups", "signal_quality")
TEMPLATE_CONDITIONAL_FIELDS = (
    {"field": "notes", "when": {"field": "signal_quality", "in": ["none", "poor"]}},
)
TEMPLATE_MIN_PHOTOS: dict[str, int] = {}
# Before the oldest survey the seed draws (720 days, moved back off a weekend).
FIRST_TEMPLATE_DAYS_AGO = 730
SURVEY_TEMPLATES: dict[str, tuple[tuple[int, tuple[str, ...]], ...]] = {
    "office": (
        (FIRST_TEMPLATE_DAYS_AGO, ("footfall_slots",)),
        # Stricter since spring: the lunch trade needs the competition and the shelf.
        (120, ("footfall_slots", "competitors", "fresh_shelf_m")),
    ),
    "residential": ((FIRST_TEMPLATE_DAYS_AGO, ("footfall_weekend",)),),
    "transit": (
        (FIRST_TEMPLATE_DAYS_AGO, ("footfall_slots",)),
        (300, ("footfall_slots", "footfall_weekend", "competitors")),
    ),
    "school": ((FIRST_TEMPLATE_DAYS_AGO, ("fresh_shelf_m",)),),
    "hospital": ((FIRST_TEMPLATE_DAYS_AGO, ("fresh_shelf_m", "equipment")),),
    "industrial": ((FIRST_TEMPLATE_DAYS_AGO, ("equipment",)),),
    "tourist": ((FIRST_TEMPLATE_DAYS_AGO, ("footfall_weekend",)),),
    "mixed": ((FIRST_TEMPLATE_DAYS_AGO, ()),),
}


@dataclass(frozen=True)
class Product:
    sku: str
    # What the store pays per unit.
    unit_cents: int
    region: str = ""
    needs: str = ""


PRODUCTS = (
    Product("SW-HAM-CHEESE", 189),
    Product("SW-CHICKEN-CURRY", 219),
    Product("SW-TUNA-EGG", 209),
    Product("SW-VEGGIE-HUMMUS", 199),
    Product("WRAP-CHICKEN-CAESAR", 249),
    Product("WRAP-FALAFEL", 239),
    Product("SALAD-CAESAR", 289),
    Product("SALAD-GREEK", 269),
    Product("SALAD-PASTA-PESTO", 229),
    Product("BAKERY-CROISSANT", 59),
    Product("BAKERY-CHEESE-ROLL", 79),
    Product("BAKERY-FRANZBROETCHEN", 89, region="north"),
    Product("SW-FISCHBROETCHEN-MATJES", 259, region="north"),
    Product("BAKERY-BREZN", 55, region="south"),
    Product("SW-LEBERKAESSEMMEL", 229, region="south"),
    Product("MEAL-LASAGNE", 349, needs="microwave"),
    Product("MEAL-CHILI-CON-CARNE", 329, needs="microwave"),
    Product("MEAL-PASTA-BOLOGNESE", 319, needs="microwave"),
    Product("MEAL-CURRYWURST", 299, needs="microwave"),
    Product("SOUP-TOMATO", 249, needs="microwave"),
    Product("DESSERT-YOGURT-GRANOLA", 149),
    Product("FRUIT-CUP", 169),
    Product("SMOOTHIE-BERRY", 199),
)
# A store's orders per week, drawn from its grade's range.
ORDERS_PER_WEEK = {"A": (0.7, 1.4), "B": (0.3, 0.6), "C": (0.1, 0.3), "": (0.1, 0.2)}
LINES_PER_ORDER = (1, 1, 2, 2, 3)
# Monday to Sunday. Deliveries are next-day, so orders placed on Friday and Saturday
# (delivered over the weekend) are structurally lower.
WEEKDAY_FACTOR = (1.15, 1.15, 1.1, 1.15, 0.6, 0.45, 1.0)
# Units per order line, by grade.
QUANTITY = {"A": (6, 24), "B": (4, 12), "C": (2, 8), "": (2, 6)}

FIRST_NAMES = (
    "Jana", "Lars", "Mehmet", "Svenja", "Finn", "Aylin", "Tobias", "Lea", "Jonas", "Marie",
    "Can", "Sophie", "Lukas", "Elif", "Moritz", "Hannah",
)  # fmt: skip
