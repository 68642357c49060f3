"""Real streets of the two demo cities, so that seeded stores sit where shops really are.

Each street is one segment between two points on it (WGS 84, good to a block or so);
stores are placed along the segment. `trade_area` is what the street mostly is, and
`landmark` names the station, hospital or square a store there would be named after.
"""

from dataclasses import dataclass

# One street per line reads best as a table, hence the long lines.
# ruff: noqa: E501


@dataclass(frozen=True)
class Street:
    name: str
    postcode: str
    start: tuple[float, float]
    end: tuple[float, float]
    trade_area: str
    landmark: str = ""
    last_number: int = 60

    @property
    def at_landmark(self) -> str:
        """The landmark as a shop name says where it is: "am Hauptbahnhof"."""
        return AT_LANDMARK.get(self.landmark, f"am {self.landmark}")

    @property
    def car_free(self) -> bool:
        return self.name in PEDESTRIAN_ZONES


@dataclass(frozen=True)
class BoundingBox:
    south: float
    west: float
    north: float
    east: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east


@dataclass(frozen=True)
class City:
    region_code: str
    region_name: str
    name: str
    # National area code without the trunk 0, as E.164 carries it: "40" for 040.
    area_code: str
    centre: tuple[float, float]
    bounds: BoundingBox
    streets: tuple[Street, ...]
    # Names only seen here: owners' surnames and independent shop names.
    surnames: tuple[str, ...]
    shop_names: tuple[str, ...]
    bakeries: tuple[str, ...]
    discounters: tuple[str, ...]


# fmt: off
HAMBURG_STREETS = (
    Street("Mönckebergstraße", "20095", (53.5504, 9.9940), (53.5522, 10.0037), "office", "Rathaus", 31),
    Street("Spitalerstraße", "20095", (53.5511, 9.9987), (53.5522, 10.0045), "mixed", "", 32),
    Street("Kirchenallee", "20099", (53.5520, 10.0072), (53.5547, 10.0092), "transit", "Hauptbahnhof", 57),
    Street("Steindamm", "20099", (53.5543, 10.0092), (53.5585, 10.0190), "mixed", "Hansaplatz", 100),
    Street("Lange Reihe", "20099", (53.5545, 10.0095), (53.5598, 10.0165), "residential", "", 120),
    Street("Lohmühlenstraße", "20099", (53.5560, 10.0180), (53.5585, 10.0235), "hospital", "AK St. Georg", 60),
    Street("Reeperbahn", "20359", (53.5497, 9.9700), (53.5499, 9.9570), "tourist", "Spielbudenplatz", 170),
    Street("St. Pauli Hafenstraße", "20359", (53.5458, 9.9690), (53.5470, 9.9560), "tourist", "Landungsbrücken", 160),
    Street("Schulterblatt", "20357", (53.5607, 9.9625), (53.5650, 9.9590), "mixed", "Sternschanze", 120),
    Street("Max-Brauer-Allee", "22765", (53.5495, 9.9350), (53.5560, 9.9420), "transit", "Bahnhof Altona", 280),
    Street("Ottenser Hauptstraße", "22765", (53.5520, 9.9350), (53.5532, 9.9250), "residential", "", 60),
    Street("Osterstraße", "20259", (53.5725, 9.9570), (53.5768, 9.9465), "residential", "", 180),
    Street("Grindelallee", "20146", (53.5640, 9.9870), (53.5710, 9.9780), "school", "Universität", 190),
    Street("Eppendorfer Baum", "20249", (53.5825, 9.9800), (53.5865, 9.9810), "residential", "", 40),
    Street("Martinistraße", "20251", (53.5860, 9.9730), (53.5905, 9.9830), "hospital", "UKE", 80),
    Street("Mühlenkamp", "22303", (53.5815, 10.0105), (53.5870, 10.0100), "residential", "", 60),
    Street("Hamburger Straße", "22083", (53.5725, 10.0255), (53.5790, 10.0330), "mixed", "Hamburger Meile", 200),
    Street("Fuhlsbüttler Straße", "22305", (53.5855, 10.0455), (53.5990, 10.0420), "residential", "Bahnhof Barmbek", 400),
    Street("Wandsbeker Marktstraße", "22041", (53.5715, 10.0645), (53.5735, 10.0745), "mixed", "Wandsbek Markt", 160),
    Street("Friedrich-Ebert-Damm", "22047", (53.5850, 10.0800), (53.5920, 10.0950), "industrial", "", 220),
    Street("Billstraße", "20539", (53.5430, 10.0450), (53.5395, 10.0640), "industrial", "", 200),
    Street("Überseering", "22297", (53.6045, 10.0215), (53.6080, 10.0285), "office", "City Nord", 35),
    Street("Überseeallee", "20457", (53.5418, 9.9990), (53.5412, 10.0080), "office", "HafenCity", 20),
    Street("Sachsentor", "21029", (53.4875, 10.2125), (53.4890, 10.2195), "mixed", "Bergedorf", 90),
    Street("Lüneburger Straße", "21073", (53.4600, 9.9830), (53.4620, 9.9885), "mixed", "Harburg", 50),
    Street("Blankeneser Bahnhofstraße", "22587", (53.5645, 9.8130), (53.5605, 9.8075), "residential", "Bahnhof Blankenese", 50),
)

MUNICH_STREETS = (
    Street("Neuhauser Straße", "80331", (48.1390, 11.5668), (48.1383, 11.5712), "tourist", "Stachus", 50),
    Street("Kaufingerstraße", "80331", (48.1383, 11.5712), (48.1374, 11.5745), "tourist", "Marienplatz", 30),
    Street("Tal", "80331", (48.1365, 11.5775), (48.1355, 11.5815), "tourist", "Isartor", 80),
    Street("Maximilianstraße", "80539", (48.1393, 11.5790), (48.1375, 11.5900), "tourist", "Nationaltheater", 60),
    Street("Sendlinger Straße", "80331", (48.1368, 11.5722), (48.1340, 11.5678), "mixed", "Sendlinger Tor", 90),
    Street("Bayerstraße", "80335", (48.1400, 11.5605), (48.1390, 11.5500), "transit", "Hauptbahnhof", 110),
    Street("Schillerstraße", "80336", (48.1395, 11.5612), (48.1350, 11.5620), "mixed", "", 50),
    Street("Arnulfstraße", "80335", (48.1425, 11.5590), (48.1440, 11.5400), "office", "", 300),
    Street("Landsberger Straße", "80339", (48.1405, 11.5470), (48.1430, 11.5230), "office", "Donnersbergerbrücke", 500),
    Street("Nymphenburger Straße", "80335", (48.1480, 11.5560), (48.1535, 11.5360), "residential", "", 200),
    Street("Ludwigstraße", "80539", (48.1430, 11.5775), (48.1505, 11.5805), "school", "Universität", 33),
    Street("Schellingstraße", "80799", (48.1505, 11.5790), (48.1495, 11.5680), "school", "Universität", 150),
    Street("Leopoldstraße", "80802", (48.1545, 11.5840), (48.1640, 11.5860), "mixed", "Münchner Freiheit", 250),
    Street("Hohenzollernstraße", "80801", (48.1615, 11.5840), (48.1605, 11.5700), "residential", "", 150),
    Street("Belgradstraße", "80796", (48.1620, 11.5700), (48.1700, 11.5660), "residential", "", 160),
    Street("Rosenheimer Straße", "81669", (48.1310, 11.5880), (48.1250, 11.6040), "office", "", 150),
    Street("Weißenburger Straße", "81667", (48.1290, 11.5935), (48.1282, 11.6010), "residential", "", 60),
    Street("Orleansstraße", "81667", (48.1265, 11.6040), (48.1290, 11.5990), "transit", "Ostbahnhof", 70),
    Street("Fraunhoferstraße", "80469", (48.1325, 11.5740), (48.1295, 11.5785), "residential", "", 45),
    Street("Lindwurmstraße", "80337", (48.1320, 11.5650), (48.1230, 11.5500), "mixed", "Goetheplatz", 210),
    Street("Nußbaumstraße", "80336", (48.1318, 11.5625), (48.1300, 11.5600), "hospital", "Klinikum Innenstadt", 30),
    Street("Marchioninistraße", "81377", (48.1115, 11.4665), (48.1080, 11.4715), "hospital", "Klinikum Großhadern", 70),
    Street("Gleichmannstraße", "81241", (48.1480, 11.4625), (48.1465, 11.4560), "transit", "Bahnhof Pasing", 20),
    Street("Theresienhöhe", "80339", (48.1330, 11.5455), (48.1365, 11.5450), "tourist", "Theresienwiese", 30),
    Street("Frankfurter Ring", "80807", (48.1835, 11.5690), (48.1870, 11.5920), "industrial", "", 250),
    Street("Moosacher Straße", "80809", (48.1790, 11.5520), (48.1800, 11.5330), "industrial", "", 120),
    Street("Mies-van-der-Rohe-Straße", "80807", (48.1860, 11.5940), (48.1880, 11.5990), "office", "Parkstadt Schwabing", 10),
)


# German wants its own preposition with some places; "am" fits the rest.
AT_LANDMARK = {
    "Universität": "an der Universität",
    "Landungsbrücken": "an den Landungsbrücken",
    "Sternschanze": "an der Sternschanze",
    "Hamburger Meile": "in der Hamburger Meile",
    "City Nord": "in der City Nord",
    "HafenCity": "in der HafenCity",
    "Bergedorf": "in Bergedorf",
    "Harburg": "in Harburg",
    "Donnersbergerbrücke": "an der Donnersbergerbrücke",
    "Münchner Freiheit": "an der Münchner Freiheit",
    "Theresienwiese": "an der Theresienwiese",
    "Parkstadt Schwabing": "in der Parkstadt Schwabing",
}
# Shopping streets without car traffic: no petrol stations there.
PEDESTRIAN_ZONES = frozenset(
    {
        "Mönckebergstraße",
        "Spitalerstraße",
        "Ottenser Hauptstraße",
        "Sachsentor",
        "Lüneburger Straße",
        "Neuhauser Straße",
        "Kaufingerstraße",
        "Sendlinger Straße",
    }
)

SHARED_SURNAMES = (
    "Yılmaz", "Kaya", "Demir", "Şahin", "Öztürk", "Nguyen", "Tran", "Müller", "Schmidt",
    "Popović", "Kowalski", "Rahimi", "Haddad", "Ahmadi", "Singh", "Papadopoulos", "Ali",
    "Hoxha", "Novak", "Schneider",
)
# fmt: on

HAMBURG = City(
    region_code="north",
    region_name="North (Hamburg)",
    name="Hamburg",
    area_code="40",
    centre=(53.5511, 9.9937),
    bounds=BoundingBox(south=53.39, west=9.73, north=53.74, east=10.33),
    streets=HAMBURG_STREETS,
    surnames=(*SHARED_SURNAMES, "Petersen", "Hansen", "Jensen", "Lüders", "Brandt", "Claussen"),
    shop_names=(
        "Elbkiosk",
        "Alster-Kiosk",
        "Hafenkiosk",
        "Kiosk Moin Moin",
        "Fischbrötchen & mehr",
    ),
    bakeries=("Dat Backhus", "Bäckerei Junge", "Von Allwörden"),
    discounters=("Aldi Nord", "Lidl", "Penny", "Netto", "REWE", "Edeka"),
)

MUNICH = City(
    region_code="south",
    region_name="South (Munich)",
    name="München",
    area_code="89",
    centre=(48.1374, 11.5755),
    bounds=BoundingBox(south=48.06, west=11.36, north=48.25, east=11.73),
    streets=MUNICH_STREETS,
    surnames=(*SHARED_SURNAMES, "Huber", "Gruber", "Maier", "Hofmann", "Wimmer", "Brandl"),
    shop_names=("Isar-Kiosk", "Brotzeitladen", "Standl", "Tabak & Brotzeit", "Kiosk Servus"),
    bakeries=("Rischart", "Hofpfisterei", "Müller Brot", "Zöttl"),
    discounters=("Aldi Süd", "Lidl", "Penny", "Netto", "REWE", "Edeka"),
)

CITIES = (HAMBURG, MUNICH)
