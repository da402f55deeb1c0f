"""Chemical names read for the heading their structure implies (HS chapters 28 and 29).

Why: customs rulings name chemicals by structure ("2-methyl-2-butene", "4,4'-diaminodiphenyl
sulfone"), by CAS number or by a salt's two words ("calcium hypochlorite"). The encoder and the
corpus cannot know every compound, but chapter 29 is ordered by functional group and chapter 28
by element and anion, so the name itself says the heading. This module reads it:

- **Organic names** are split into morphemes (``_MORPHEMES``: multipliers, carbon-chain stems,
  rings, substituent prefixes, functional suffixes, trivial names) by a dynamic programme that
  must cover the whole word; a word that does not split is not a chemical word, which keeps
  "metal", "phone" or "decal" out. Each functional group maps to its chapter 29 heading, a few
  combinations to the heading that provides for them (amine + oxygen function -> 2922, acid +
  other oxygen function -> 2918, alcohol on an aromatic ring -> phenol 2907), and **Note 3 to
  chapter 29** decides the rest: a compound that could fall in two or more headings goes to the
  last of them in numerical order.
- **Inorganic names**: an element alone (2801-2805), an acid named in 2806-2811, or a cation word
  and an anion word ("sodium hypochlorite" -> 2828, the anion's heading; oxides and hydroxides by
  metal, 2815-2825). Precious-metal, rare-earth, radioactive and mercury compounds go to
  2843/2846/2844/2852, organic or not (their headings come first by the chapter 28 note).
- **Exclusions written in the notes** (methane and propane 2711, ethyl alcohol 2207, urea and
  fertiliser salts 3102-3105, sodium chloride 2501, sucrose 1701, glucose, fructose, lactose,
  maltose 1702) are a short table.
- **State** (HS chapter notes: chapters 28 and 29 hold separate, chemically defined compounds):
  "in bulk", "powder", "technical grade" keep the compound's heading; "tablets", "capsules",
  "dosage", "for retail sale" move a medicinal compound to 3004; "mixture", "preparation",
  "formulation" move it to chapter 38. A valid **CAS number** (check digit verified) marks a single
  compound, so a name the reader cannot parse still implies chapters 28-29.
- Polymers ("poly...", "copolymer", "resin") are chapter 39 and are not read.

Pure functions, no network, no third-party chemistry package: a hand-written reader.

**Wired in as a rule after ranking**: ``apply_to_hints`` (one call in ``hinter.Hinter.hint``)
brings the heading a parsed name implies into the first three hints, method ``chem-name``. The
ranker does not read the reader: as a feature (``chem_agree``) and as a candidate source (the
implied heading added in ``ranker._build_block``) it cost hs_dev a row without lifting CBP
validation, twice, so both hooks were deleted (figures in docs/nlp.md, "Chemical names").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .nomenclature import get, wording

# --- CAS numbers -----------------------------------------------------------------------------
_CAS = re.compile(r"(?<![\d-])(\d{2,7})-(\d{2})-(\d)(?![\d-])")


def cas_valid(cas: str) -> bool:
    """True when a CAS registry number's check digit is right.

    The check digit is the sum of the other digits, read from the right, each times its position
    (1, 2, 3 ...), modulo 10: 86-73-7 is valid (3x1 + 7x2 + 6x3 + 8x4 = 67).
    """
    m = re.fullmatch(r"(\d{2,7})-(\d{2})-(\d)", cas.strip())
    if not m:
        return False
    digits = (m.group(1) + m.group(2))[::-1]
    return sum((i + 1) * int(d) for i, d in enumerate(digits)) % 10 == int(m.group(3))


def find_cas(text: str) -> list[str]:
    """Valid CAS numbers in a text (an invalid check digit is a part number or a date, not CAS)."""
    return [m.group(0) for m in _CAS.finditer(text or "") if cas_valid(m.group(0))]


# --- organic morphemes -----------------------------------------------------------------------
# Tags: the functional group (or ring class) each morpheme names. "arom" marks an aromatic ring,
# "cyc" any other carbocycle, "chain" a carbon chain; they decide 2901/2902, alcohol/phenol and
# the acid headings. A tag beginning with a digit is a heading the morpheme alone implies.
_MULT = ("mono", "di", "tri", "tetra", "penta", "hexa", "hepta", "octa", "nona", "deca", "bis",
         "tris", "tetrakis", "hemi", "sesqui", "per", "iso", "neo", "tert", "sec", "cis", "trans")
_CHAIN = ("meth", "eth", "prop", "but", "pent", "hex", "hept", "oct", "non", "dec", "undec",
          "dodec", "tridec", "tetradec", "pentadec", "hexadec", "heptadec", "octadec", "eicos",
          "icos", "docos")
_SATURATION = ("an", "en", "yn", "adien", "atrien", "dien", "trien", "enyn")

_MORPHEMES: dict[str, tuple[str, ...]] = {}


def _add(tags: tuple[str, ...], *words: str) -> None:
    for w in words:
        _MORPHEMES[w] = tags


_add(("mult",), *_MULT)
for _s in _CHAIN:
    for _sat in _SATURATION:
        _add(("chain", "sat_" + _sat), _s + _sat)
    _add(("chain", "yl"), _s + "yl", _s + "ylene", _s + "ylidene")
    _add(("chain", "ether"), _s + "oxy", _s + "oxide")
_add(("chain", "yl"), "vinyl", "allyl", "isopropyl", "isobutyl", "isoamyl", "amyl", "lauryl",
     "stearyl", "cetyl", "oleyl", "myristyl", "palmityl", "capryl", "propargyl", "methine")
_add(("chain",), "acet", "form", "propion", "butyr", "valer", "capro", "capryl", "capr", "laur",
     "myrist", "palmit", "stear", "ole", "linole", "acryl", "methacryl", "croton", "sorb")
_add(("chain", "acyl"), "acetyl", "formyl", "propionyl", "butyryl", "acryloyl", "methacryloyl")
_add(("arom", "acyl"), "benzoyl", "phthaloyl", "toluoyl")
_add(("arom", "yl"), "phenyl", "benzyl", "tolyl", "xylyl", "naphthyl", "benzylidene",
     "phenylene", "phenethyl", "cinnamyl", "cumyl", "trityl", "mesityl", "anthryl", "biphenylyl", "styryl")
_add(("arom",), "benz", "benzen", "benzene", "phen", "naphth", "naphthalen", "naphthalene",
     "anthracen", "anthracene", "tolu", "toluene", "xylen", "xylene", "styrene", "cumene",
     "cymene", "mesitylene", "durene", "biphenyl", "terphenyl", "stilbene", "fluorene",
     "fluoren", "phenanthrene", "phenanthren", "pyrene", "chrysene", "indene", "indan",
     "azulene", "acenaphthene", "acenaphthylene", "tetralin", "anthr", "phenanthr",
     "fluoranthene", "benzopyrene", "cinnam", "phthal", "terephthal", "isophthal")
_add(("chain",), "adip", "adipo", "succin", "glutar", "male", "fumar", "malon", "oxal", "sebac")
_add(("cyc", "sat_an"), "cyclopropan", "cyclobutan", "cyclopentan", "cyclohexan", "cycloheptan",
     "cyclooctan", "cyclododecan")
_add(("cyc", "sat_en"), "cyclohexen", "cyclopentadien", "cyclooctadien")
_add(("cyc",), "cyclo", "cyclohexyl", "cyclopentyl", "adamant",
     "decalin", "pinene", "camphene", "limonene", "terpinene", "menth", "born", "norborn",
     "camph", "ionone", "carvone")
# substituent prefixes
_add(("halo",), "fluoride", "chloride", "bromide", "iodide", "fluoro", "chloro", "bromo", "iodo", "fluor", "chlor", "brom", "iod", "perfluoro",
     "trifluoromethyl", "trichloromethyl", "halo")
_add(("nitro",), "nitro", "nitroso", "dinitro", "trinitro")
_add(("sulfo",), "sulfo", "sulfonic", "sulfonate", "sulfonat", "sulfinic")
_add(("oh",), "hydroxy", "hydroxyl")
_add(("oxo",), "oxo", "keto")
_add(("ether",), "oxy", "phenoxy", "benzyloxy", "alkoxy", "ethoxylate", "ethoxylated")
_add(("epoxy",), "epoxy", "oxiran", "oxirane", "glycid", "glycidyl", "epoxide")
_add(("amine",), "amino", "amine", "amin", "imino", "ammonio", "amido", "diamine", "triamine")
_add(("amine", "arom"), "anilin", "aniline", "anilino", "toluidine", "xylidine")
_add(("quat",), "ammonium", "onium", "alkonium")
_add(("ether",), "ether")
_add(("amide",), "amide", "amid", "carbamoyl", "carboxamide", "anilide", "ureido", "urea",
     "carbamate", "carbamic", "ureide")
_add(("amide", "chain"), "acetamido", "acetamide", "formamide")
_add(("amide", "arom"), "acetanilide")
_add(("imide",), "imide", "imid", "imine", "guanidino", "amidine", "imidic")
_add(("imide", "compound"), "guanidine")
_add(("nitrile",), "nitrile", "cyano", "carbonitrile")
_add(("nitrile", "chain"), "acetonitrile", "acrylonitrile")
_add(("azo",), "azo", "diazo", "azoxy", "diazonium", "hydrazo")
_add(("azo", "arom"), "azobenzene")
_add(("hydrazine",), "hydrazine", "hydrazide", "hydrazone", "hydrazino", "hydroxylamine",
     "hydrazin", "semicarbazide", "oxime")
_add(("isocyanate",), "isocyanate", "isocyanat", "isocyanato", "isothiocyanate")
_add(("sulfur",), "thio", "thi", "mercapto", "sulfanyl", "sulfide", "sulfid", "disulfide",
     "sulfone", "sulfon", "sulfonyl", "sulfoxide", "sulfinyl", "thiol", "thiocarbamate",
     "dithiocarbamate", "thioether", "thionyl", "sulfonio")
_add(("sulfur", "compound"), "thiourea", "methionine", "cysteine", "cystine")
_add(("metal_org",), "silyl", "silane", "siloxane", "silanol", "silan", "stannyl", "stannane",
     "plumb", "boronic", "phosphonic", "phosphonate", "phosphine", "phosphino", "ferrocene",
     "arsonic")
_add(("phosphate_ester",), "phosphoryl", "phospho")
# suffixes
_add(("suffix", "ane"), "e")                     # -ane / -ene / -yne: the hydrocarbon itself
_add(("suffix", "oh"), "ol", "diol", "triol", "tetrol", "glycerol", "glycerin",
     "alcohol", "carbinol")
_add(("suffix", "oh", "chain"), "glycol")
_add(("suffix", "aldehyde"), "al", "dial", "aldehyde", "carbaldehyde", "carboxaldehyde")
_add(("suffix", "ketone"), "one", "dione", "trione", "ketone", "phenone", "quinone", "ketene")
_add(("suffix", "acid"), "oic", "ic", "carboxylic", "anoic", "oate", "ate", "ester", "anhydride",
     "oyl")
_add(("suffix", "polyacid"), "dioic", "dicarboxylic", "tricarboxylic", "dioate", "tetracarboxylic")
_add(("suffix", "amine"), "ylamine")
# phenols and other trivial ring names
_add(("arom", "suffix", "phenol"), "phenol", "cresol", "xylenol", "naphthol", "resorcinol",
     "catechol", "hydroquinone", "pyrogallol", "thymol", "carvacrol", "bisphenol", "guaiacol",
     "eugenol", "phloroglucinol", "anthranol")
# heterocycles
_add(("het_o",), "furan", "furfur", "furfuryl", "furyl", "pyran", "pyranyl", "dioxan",
     "dioxane", "dioxol", "dioxolane", "coumarin", "chromen", "chroman", "benzofuran",
     "lactone", "olide", "xanthene", "oxetane", "oxolane", "tetrahydrofuran", "safrole",
     "piperonal", "benzodioxol", "benzodioxole", "flavone", "isobenzofuran", "phthalide", "trioxan")
_add(("het_n",), "pyrrol", "pyrrole", "pyrrolidine", "pyrrolidin", "pyrrolidone", "pyrrolidinone",
     "pyrazol", "pyrazole", "pyrazolone", "imidazol", "imidazole", "imidazolidine", "imidazoline",
     "pyridin", "pyridine", "pyridyl", "pyridinyl", "picoline", "lutidine", "piperidin",
     "piperidine", "piperidyl", "pyrimidin", "pyrimidine", "pyrimidinyl", "piperazin",
     "piperazine", "pyrazin", "pyrazine", "pyridazine", "triazin", "triazine", "triazol",
     "triazole", "tetrazol", "tetrazole", "indol", "indole", "indolyl", "indoline", "isoindol",
     "quinolin", "quinoline", "isoquinolin", "isoquinoline", "quinoxaline", "quinazolin",
     "quinazoline", "acridin", "acridine", "carbazol", "carbazole", "purin", "purine", "pteridin",
     "pteridine", "pteridinyl", "azepin", "azepine", "diazepin", "diazepine", "lactam",
     "caprolactam", "hydantoin", "benzimidazol", "benzimidazole", "benzotriazol", "benzotriazole",
     "melamine", "pyrrolizidine", "aziridin", "aziridine", "azetidin", "indazol", "indazole",
     "naphthyridine", "phenazine", "pyridone", "pyrimidinone", "barbituric", "uracil",
     "cytosine", "quinuclidin", "tropane", "azabicyclo", "bipyridyl", "porphyrin",
     "triazinyl", "imidazolyl", "quinolinyl", "pyrazolyl", "piperazinyl", "piperidinyl")
_add(("het_x",), "thiazol", "thiazole", "thiazolyl", "isothiazol", "benzothiazol",
     "benzothiazole", "benzothiazyl", "thiazyl", "thiophen", "thiophene", "thienyl", "phenothiazine", "oxazol", "oxazole",
     "isoxazol", "isoxazole", "oxazolidin", "oxazolidinone", "oxazine", "thiazine",
     "morpholin", "morpholine", "morpholino", "thiadiazol", "thiadiazole", "oxadiazol",
     "oxadiazole", "benzoxazol", "benzoxazole", "thiazolidin", "thiazolidine", "dithiane",
     "nucleic", "nucleotide", "nucleoside", "thiazin", "phenoxazine", "benzisothiazol", "sultone",
     "penam", "cepham")
_add(("sulfonamide",), "sulfonamide", "sulfonamido", "sulfamoyl", "sulfamide", "sulfanilamide",
     "sulfamethoxazole", "sulfadiazine", "sulfaguanidine")
# words that carry no function but may sit inside a name
_add(("filler",), "yl", "ylidene", "ylene", "o", "a", "ium")  # linking vowels ("benz-o-triazole")

_MAX_MORPHEME = max(len(m) for m in _MORPHEMES)
# Every beginning of a morpheme: the split stops lengthening a piece as soon as it begins none
# (most words leave the table after two or three letters; the pieces tried are the same).
_MORPHEME_STARTS = frozenset(m[:k] for m in _MORPHEMES for k in range(1, len(m) + 1))

# Trivial names (whole words, or the head word of a two-word name) with their heading; these are
# read before any morpheme split. Codes written out here are HS 2022 headings (checked by tests).
TRIVIAL = {
    # exclusions by the chapter notes (chapter 29 note 2, chapter 28 note 2, chapter 31)
    "methane": "2711", "propane": "2711", "ethanol": "2207", "ethyl alcohol": "2207",
    "urea": "3102", "sodium chloride": "2501", "sucrose": "1701", "glucose": "1702",
    "dextrose": "1702", "fructose": "1702", "lactose": "1702", "maltose": "1702",
    "ammonium sulfate": "3102", "ammonium nitrate": "3102", "potassium chloride": "3104",
    "potassium sulfate": "3104", "diammonium phosphate": "3105", "monoammonium phosphate": "3105",
    "crude glycerin": "1520", "crude glycerol": "1520", "crude glycerine": "1520",
    "calcium oxide": "2522", "ammonium hydroxide": "2814", "aqua ammonia": "2814",
    "benzol": "2902", "toluol": "2902", "xylol": "2902", "diethylene glycol": "2909",
    "triethylene glycol": "2909", "dipropylene glycol": "2909", "anthranilic acid": "2922",
    "phthalimide": "2925", "succinimide": "2925", "vinyl cyanide": "2926",
    "stearic acid": "", "oleic acid": "", "palmitic acid": "", "lauric acid": "",
    "myristic acid": "", "calcium hydroxide": "2522", "quicklime": "2522",
    # heading 2801-2853 named compounds
    "ammonia": "2814", "hydrogen peroxide": "2847", "hydrazine": "2825", "hydroxylamine": "2825",
    "carbon dioxide": "2811", "silicon dioxide": "2811", "silica": "2811", "sulfur dioxide": "2811",
    "hydrogen fluoride": "2811", "hydrofluoric acid": "2811", "hydrogen cyanide": "2811",
    "hydrogen chloride": "2806", "hydrochloric acid": "2806", "chlorosulfonic acid": "2806",
    "sulfuric acid": "2807", "oleum": "2807", "nitric acid": "2808", "phosphoric acid": "2809",
    "polyphosphoric acid": "2809", "phosphorus pentoxide": "2809", "boric acid": "2810",
    "boron oxide": "2810", "carbon black": "2803", "activated carbon": "3802",
    "phosphorus trichloride": "2812", "phosphorus oxychloride": "2812", "sulfur hexafluoride": "2812",
    "thionyl chloride": "2812", "silicon tetrachloride": "2812", "carbon disulfide": "2813",
    "caustic soda": "2815", "caustic potash": "2815", "alumina": "2818", "titania": "2823",
    "distilled water": "2853", "deionized water": "2853", "cyanamide": "2853",
    "sodium bicarbonate": "2836", "baking soda": "2836", "soda ash": "2836",
    # chapter 29 compounds whose names do not show their function
    "acetone": "2914", "carbolic acid": "2907", "ubiquinone": "2914", "ubidecarenone": "2914",
    "coenzyme q10": "2914", "methylal": "2911", "acetal": "2911", "camphor": "2914", "formalin": "2912", "vanillin": "2912",
    "ethylvanillin": "2912", "menthol": "2906", "cholesterol": "2906", "sorbitol": "2905",
    "mannitol": "2905", "glycerol": "2905", "glycerin": "2905", "glycerine": "2905", "xylitol": "2905", "pentaerythritol": "2905", "inositol": "2906",
    "glycine": "2922", "lysine": "2922", "glutamic acid": "2922", "monosodium glutamate": "2922",
    "aspartic acid": "2922", "tryptophan": "2933", "histidine": "2933", "proline": "2933",
    "threonine": "2922", "serine": "2922", "alanine": "2922", "valine": "2922", "leucine": "2922",
    "isoleucine": "2922", "tyrosine": "2922", "phenylalanine": "2922", "arginine": "2925",
    "creatine": "2925", "taurine": "2921", "betaine": "2923", "choline": "2923", "lecithin": "2923",
    "carnitine": "2923", "saccharin": "2925", "aspartame": "2924", "paracetamol": "2924",
    "acetaminophen": "2924", "ibuprofen": "2916", "aspirin": "2918", "acetylsalicylic acid": "2918",
    "edta": "2922", "caffeine": "2939", "nicotine": "2939", "theophylline": "2939",
    "theobromine": "2939", "quinine": "2939", "ephedrine": "2939", "pseudoephedrine": "2939",
    "morphine": "2939", "codeine": "2939", "atropine": "2939", "cocaine": "2939",
    "papaverine": "2939", "capsaicin": "2939", "alkaloid": "2939", "alkaloids": "2939",
    "vitamin": "2936", "vitamins": "2936", "provitamin": "2936", "ascorbic acid": "2936",
    "thiamine": "2936", "riboflavin": "2936", "niacin": "2936", "nicotinic acid": "2936",
    "nicotinamide": "2936", "niacinamide": "2936", "pantothenic acid": "2936",
    "panthenol": "2936", "pyridoxine": "2936", "biotin": "2936", "folic acid": "2936",
    "cyanocobalamin": "2936", "cobalamin": "2936", "tocopherol": "2936", "retinol": "2936",
    "cholecalciferol": "2936", "ergocalciferol": "2936", "menadione": "2936",
    "hormone": "2937", "hormones": "2937", "insulin": "2937", "estradiol": "2937",
    "testosterone": "2937", "progesterone": "2937", "cortisone": "2937", "hydrocortisone": "2937",
    "prednisolone": "2937", "prednisone": "2937", "dexamethasone": "2937", "epinephrine": "2937",
    "adrenaline": "2937", "thyroxine": "2937", "levothyroxine": "2937", "oxytocin": "2937",
    "somatotropin": "2937", "melatonin": "2937", "prostaglandin": "2937",
    "glycoside": "2938", "glycosides": "2938", "rutin": "2938", "digoxin": "2938",
    "stevioside": "2938", "rebaudioside": "2938", "saponin": "2938", "saponins": "2938",
    "xylose": "2940", "ribose": "2940", "galactose": "2940", "mannose": "2940",
    "rhamnose": "2940", "trehalose": "2940", "arabinose": "2940", "tagatose": "2940",
    "antibiotic": "2941", "antibiotics": "2941", "penicillin": "2941", "streptomycin": "2941",
    "tetracycline": "2941", "chloramphenicol": "2941", "erythromycin": "2941",
    "vancomycin": "2941", "rifampicin": "2941", "rifamycin": "2941",
    "maleic anhydride": "2917", "phthalic anhydride": "2917", "acetic anhydride": "2915",
    "ethylene oxide": "2910", "propylene oxide": "2910", "epichlorohydrin": "2910",
    "formaldehyde": "2912", "paraformaldehyde": "2912", "furfural": "2932", "coumarin": "2932",
    "dimethyl sulfoxide": "2930", "dmso": "2930", "methionine": "2930", "cysteine": "2930",
    "cystine": "2930", "dimethylformamide": "2924", "caprolactam": "2933", "melamine": "2933",
    "hexamine": "2933", "methenamine": "2933", "hydantoin": "2933",
}
# Stems of international non-proprietary names for antibiotics (WHO INN stem list).
_ANTIBIOTIC_STEM = re.compile(r"^(?:[a-z]{2,}(?:cillin|mycin|micin|cycline|floxacin)|cef[a-z]{4,})$")
# Carboxylic acids by their trivial stem: which of 2915-2918 (saturated acyclic monocarboxylic,
# unsaturated or cyclic monocarboxylic, polycarboxylic, with another oxygen function).
ACID_STEMS = {
    "formic": "2915", "acetic": "2915", "propionic": "2915", "butyric": "2915",
    "isobutyric": "2915", "valeric": "2915", "caproic": "2915", "caprylic": "2915",
    "capric": "2915", "lauric": "2915", "myristic": "2915", "palmitic": "2915", "stearic": "2915",
    "chloroacetic": "2915", "trichloroacetic": "2915", "trifluoroacetic": "2915",
    "acrylic": "2916", "methacrylic": "2916", "crotonic": "2916", "oleic": "2916",
    "linoleic": "2916", "linolenic": "2916", "sorbic": "2916", "benzoic": "2916",
    "phenylacetic": "2916", "cinnamic": "2916", "undecylenic": "2916", "naphthenic": "2916",
    "oxalic": "2917", "malonic": "2917", "succinic": "2917", "glutaric": "2917", "adipic": "2917",
    "azelaic": "2917", "sebacic": "2917", "maleic": "2917", "fumaric": "2917", "itaconic": "2917",
    "phthalic": "2917", "isophthalic": "2917", "terephthalic": "2917", "trimellitic": "2917",
    "lactic": "2918", "tartaric": "2918", "citric": "2918", "gluconic": "2918", "malic": "2918",
    "glycolic": "2918", "salicylic": "2918", "acetylsalicylic": "2918", "gallic": "2918",
    "glyoxylic": "2918", "pyruvic": "2918", "levulinic": "2918", "anisic": "2918",
    "mandelic": "2918", "hydroxybenzoic": "2918",
}
# Anions of organic acids named as salts or esters ("sodium acetate", "ethyl lactate").
_ORGANIC_ANIONS = {k[:-2] + "ate": v for k, v in ACID_STEMS.items() if k.endswith("ic")}
_ORGANIC_ANIONS.update({"stearate": "2915", "acrylate": "2916", "methacrylate": "2916",
                        "oleate": "2916", "benzoate": "2916", "sorbate": "2916",
                        "propionate": "2915", "butyrate": "2915", "laurate": "2915",
                        "palmitate": "2915", "myristate": "2915", "phthalate": "2917",
                        "terephthalate": "2917", "adipate": "2917", "maleate": "2917",
                        "fumarate": "2917", "succinate": "2917", "oxalate": "2917",
                        "citrate": "2918", "lactate": "2918", "tartrate": "2918",
                        "gluconate": "2918", "malate": "2918", "salicylate": "2918",
                        "glycolate": "2918", "acetate": "2915", "formate": "2915",
                        "glutamate": "2922", "aspartate": "2922", "ascorbate": "2936",
                        "pantothenate": "2936", "carbamate": "2924", "dithiocarbamate": "2930",
                        "xanthate": "2930", "edetate": "2922", "caprylate": "2915",
                        "cinnamate": "2916", "sebacate": "2917", "trimellitate": "2917",
                        "valerate": "2915", "caproate": "2915", "isobutyrate": "2915",
                        "orthophthalate": "2917", "isophthalate": "2917"})

# --- inorganic -------------------------------------------------------------------------------
# Cations (metal names and their -ous/-ic forms), each with its class.
_ALKALI = ("sodium", "potassium", "lithium", "calcium", "magnesium", "barium", "strontium",
           "caesium", "cesium", "rubidium", "beryllium")
_METALS = ("aluminium", "aluminum", "iron", "ferric", "ferrous", "copper", "cupric", "cuprous",
           "zinc", "nickel", "cobalt", "cobaltous", "chromium", "chromic", "manganese",
           "manganous", "lead", "plumbous", "tin", "stannous", "stannic", "titanium", "vanadium",
           "molybdenum", "tungsten", "bismuth", "antimony", "zirconium", "cadmium", "gallium",
           "germanium", "indium", "tantalum", "niobium")
_PRECIOUS = ("silver", "gold", "platinum", "palladium", "rhodium", "iridium", "osmium", "ruthenium")
_RARE_EARTH = ("cerium", "lanthanum", "neodymium", "yttrium", "scandium", "praseodymium",
               "samarium", "europium", "gadolinium", "terbium", "dysprosium", "erbium",
               "ytterbium", "lutetium", "holmium", "thulium")
_RADIOACTIVE = ("uranium", "thorium", "plutonium", "radium", "radon", "polonium", "americium")
_OTHER_CATIONS = ("ammonium", "hydrogen", "silicon", "boron")
CATIONS = set(_ALKALI + _METALS + _PRECIOUS + _RARE_EARTH + _RADIOACTIVE + _OTHER_CATIONS
              + ("mercury", "mercuric", "mercurous"))
_METAL_CANON = {"aluminum": "aluminium", "ferric": "iron", "ferrous": "iron", "cupric": "copper",
                "cuprous": "copper", "cobaltous": "cobalt", "chromic": "chromium",
                "manganous": "manganese", "plumbous": "lead", "stannous": "tin", "stannic": "tin",
                "mercuric": "mercury", "mercurous": "mercury", "cesium": "caesium"}
# Anion word -> heading (chapter 28's own order: 2826-2842, 2849-2853).
ANIONS = {
    "fluoride": "2826", "fluorosilicate": "2826", "fluoroaluminate": "2826", "cryolite": "2826",
    "chloride": "2827", "bromide": "2827", "iodide": "2827", "oxychloride": "2827",
    "hypochlorite": "2828", "chlorite": "2828", "hypobromite": "2828",
    "chlorate": "2829", "perchlorate": "2829", "bromate": "2829", "iodate": "2829",
    "periodate": "2829", "sulfide": "2830", "polysulfide": "2830", "hydrosulfide": "2830",
    "dithionite": "2831", "hydrosulfite": "2831", "sulfoxylate": "2831",
    "sulfite": "2832", "bisulfite": "2832", "metabisulfite": "2832", "thiosulfate": "2832",
    "sulfate": "2833", "bisulfate": "2833", "alum": "2833", "persulfate": "2833",
    "peroxosulfate": "2833", "nitrite": "2834", "nitrate": "2834",
    "hypophosphite": "2835", "phosphinate": "2835", "phosphite": "2835", "phosphate": "2835",
    "polyphosphate": "2835", "pyrophosphate": "2835", "tripolyphosphate": "2835",
    "hexametaphosphate": "2835", "diphosphate": "2835", "orthophosphate": "2835",
    "carbonate": "2836", "bicarbonate": "2836", "percarbonate": "2836",
    "cyanide": "2837", "ferrocyanide": "2837", "ferricyanide": "2837",
    "silicate": "2839", "metasilicate": "2839", "borate": "2840", "perborate": "2840",
    "tetraborate": "2840", "chromate": "2841", "dichromate": "2841", "manganate": "2841",
    "permanganate": "2841", "molybdate": "2841", "tungstate": "2841", "vanadate": "2841",
    "aluminate": "2841", "zincate": "2841", "titanate": "2841", "stannate": "2841",
    "ferrate": "2841", "zirconate": "2841", "aluminosilicate": "2842", "selenate": "2842",
    "selenite": "2842", "arsenate": "2842", "thiocyanate": "2842", "cyanate": "2842",
    "carbide": "2849", "hydride": "2850", "nitride": "2850", "azide": "2850", "silicide": "2850",
    "boride": "2850", "phosphide": "2853",
    # oxides, hydroxides, peroxides: by metal (below)
    "oxide": "oxide", "hydroxide": "oxide", "peroxide": "oxide", "dioxide": "oxide",
    "trioxide": "oxide", "monoxide": "oxide", "tetroxide": "oxide", "pentoxide": "oxide",
    "sesquioxide": "oxide", "hydrate": "", "orthophosphate_": "2835",
}
_OXIDE_BY_METAL = {"sodium": "2815", "potassium": "2815", "magnesium": "2816", "strontium": "2816",
                   "barium": "2816", "zinc": "2817", "aluminium": "2818", "chromium": "2819",
                   "manganese": "2820", "iron": "2821", "cobalt": "2822", "titanium": "2823",
                   "lead": "2824"}
# Elements alone: 2801 halogens, 2802 sulphur, 2803 carbon, 2804 other non-metals and rare gases,
# 2805 alkali, alkaline-earth and rare-earth metals and mercury. Metals of section XV are not
# here: "copper", "zinc" alone are the metal (chapters 74-81), not a chemical.
ELEMENTS = {"fluorine": "2801", "chlorine": "2801", "bromine": "2801", "iodine": "2801",
            "sulfur": "2802", "carbon": "2803", "hydrogen": "2804", "argon": "2804",
            "helium": "2804", "neon": "2804", "krypton": "2804", "xenon": "2804",
            "nitrogen": "2804", "oxygen": "2804", "boron": "2804", "tellurium": "2804",
            "silicon": "2804", "phosphorus": "2804", "arsenic": "2804", "selenium": "2804",
            "sodium": "2805", "lithium": "2805", "calcium": "2805", "strontium": "2805",
            "barium": "2805", "potassium": "2805", "caesium": "2805", "rubidium": "2805",
            "mercury": "2805", "yttrium": "2805", "scandium": "2805", "cerium": "2805",
            "lanthanum": "2805", "neodymium": "2805"}
_ORGANIC_RADICALS = {"methyl", "ethyl", "propyl", "isopropyl", "butyl", "isobutyl", "tert-butyl",
                     "pentyl", "amyl", "hexyl", "heptyl", "octyl", "2-ethylhexyl", "ethylhexyl",
                     "nonyl", "decyl", "dodecyl", "lauryl", "cetyl", "stearyl", "vinyl", "allyl",
                     "phenyl", "benzyl", "cresyl", "tolyl", "cyclohexyl", "glyceryl", "dimethyl",
                     "diethyl", "dibutyl", "dioctyl", "diisononyl", "diisodecyl", "triphenyl",
                     "tributyl", "triethyl", "trimethyl", "tricresyl", "diisopropyl", "diallyl",
                     "methylene", "ethylene", "propylene", "acetyl", "benzoyl", "isooctyl",
                     "diphenyl", "tris(2-chloroethyl)", "tetraethyl", "tetramethyl"}
# Esters of inorganic acids: phosphoric -> 2919; other inorganic acids of non-metals -> 2920.
_ESTER_ANIONS = {"phosphate": "2919", "phosphite": "2920", "sulfate": "2920", "sulfite": "2920",
                 "carbonate": "2920", "nitrate": "2920", "nitrite": "2920", "thiophosphate": "2920",
                 "borate": "2920", "silicate": "2920", "orthosilicate": "2920"}
# Acyl or alkyl + halide, or + oxide: organic ("acetyl chloride" is an acid halide, "methylene
# chloride" a halogenated hydrocarbon, "ethylene oxide" an epoxide).
_HALIDES = {"fluoride", "chloride", "bromide", "iodide"}

INORGANIC_ACIDS = {"hydrochloric", "sulfuric", "nitric", "phosphoric", "boric", "hydrofluoric",
                   "chlorosulfonic", "perchloric", "hydrobromic", "hydroiodic", "sulfamic", "silicic",
                   "chromic", "hydrocyanic", "selenic", "nitrous", "sulfurous", "polyphosphoric"}

# Chemical formulas ("Li2CO3", "Mg(OH)2", "KMnO4"): a metal symbol, then an anion group.
_SYMBOLS = {"Li": "lithium", "Na": "sodium", "K": "potassium", "Rb": "rubidium", "Cs": "caesium",
            "Be": "beryllium", "Mg": "magnesium", "Ca": "calcium", "Sr": "strontium", "Ba": "barium",
            "Al": "aluminium", "Fe": "iron", "Cu": "copper", "Zn": "zinc", "Ni": "nickel",
            "Co": "cobalt", "Cr": "chromium", "Mn": "manganese", "Pb": "lead", "Sn": "tin",
            "Ti": "titanium", "V": "vanadium", "Mo": "molybdenum", "W": "tungsten", "Bi": "bismuth",
            "Sb": "antimony", "Zr": "zirconium", "Cd": "cadmium", "Ag": "silver", "Au": "gold",
            "Pt": "platinum", "Pd": "palladium", "Ce": "cerium", "La": "lanthanum", "Nd": "neodymium",
            "Y": "yttrium", "U": "uranium", "Th": "thorium", "Hg": "mercury", "NH4": "ammonium",
            "Si": "silicon"}
_GROUPS = {"CO3": "carbonate", "HCO3": "bicarbonate", "SO4": "sulfate", "HSO4": "bisulfate",
           "SO3": "sulfite", "S2O3": "thiosulfate", "S2O4": "dithionite", "S2O5": "metabisulfite",
           "S2O8": "persulfate", "NO3": "nitrate", "NO2": "nitrite", "PO4": "phosphate",
           "HPO4": "phosphate", "H2PO4": "phosphate", "P2O7": "pyrophosphate",
           "P3O10": "tripolyphosphate", "Cl": "chloride", "F": "fluoride", "Br": "bromide",
           "I": "iodide", "O": "oxide", "OH": "hydroxide", "S": "sulfide", "CN": "cyanide",
           "MnO4": "permanganate", "Cr2O7": "dichromate", "CrO4": "chromate", "ClO": "hypochlorite",
           "OCl": "hypochlorite", "ClO2": "chlorite", "ClO3": "chlorate", "ClO4": "perchlorate",
           "SiO3": "silicate", "B4O7": "borate", "BO3": "borate", "C": "carbide", "N": "nitride",
           "H": "hydride", "SiF6": "fluorosilicate", "MoO4": "molybdate", "WO4": "tungstate",
           "AlO2": "aluminate", "HF2": "fluoride", "SCN": "thiocyanate"}
# Formulas of non-metal compounds named in chapter 28's headings.
FORMULAS = {"CO2": "2811", "N2O": "2811", "SO2": "2811", "SiO2": "2811", "HF": "2811",
            "HCl": "2806", "H2SO4": "2807", "HNO3": "2808", "H3PO4": "2809", "P2O5": "2809",
            "H3BO3": "2810", "B2O3": "2810", "NH3": "2814", "H2O2": "2847", "D2O": "2845",
            "PCl3": "2812", "POCl3": "2812", "PCl5": "2812", "SF6": "2812", "CS2": "2813",
            "NaCl": "2501", "KCl": "3104"}
_FORMULA = re.compile(r"(?:NH4|[A-Z][a-z]?\d*|\((?:[A-Z][a-z]?\d*)+\)\d*)+(?:[·.]\d*H2O)?")


def formula_heading(token: str) -> str | None:
    """Heading of a formula written in the text ("Li2CO3" -> 2836, "KMnO4" -> 2841), or None.

    Case matters (a formula is not an upper-case acronym): the token must split into element
    symbols, start with a metal (or NH4), and the rest must be one known anion group.
    """
    if token.islower():  # no capital letter: every formula (and every key of FORMULAS) has one
        return None
    token = token.strip()
    if token in FORMULAS:
        return FORMULAS[token]
    if not _FORMULA.fullmatch(token) or len(token) < 2:
        return None
    token = re.sub(r"[·.]\d*H2O$", "", token)
    m = re.match(r"(NH4|[A-Z][a-z]?)(\d*)", token)
    if not m or m.group(1) not in _SYMBOLS:
        return None
    rest = token[m.end():].replace("(", "").replace(")", "")
    rest = re.sub(r"^((?:[A-Z][a-z]?))\d*$", r"\1", rest)   # Cl2 -> Cl, O3 -> O
    rest = re.sub(r"^(OH|CN|NO3|HCO3|ClO)\d*$", r"\1", rest)  # (OH)2 -> OH
    anion = _GROUPS.get(rest)
    if not anion or (m.group(1) == "Si" and anion not in ("carbide", "nitride")):
        return None
    code, _ = _inorganic([_SYMBOLS[m.group(1)], anion])
    return code


# --- state of the goods ----------------------------------------------------------------------
_DOSE = re.compile(r"\b(?:tablets?|capsules?|caplets?|softgels?|gelcaps?|lozenges?|dosages?|doses?|"
                   r"dosed|\d+(?:\.\d+)?\s?(?:mg|mcg|µg|iu)|injectables?|injections?|"
                   r"ointments?|creams?|suppositor(?:y|ies)|vials?|ampoules?|for retail sale|"
                   r"put up for retail|blisters?)\b", re.I)
_IN_BULK = re.compile(r"\bin bulk\b|\bbulk (?:powder|form|active|drug)", re.I)
_BULK = re.compile(r"\b(?:in bulk|bulk|powder(?:ed)?|crystals?|crystalline|flakes|granular|"
                   r"technical grade|tech(?:nical)? grade|reagent grade|industrial grade|"
                   r"usp|chemically (?:pure|defined)|purity|\d{2}(?:\.\d+)?\s?% pure|anhydrous|"
                   r"drums?|totes?|intermediate)\b", re.I)
_MIXTURE = re.compile(r"\b(?:mixtures?|mixed with|blends?|blended|preparations?|formulations?|"
                      r"formulated|compounded|premix(?:es)?|masterbatch|fatty (?:alcohols?|acids?))\b", re.I)
# Two or more monomers named together are a copolymer ("ethylene vinyl acetate", ABS).
_MONOMER = r"(?:ethylene|propylene|styrene|butadiene|vinyl acetate|vinyl chloride|acrylonitrile|" \
           r"acrylates?|methacrylates?|isoprene|butylene)"
_COPOLYMER = re.compile(_MONOMER + r"[\s/-]+(?:and\s+)?" + _MONOMER + r"\b", re.I)
# Salts of long-chain alkyl sulfates / sulfonates are surface-active agents (heading 3402).
_SURFACTANT = re.compile(r"\b(?:lauryl|laureth|dodecyl|dodecylbenzene|cetyl|cetearyl|stearyl|myristyl|"
                         r"tridecyl|alkyl|alkylbenzene|olefin|coco)\b.{0,30}\bsulf(?:on)?ates?\b", re.I)
_POLYMER = re.compile(r"\b(?:poly(?!cyclic|amine|meri[sz]|phosph|sulf|hydric|ols?\b|carboxylic|halo|chloro|fluoro|nuclear)[a-z(]\S*|co-?polymers?|polymers?|resins?|homopolymers?|"
                      r"oligomers?|elastomers?|rubbers?|latex|silicones?|cellulose|pvc|hdpe|ldpe|"
                      r"abs|eva|pet|pmma|nylon)\b", re.I)
# Where the product's own name ends and its use, destination or other ingredients begin: a
# compound named after these words is an ingredient ("sunscreen with zinc oxide").
_HEAD_END = re.compile(r"\b(?:with|containing|contains|for|used|plus|including|"
                       r"incorporating|infused|enriched|mixed|blended|applied|designed|into|"
                       r"that|which|without|on|in (?!bulk))\b", re.I)


@dataclass(frozen=True)
class ChemReading:
    """What a text's chemical name implies.

    ``heading``: the 4-digit heading the name's structure implies (after the state signals and
    Note 3), or None; ``chapter``: its chapter, or the chapter alone when no heading is known
    (a CAS number with a name the reader cannot parse, or a mixture); ``name``: the words read;
    ``groups``: the headings of the functional groups found, before Note 3; ``state``: "bulk",
    "dose", "mixture" or ""; ``cas``: valid CAS numbers in the text; ``why``: one line.
    """

    heading: str | None = None
    chapter: str | None = None
    name: str = ""
    groups: tuple[str, ...] = ()
    state: str = ""
    cas: tuple[str, ...] = ()
    why: str = ""
    compound: str | None = field(default=None, compare=False)  # the compound's own heading

    def __bool__(self) -> bool:
        return bool(self.chapter)


# --- the organic reader ----------------------------------------------------------------------
_LOCANT = re.compile(r"(?:(?<![a-z])(?:\d+[a-z]?'*(?:,\d+[a-z]?'*)*|[nosp]|[nos],[nos]'?|sec|tert|"
                     r"t|n|i|m|o|p|cis|trans|[rsezdl]|dl|alpha|beta|gamma|delta|omega|[α-ω])-)",
                     re.I)


def _us_spelling(word: str) -> str:
    """Lower case, "sulph" and "aluminium" in US spelling (inside words too: "sulphonyl")."""
    return word.lower().replace("sulph", "sulf").replace("aluminium", "aluminum")


def _flatten(word: str) -> str:
    """A chemical word without locants, stereo marks, brackets and hyphens, in US spelling."""
    if word.isalpha():  # nothing below can match in a word of letters only (each needs a mark or digit)
        return _us_spelling(word)
    w = _us_spelling(word)
    w = re.sub(r"\((?:[rsez+\-±]|\d+[rsez]?(?:,\d+[rsez]?)*)\)-?", "", w)   # (E)-, (2R,3S)-
    w = _LOCANT.sub("", w)
    w = re.sub(r"[\[\]\(\)\{\}'′,\-\s]|\d", "", w)
    return w


@lru_cache(maxsize=65536)
def segment(word: str) -> tuple[str, ...] | None:
    """The word split into ``_MORPHEMES`` (fewest pieces), or None when it does not split.

    The whole word must be covered, and it must hold at least one morpheme that names a chemical
    class (a chain, ring, function or heterocycle), so "diode" or "decal" is not a chemical.
    """
    w = _flatten(word)
    if len(w) > 5 and w.endswith("s") and not w.endswith(("ss", "us", "is")) and w not in _MORPHEMES:
        single = segment(word[:-1])  # "toluidines", "xylenes": a plural names the same class
        if single is not None:
            return single
    n = len(w)
    if n < 4 or not w.isalpha():
        return None
    best: list[tuple[int, tuple[str, ...]] | None] = [None] * (n + 1)
    best[0] = (0, ())
    for i in range(n):
        if best[i] is None:
            continue
        cost, parts = best[i]
        for j in range(i + 1, min(n, i + _MAX_MORPHEME) + 1):
            piece = w[i:j]
            if piece not in _MORPHEME_STARTS:
                break  # no longer piece from i is a morpheme either
            if piece in _MORPHEMES:
                c = cost + (3 if _MORPHEMES[piece][0] == "filler" else 1)
                if best[j] is None or c < best[j][0]:
                    best[j] = (c, parts + (piece,))
    if best[n] is None:
        return None
    parts = best[n][1]
    kinds = [_MORPHEMES[p] for p in parts]
    if not _well_formed(parts, kinds):
        return None
    return parts


_CLASS_TAGS = {"chain", "arom", "cyc", "het_o", "het_n", "het_x", "sulfonamide", "compound"}


def _well_formed(parts: tuple[str, ...], kinds: list[tuple[str, ...]]) -> bool:
    """Grammar checks on a split: a filler never starts a word, "-e" closes only a saturation
    infix ("but-en-e"), and -ol / -al / -one / -ic / -ate follow a chain with its infix ("ethan-ol",
    not "dec-al"), a ring, a heterocycle or a multiplier ("-di-ol"); at least one piece names a
    chain, ring, function or heterocycle."""
    if kinds[0][0] == "filler" or not any(t[0] not in ("mult", "filler") for t in kinds):
        return False
    if kinds[-1][0] in ("mult", "filler"):
        return False
    for k, (p, t) in enumerate(zip(parts, kinds)):
        prev = kinds[k - 1] if k else ()
        if p == "e" and not any(x.startswith("sat_") for x in prev):
            return False
        if p in ("al", "ol", "one", "ic", "ate", "oic", "oate"):
            if not prev:
                return False
            if "chain" in prev and not any(x.startswith("sat_") for x in prev) and p in ("al", "ol", "one"):
                return False
            if not (set(prev) & (_CLASS_TAGS | {"mult", "suffix"})):
                return False
    return True


def _groups(words: list[str]) -> tuple[set[str], set[str], bool]:
    """Tags of the morphemes of a multi-word name, the ring classes, and whether an -ol or
    hydroxy sits on an aromatic ring (a phenol)."""
    tags: set[str] = set()
    rings: set[str] = set()
    phenol = False
    for word in words:
        parts = segment(word)
        if parts is None:
            continue
        kinds = [_MORPHEMES[p] for p in parts]
        for k, (p, t) in enumerate(zip(parts, kinds)):
            tags.update(t)
            if "arom" in t or "cyc" in t:
                rings.add("arom" if "arom" in t else "cyc")
            if "phenol" in t:
                phenol = True
        # "-ol" directly on an aromatic parent (naphthalenol), or hydroxy + aromatic parent whose
        # principal group is not a carboxylic acid or carbonyl
        for k, p in enumerate(parts):
            if p in ("ol", "diol", "triol") and k > 0 and "arom" in kinds[k - 1]:
                phenol = True
            if p in ("hydroxy", "hydroxyl"):  # on the ring or chain named next ("4-hydroxyphenyl")
                after = [t for t in kinds[k + 1:] if "arom" in t or "chain" in t or "cyc" in t]
                if after and "arom" in after[0] and "chain" not in after[0]:
                    phenol = True
    return tags, rings, phenol


_ACETAL = re.compile(r"\b1,1-di(?:meth|eth|prop|but)oxy|\bdi(?:meth|eth)oxymethane\b|acetal\b", re.I)
_CORE = {"chain", "arom", "cyc", "het_o", "het_n", "het_x", "sulfonamide", "compound"}


def organic_heading(words: list[str]) -> tuple[str | None, tuple[str, ...]]:
    """Heading of an organic name (its words), and the headings of its groups before Note 3."""
    tags, rings, phenol = _groups(words)
    flat = [_flatten(w) for w in words]
    stems = any(f in ACID_STEMS for f in flat)
    if not (tags & _CORE or stems):
        return None, ()  # a class word alone ("nitrile", "alcohol", "ester") names no compound
    joined = " ".join(w.lower() for w in words)
    found: set[str] = set()
    oxygen = False
    # acids first: a named acid stem fixes 2915-2918
    acid = None
    for i, f in enumerate(flat):
        if f in ACID_STEMS and (i + 1 < len(flat) and flat[i + 1] in ("acid", "anhydride", "acids")):
            acid = ACID_STEMS[f]
        elif f in _ORGANIC_ANIONS:
            acid = _ORGANIC_ANIONS[f]
    has_acid = acid is not None or (("acid" in tags or "polyacid" in tags)
                                    and re.search(r"\b(?:acids?|anhydrides?|esters?)\b|oate\b|ate\b", joined))
    if "sulfo" in tags and re.search(r"sulfonic acid", _us_spelling(joined)) and not re.search(r"(?:oic|carboxylic) acid", joined):
        has_acid = bool(acid)  # a sulphonic acid is a sulphonated derivative (2904), not 2915
    other_o = tags & {"oh", "oxo", "ether", "aldehyde", "ketone"} or phenol
    if has_acid:
        if acid is None:
            if other_o:  # carboxylic acids with additional oxygen function, mono- or poly-
                acid = "2918"
            elif "polyacid" in tags:
                acid = "2917"
            elif rings or any("sat_en" in t or "sat_yn" in t for t in [tags]) or "sat_en" in tags or "sat_yn" in tags:
                acid = "2916"
            else:
                acid = "2915"
        elif other_o and acid in ("2915", "2916", "2917"):
            acid = "2918"
        found.add(acid)
        oxygen = True
    else:
        if phenol:
            found.add("2907")
            oxygen = True
        elif "oh" in tags:
            found.add("2906" if rings else "2905")
            oxygen = True
        if "ether" in tags:
            found.add("2909")
            oxygen = True
        if "epoxy" in tags:
            found.add("2910")
            oxygen = True
        if "aldehyde" in tags:
            found.add("2912")
            oxygen = True
        if "ketone" in tags or "oxo" in tags:
            found.add("2914")
            oxygen = True
    if tags & {"halo", "nitro", "sulfo"}:
        if "2907" in found:   # halogenated, sulphonated, nitrated derivatives of phenols
            found.add("2908")
        if "2912" in found:   # ... and of aldehydes
            found.add("2913")
    if "halo" in tags:
        found.add("2903")
    if "nitro" in tags or "sulfo" in tags:
        found.add("2904")
    if "phosphate_ester" in tags:
        found.add("2919")
    if "amine" in tags:
        if oxygen:  # oxygen-function amino-compounds (amino-alcohols, -phenols, -acids, -ketones)
            found -= {"2905", "2906", "2907", "2909", "2912", "2914", "2915", "2916", "2917", "2918"}
            found.add("2922")
        else:
            found.add("2921")
    for tag, heading in (("quat", "2923"), ("amide", "2924"), ("imide", "2925"),
                         ("nitrile", "2926"), ("azo", "2927"), ("hydrazine", "2928"),
                         ("isocyanate", "2929"), ("sulfur", "2930"), ("metal_org", "2931"),
                         ("het_o", "2932"), ("het_n", "2933"), ("het_x", "2934"),
                         ("sulfonamide", "2935")):
        if tag in tags:
            found.add(heading)
    if "het_o" in tags and "het_n" in tags:
        found.add("2934")  # oxygen and nitrogen hetero-atoms in one compound: "other" heterocycles
    if _ACETAL.search(joined) and not has_acid:  # two ether oxygens on one carbon
        found.discard("2909")
        found.add("2911")
    if not found:
        if "ane" in tags or "chain" in tags or rings:
            found.add("2902" if rings else "2901")
    if not found:
        return None, ()
    return max(found), tuple(sorted(found))   # Note 3 to chapter 29: the last heading in order


# --- reading a whole text --------------------------------------------------------------------
_TOKEN = re.compile(r"[A-Za-z0-9α-ω\[\]\(\)\{\}',′+\-]+")
_JOIN_WORDS = {"acid", "acids", "anhydride", "ester", "esters", "salt", "salts", "alcohol",
               "ether", "glycol", "oxide", "hydrate", "monohydrate", "dihydrate", "hydrochloride",
               "ketone", "aldehyde", "amine", "amide", "hyclate", "mesylate", "besylate",
               "tosylate", "hydrobromide", "dihydrochloride", "monohydrochloride", "hcl",
               "trihydrate", "pentahydrate", "hexahydrate", "heptahydrate", "decahydrate"}
_CLASS_WORDS = {"acid", "acids", "anhydride", "alcohol", "glycol", "ether", "ketone", "aldehyde",
                "amine", "amide"}
_GRADE_WORDS = {"mono", "pure", "anhydrous", "technical", "grade", "usp", "fcc", "refined",
                "crude", "purified", "synthetic", "liquid", "solid", "white", "the",
                "a", "an", "chemically", "defined", "high", "purity", "food", "reagent", "glacial",
                "industrial", "fine", "bulk", "activated", "precipitated", "substituted", "pharmaceutical"}


@lru_cache(maxsize=65536)  # pure in the word; the same words recur in every text
def _norm(word: str) -> str:
    """Lower case, US spelling, no edge punctuation; "disodium" -> "sodium" (the count of a cation
    does not change the heading)."""
    w = _us_spelling(word).strip("(),;:.'")
    w = re.sub(r"^(?:(?:dl|[dl]|\([+-]\)|\([rs]\))-)+", "", w)  # L-lysine, D-xylose, DL-methionine
    m = re.fullmatch(r"(?:mono|di|tri|tetra|penta|hexa)(\w+)", w)
    if m and m.group(1) in CATIONS:
        return m.group(1)
    return w


def _inorganic(words: list[str]) -> tuple[str | None, str]:
    """Heading of an inorganic name given as words (cation + anion, an acid, an element)."""
    low = [_norm(w) for w in words]
    joined = " ".join(low)
    for k in range(len(low)):
        for span in (3, 2, 1):
            key = " ".join(low[k:k + span])
            if span > 1 and TRIVIAL.get(key):
                return TRIVIAL[key], key
    for k, w in enumerate(low):
        if w not in CATIONS:
            continue
        metal = _METAL_CANON.get(w, w)
        nxt = [x for x in low[k + 1:k + 4] if x not in ("mono", "di", "tri", "hydrogen", "dihydrogen")
               and not re.fullmatch(r"\(?[ivx]+\)?", x)][:1] if w != "hydrogen" else low[k + 1:k + 2]
        nxt = [x[:-1] if x.endswith("s") and x[:-1] in ANIONS else x for x in nxt]
        anion = next((x for x in nxt if x in ANIONS or x in _ORGANIC_ANIONS or
                      re.sub(r"^(?:mono|di|tri|tetra|penta|hexa|sesqui)", "", x) in ANIONS), None)
        if anion is None:
            continue
        base = anion if (anion in ANIONS or anion in _ORGANIC_ANIONS) else \
            re.sub(r"^(?:mono|di|tri|tetra|penta|hexa|sesqui)", "", anion)
        if metal in _PRECIOUS:
            return "2843", f"{w} {anion}"
        if metal in _RARE_EARTH:
            return "2846", f"{w} {anion}"
        if metal in _RADIOACTIVE:
            return "2844", f"{w} {anion}"
        if metal == "mercury":
            return "2852", f"{w} {anion}"
        if base in _ORGANIC_ANIONS and base not in ANIONS:
            return _ORGANIC_ANIONS[base], f"{w} {anion}"
        code = ANIONS.get(base, "")
        if code == "oxide":
            code = _OXIDE_BY_METAL.get(metal, "2825")
        if code:
            return code, f"{w} {anion}"
    for k, w in enumerate(low):
        if w in ELEMENTS and len([x for x in low if x not in _GRADE_WORDS]) <= 2:
            rest = [x for x in low if x != w and x not in _GRADE_WORDS]
            if not rest or rest[0] in ("gas", "powder", "crystals", "liquid", "compressed"):
                return ELEMENTS[w], w
    if "acid" in joined:
        m = re.search(r"\b(" + "|".join(sorted(INORGANIC_ACIDS)) + r")\s+acid", joined)
        if m:
            key = m.group(1) + " acid"
            return TRIVIAL.get(key, "2811"), key
    return None, ""


def _head_zone(text: str) -> str:
    """The words that name the product itself (before "with / for / used / containing ...").

    "w/" also ends it, and "<word> grade" is dropped ("pigment grade" is a grade, not a noun
    the name modifies).
    """
    text = _zone_text(text)
    m = _HEAD_END.search(text)
    return text[: m.start()] if m and m.start() > 0 else text


def _zone_text(text: str) -> str:
    """The text the head zone is cut from: no "w/ ..." tail, "<word> grade" replaced by ","."""
    text = re.sub(r"\bw/.*", "", text, flags=re.I | re.S)
    return re.sub(r"\b[a-z]+[ -]grade\b", ",", text, flags=re.I)


def _organic_salt_or_ester(words: list[str]) -> tuple[str | None, str]:
    """"ethyl acetate" -> 2915, "triphenyl phosphate" -> 2919, "methylene chloride" -> 2903."""
    low = [_norm(w) for w in words]
    for k in range(len(low) - 1):
        a, b = low[k], low[k + 1]
        a_flat = _flatten(a)
        radical = a in _ORGANIC_RADICALS or a_flat in _ORGANIC_RADICALS or (
            segment(a) is not None and a_flat.endswith(("yl", "ylene")))
        if not radical:
            continue
        if b in _ORGANIC_ANIONS:
            code = _ORGANIC_ANIONS[b]
            # the radical's own amine / sulfur group can still outrank the acid (Note 3)
            extra, _ = organic_heading([a])
            return (max(code, extra) if extra and extra >= "2921" else code), f"{a} {b}"
        if b in _ESTER_ANIONS:
            if k > 0 and low[k - 1] in CATIONS:
                return "", f"{low[k - 1]} {a} {b}"  # "sodium lauryl sulfate": a surfactant (3402), not read
            return _ESTER_ANIONS[b], f"{a} {b}"
        if b in _HALIDES:
            if "acyl" in _MORPHEMES.get(a_flat, ()) or a_flat.endswith("oyl"):
                return ("2916" if a_flat in ("benzoyl", "acryloyl", "methacryloyl") else "2915"), f"{a} {b}"
            return "2903", f"{a} {b}"
        if b in ("oxide",) and a_flat in ("ethylene", "propylene", "butylene", "styrene"):
            return "2910", f"{a} {b}"
    return None, ""


# Words that may follow a chemical name without making it a modifier of another noun: its form,
# grade, packing, purity or identifiers ("Nitrile gloves" is gloves, "Hexane, 95%" is hexane).
_FOLLOWERS = {"solution", "solutions", "aqueous", "powder", "powders", "crystals", "crystal",
              "flakes", "pellets", "granules", "prills", "liquid", "gas", "monomer", "salt", "salts",
              "tablets", "tablet", "capsules", "capsule", "usp", "nf", "bp", "ep", "fcc", "acs",
              "cas", "no", "number", "purity", "pure", "in", "from", "of", "bulk", "drums", "drum",
              "totes", "and", "or", "as", "anhydrous", "hydrate", "technical", "reagent", "grade",
              "form", "imported", "a", "an", "the", "is", "are", "which", "produced", "made",
              "manufactured", "chemically", "defined", "crude", "refined", "concentrate",
              "dispersion", "suspension", "slurry", "paste", "mg", "g", "kg", "lb", "lbs", "ml",
              "l", "gal", "gallon", "gallons", "ton", "tons", "mt", "bags", "bag", "sacks",
              "vitamin", "isomer", "isomers", "ester", "esters", "intermediate", "micronized",
              "micronised", "milled", "granulated", "sterile", "spray-dried", "fused", "calcined",
              "precipitated", "mixture", "mixtures", "blend", "blends", "formulation",
              "formulations", "preparation", "preparations", "premix", "compound", "derivative",
              "caplets", "caplet", "softgels", "gelcaps", "lozenges", "injection", "injectable",
              "cream", "ointment", "syrup", "drops", "vials", "ampoules", "suppositories", "dosage",
              "its", "their", "derivatives", "solvent", "solvents", "monomers", "beads", "briquettes",
              "gases", "isomer", "analogues", "unmixed", "hydrated", "ultrapure", "high-purity"}
_VITAMIN_LETTER = re.compile(r"^(?:[a-k]\d{0,2}|b\d{1,2}|pp)$", re.I)


_TRIVIAL_FIRST = {k.split()[0] for k in TRIVIAL if " " in k}


@lru_cache(maxsize=65536)  # a word's answer never changes, and words repeat across texts
def _is_chem_word(bare: str, low: str) -> bool:
    return (formula_heading(bare) is not None or low in _JOIN_WORDS or low in TRIVIAL or low in _TRIVIAL_FIRST or low in CATIONS or low in ANIONS
            or low in _ORGANIC_ANIONS or low in ELEMENTS or low in INORGANIC_ACIDS
            or (low.endswith("s") and low[:-1] in ANIONS)
            or _flatten(bare) in ACID_STEMS or ("hydrate" in low and bool(re.fullmatch(r"\w*hydrates?", low)))
            or segment(bare) is not None or bool(_ANTIBIOTIC_STEM.match(low)))


_MIXTURE_OF = re.compile(r"\s*(?:an?\s+)?(?:mixtures?|blends?)\s+of\s+(?:(?:the\s+)?isomers\s+of\s+)?", re.I)
_APPOSITION = re.compile(r"(?:[,(])\s*(?:an?|the)\s+([^,;()]+)", re.I)


def _name_words(zone: str, followers: bool = True) -> list[list[str]]:
    """The chemical name(s) that head the zone: a run of chemical words at its start (grade words
    such as "pure", "technical" may lead), or inside a parenthesis right after its first words
    ("Eporal (4,4'-diaminodiphenyl sulfone)"). A list ("glycine and lysine") counts by its first
    name. A run followed by a word that is neither chemical nor one of ``_FOLLOWERS`` (nor a
    number) modifies that word ("nitrile gloves", "titanium dioxide based pigment") and is dropped;
    a chemical word after other words is an ingredient or material ("steel billets, low carbon").
    """
    toks = _TOKEN.findall(zone)
    runs: list[list[str]] = []
    cur: list[str] = []
    start = None
    k = 0
    while k < len(toks):
        tok = toks[k]
        bare = tok.strip("(),;:.'[]")
        low = _norm(bare)
        if not bare:
            k += 1
            continue
        in_paren = tok.startswith("(")
        if in_paren and cur:  # "X (Y)": X is a name of its own, Y may be another
            if _at_head(toks, start):
                runs.append(cur)
            cur = []
        chem = _is_chem_word(bare, low) or (cur and _norm(cur[-1]) == "vitamin" and _VITAMIN_LETTER.match(low))
        if chem or (cur and low in _GRADE_WORDS) or (not cur and low in _GRADE_WORDS and k == 0):
            if not cur:
                start = k
            cur.append(bare)
            closed = tok.rstrip(".").endswith((",", ";", ":")) or tok.count(")") > tok.count("(")
            if closed:
                runs.append(cur) if _at_head(toks, start) else None
                cur = []
            k += 1
            continue
        if cur and low in ("and", "or", "&") and k + 1 < len(toks):
            nb = toks[k + 1].strip("(),;:.'[]")
            if nb and _is_chem_word(nb, _norm(nb)):
                cur.append("|")
                k += 1
                continue
        if cur:
            if (not followers or _ends_as_name(toks, k)) and _at_head(toks, start):
                runs.append(cur)
            cur = []
        k += 1
    if cur and _at_head(toks, start):
        runs.append(cur)
    out = []
    for r in runs:
        first = " ".join(r).split("|")[0].split()  # a list counts by its first name
        if len(first) == 1 and _norm(first[0]) in CATIONS:  # ... unless it shares the next one's anion
            first = [w for w in r if w != "|"]
        if any(_norm(w) not in _GRADE_WORDS for w in first):
            out.append(first)
    return out


def _is_follower(tok: str) -> bool:
    low = _norm(tok.strip("(),;:.'[]"))
    return not low or low in _FOLLOWERS or bool(re.fullmatch(r"[\d.,%#/-]+%?|\d+\w{0,3}", low))


def _ends_as_name(toks: list[str], k: int) -> bool:
    """After a chemical run ending before ``toks[k]``: only form, grade or quantity words follow
    up to the next comma, parenthesis or the end ("propane gas grills" is grills)."""
    for tok in toks[k:]:
        if tok.startswith("("):
            return True
        if not _is_follower(tok):
            return False
        if tok.rstrip(".").endswith((",", ";", ":", ")")):
            return True
    return True


def _at_head(toks: list[str], start: int | None) -> bool:
    """A run starts the zone (after grade words), or opens a parenthesis among its first words."""
    if start is None:
        return False
    before = [_norm(t.strip("(),;:.'[]")) for t in toks[:start]]
    if all(b in _GRADE_WORDS or not b for b in before):
        return True
    return toks[start].startswith("(") and start <= 3 and not any(t.endswith((",", ";")) for t in toks[:start])


_SKIP = "(not read)"


def _read_name(words: list[str]) -> tuple[str | None, tuple[str, ...], str]:
    """Heading of one run of words: trivial names, inorganic, salts/esters, then the parser."""
    low = [_norm(w) for w in words]
    raw = [w.lower().strip("(),;:.'") for w in words]
    core = [w for w in words if _norm(w) not in _GRADE_WORDS]
    for w in words:
        code = formula_heading(w)
        if code:
            return code, (code,), w
    for span, k, form in ((sp, k, f) for sp in (3, 2, 1) for k in range(len(low) - sp + 1) for f in (raw, low)):
        if True:
            key = " ".join(form[k:k + span])
            if key in TRIVIAL:  # an empty entry: a name the reader must not guess (stearic acid)
                return (TRIVIAL[key], (TRIVIAL[key],), key) if TRIVIAL[key] else (None, (), _SKIP)
    code, why = _inorganic(words)
    if code:
        return code, (code,), why
    code, why = _organic_salt_or_ester(words)
    if code is not None:
        return (code, (code,), why) if code else (None, (), "")
    for w in low:
        if _ANTIBIOTIC_STEM.match(w):
            return "2941", ("2941",), w
    names = [w for w in core if _norm(w) not in _JOIN_WORDS or _norm(w) in _CLASS_WORDS]
    if all(_flatten(w).endswith("yl") for w in names):
        return None, (), ""  # radicals alone ("vinyl", "cetyl") name no compound
    code, groups = organic_heading(names)
    if code:
        return code, groups, " ".join(core)
    return None, (), ""


@lru_cache(maxsize=16384)
def read(text: str) -> ChemReading:
    """What the chemical named in ``text`` implies (an empty reading when none is named).

    Only a name in the text's head (before "with / for / containing / used ...", parentheses
    included) counts: "sunscreen with zinc oxide" names a preparation, not zinc oxide.
    """
    if not text or not text.strip():
        return ChemReading()
    if len(text) > 2000:
        text = text[:2000]
    cas = tuple(find_cas(text))
    low = text.lower()
    zone = _head_zone(text)
    # the state is read from the product's own words: "for skin-care preparations" is a use
    state = "bulk" if _IN_BULK.search(text) else "dose" if _DOSE.search(zone) else \
        "mixture" if _MIXTURE.search(zone) else "bulk" if _BULK.search(text) else ""
    if _POLYMER.search(zone) or _COPOLYMER.search(zone):
        return ChemReading(state=state, cas=cas, why="a polymer (chapter 39)")
    if _SURFACTANT.search(zone):
        return ChemReading(state=state, cas=cas, why="a surface-active agent (chapter 34)")
    code, groups, name = None, (), ""
    for run in _name_words(zone):
        code, groups, name = _read_name(run)
        if code or name == _SKIP:
            break
    if name == _SKIP:
        return ChemReading(state=state, cas=cas, why=f"'{' '.join(run)}' is not read (grades differ in HS)")
    if code is None:  # "Atrazine, CAS ..., a triazine herbicide": the class named in apposition
        for m in _APPOSITION.finditer(text):
            runs = _name_words(m.group(1), followers=False)
            if runs:
                code, groups, name = _read_name(runs[0])
                if code and code[:2] in ("28", "29"):
                    name = f"{name} (named class)"
                    break
                code, groups, name = None, (), ""
    if code is None:  # "Mixture of isomers of dinitrotoluene ...": a mixture named by its parts
        m = _MIXTURE_OF.match(text)
        runs = _name_words(text[m.end():], followers=False) if m else []
        if runs and _read_name(runs[0])[0]:
            return ChemReading(chapter="38", name=" ".join(runs[0]), state="mixture",
                               cas=cas, why=f"a mixture of '{' '.join(runs[0])}' -> chapter 38")
    if code is None and not cas:
        return ChemReading(state=state)
    heading = code
    why = f"'{name}' reads as heading {code}" if code else f"CAS {cas[0]}: a single compound"
    chapter = code[:2] if code else None
    if code is None:  # a valid CAS number with a name the reader cannot parse: chapter 28 or 29
        chapter = "29" if re.search(r"[a-z]{3,}(?:yl|ine|ane|ene|ol|one|ide|ate|ium|mer)\b", low) or \
            not re.search(r"\b(?:" + "|".join(sorted(CATIONS)) + r")\b", low) else "28"
    compound = heading
    if state == "dose" and chapter == "29":  # a medicament; "calcium hypochlorite tablets" stay 2828
        heading, chapter = "3004", "30"
        why += "; dosage form or retail sale -> 3004"
    elif state == "mixture" and chapter in ("29", "28"):
        heading, chapter = None, "38"
        why += "; a mixture or preparation -> chapter 38"
    return ChemReading(heading=heading, chapter=chapter, name=name, groups=groups, state=state,
                       cas=cas, why=why, compound=compound)


# --- the gate before the reader ----------------------------------------------------------------
_WORD_CHAR = re.compile(r"\w")
# The ``_TOKEN`` matches that hold a letter, and only those: a run of the token's other
# characters (digits, brackets, marks) may lead, the rest is any token character. A token with no
# letter is never a chemical word, nor is any prefix of it (every word list and morpheme is made
# of letters, and ``segment`` drops digits and marks), so the gate never looks such tokens up:
# each text's own numbers ("#412", "25 kg") would otherwise be a fresh cache entry every time.
_LETTER_TOKEN = re.compile(r"[0-9\[\]\(\)\{\}',′+\-]*[A-Za-zα-ω][A-Za-z0-9α-ω\[\]\(\)\{\}',′+\-]*")
_GRADE_IN_TEXT = re.compile(r"grade", re.I)


@lru_cache(maxsize=65536)  # tokens recur across texts; the answer is pure in the token
def _token_may_name(tok: str) -> bool:
    """True when ``tok`` (a ``_TOKEN`` match of the whole text), or a piece of it the reader may
    see instead, is a chemical word (``_is_chem_word``, the reader's own test).

    The reader tokenises a part of the text, not the text: the head zone is a prefix cut at a word
    boundary before "with", "for", "w/" ... (so its last token can be ``tok[:j]`` where ``tok[j]``
    is a word character and ``tok[j-1]`` is not: "methyl-" of "methyl-for"), and an apposition
    ("..., a triazine herbicide") is a substring ending before ",", "(" or ")" (so ``tok[:j]``
    where ``tok[j]`` is one of those). Every such prefix is tested too.
    """
    cuts = [] if tok.isalnum() else [  # letters and digits only: no mark to cut at
        j for j in range(1, len(tok))
        if tok[j] in ",()" or (_WORD_CHAR.match(tok[j]) and not _WORD_CHAR.match(tok[j - 1]))]
    for piece in [tok] + [tok[:j] for j in cuts]:
        bare = piece.strip("(),;:.'[]")
        if bare and _is_chem_word(bare, _norm(bare)):
            return True
    return False


def may_name_chemical(text: str) -> bool:
    """False only when ``read(text)`` cannot give a heading: a cheap gate before the reader.

    Why: about 85% of firm descriptions hold no chemical word at all, and the reader's regular
    expressions and word loops cost ~45-60 ms per 1,000 texts on the hint path (docs/nlp.md,
    "Speed"); this test costs a tokenisation and a cached lookup per token.

    Why it is sound (it never says False for a text the reader acts on): ``read`` gives a heading
    only from ``_read_name`` on a run that ``_name_words`` returns, for the head zone or for an
    apposition (the CAS and "mixture of" paths give no heading). Every word of such a run is a
    chemical word (``_is_chem_word``), a grade word, or a vitamin letter after "vitamin" (itself a
    chemical word), and a run of grade words alone is dropped; so some token the reader sees is a
    chemical word. Those tokens are ``_TOKEN`` matches of the zone or of an apposition, both
    taken from ``text[:2000]``: without "grade" in the text the zone is a prefix of it (the "w/"
    and head-end cuts only shorten it) and an apposition a substring starting at a token, so each
    token the reader sees is a token of ``text[:2000]`` or one of the prefixes
    ``_token_may_name`` tests (only tokens holding a letter are looked up, ``_LETTER_TOKEN``). "<word> grade" is replaced by "," before the zone is cut
    (``_zone_text``), which can join pieces of two tokens into a new one ("eth-food grade-anol"
    -> "eth-,-anol"); so when "grade" is in the text (any case; the replacement needs it) the
    tokens of ``_zone_text`` are tested as well, the zone being a prefix of that text.
    The equivalence is tested on the corpus, the lexicon, the chemical-names file, the CBP
    validation and dev texts and generated edge cases (tests/test_hs_chemistry_gate.py).
    """
    if not text:
        return False
    text = text[:2000]
    if any(map(_token_may_name, _LETTER_TOKEN.findall(text))):
        return True
    return bool(_GRADE_IN_TEXT.search(text)) and any(map(_token_may_name, _LETTER_TOKEN.findall(_zone_text(text))))


def implied_heading(text: str) -> str | None:
    """The heading a text's chemical name implies, or None."""
    return read(text).heading


# --- the rule after ranking ------------------------------------------------------------------
# Confidence of a heading the reader lifts into the hints when the ranker gave it less (or did
# not rank it). Where the reader and the ranker's top 3 disagree the reader was right on 53 of 54
# corpus wordings (ranker features leave-group-out) and 2 of 2 CBP validation rows, but those
# wordings shaped the reader, so that precision is in-sample for it: the value is an even chance,
# well under it, which puts the reader's heading first only when the ranker's own top hint is
# below even, and never marks it "uncertain" (docs/nlp.md, "Chemical names"). The ranker's
# probability is kept when it is higher.
RULE_CONFIDENCE = 0.5
RULE_TOP = 3  # the reader's heading is brought at least this high


def first_plain_sub(index, h: int) -> str:
    """The heading's first subheading that is not a residual "Other ..." (else its first); the
    residual test is the subheading picker's (``subheading.is_residual``), so both read one rule."""
    from .subheading import is_residual

    subs = list(index.subs_of_head[h])
    for s in subs:
        code = index.sub_codes[s]
        if not is_residual(code, get(code)["description"]):
            return code
    return index.sub_codes[subs[0]] if subs else index.head_codes[h] + "00"


def lift_heading(hints: list[dict], code: str, floor: float, cands, conf, hinter, method: str,
                 why, top: int, reorder: bool = False, hs6: str | None = None) -> list[dict]:
    """``hints`` with heading ``code`` put among the first ``top``: the rules after ranking
    (this module's ``apply_to_hints``, ``composite.apply_to_hints``) share this placement.

    The hint's confidence is the ranker's calibrated probability for the heading when that is
    higher than ``floor``, else ``floor``; hints stay ordered by confidence, except when even that
    would leave the heading below place ``top``: it then takes place ``top`` and says so. Its
    subheading is the best under the heading by the fixed formula (which scores any heading),
    else the heading's first subheading that is not "Other" (``hs6``, when given, is used
    instead: the set rule takes its essential component's own). ``why(p_rank, note)`` writes the
    explanation. Returns ``hints`` itself when the heading is unknown, or already among the first
    ``top`` and either ``reorder`` is off or its confidence is at least ``floor``; with ``reorder``
    a heading there below ``floor`` is raised to it and moved up.
    """
    have = [x for x in hints[:top] if x["hs4"] == code]
    if have and (not reorder or have[0]["confidence"] >= floor):
        return hints
    ix = hinter.index
    h = ix.head_pos.get(code)
    if h is None:
        return hints
    p_rank = 0.0
    if cands is not None and h in cands.heads:
        p_rank = float(conf[cands.heads.index(h)])
    p = max(p_rank, floor)
    if not (hs6 and hs6[:4] == code):
        subs = cands.sub_scores.get(h, formula=True) if cands is not None and cands.sub_scores is not None else None
        hs6 = ix.sub_codes[subs[0][0]] if subs else first_plain_sub(ix, h)
    rest = [x for x in hints if x["hs4"] != code]
    pos = next((k for k, x in enumerate(rest) if x["confidence"] < p), len(rest))
    note = ""
    if pos > top - 1:
        pos, note = top - 1, " (placed here by the rule although hints below rank higher)"
    new = hinter._hint(hs6, p, method, why(p_rank, note))
    return (rest[:pos] + [new] + rest[pos:])[:len(hints)]


# What each heading's compounds are called, for the rule's explanation.
_GROUP_WORDS = {
    "2901": "an acyclic hydrocarbon", "2902": "a cyclic hydrocarbon", "2903": "a halogenated hydrocarbon",
    "2904": "a sulphonated or nitrated hydrocarbon", "2905": "an acyclic alcohol", "2906": "a cyclic alcohol",
    "2907": "a phenol", "2908": "a halogenated or nitrated phenol", "2909": "an ether",
    "2910": "an epoxide", "2911": "an acetal", "2912": "an aldehyde", "2913": "a halogenated aldehyde",
    "2914": "a ketone or quinone", "2915": "a saturated monocarboxylic acid or its ester or salt",
    "2916": "an unsaturated or cyclic monocarboxylic acid or its ester or salt",
    "2917": "a polycarboxylic acid or its ester or salt", "2918": "a carboxylic acid with another oxygen function",
    "2919": "a phosphoric ester", "2920": "an ester of another inorganic acid", "2921": "an amine",
    "2922": "an oxygen-function amino compound", "2923": "a quaternary ammonium compound",
    "2924": "an amide", "2925": "an imide or imine", "2926": "a nitrile", "2927": "a diazo or azo compound",
    "2928": "a hydrazine or hydroxylamine derivative", "2929": "a compound with another nitrogen function",
    "2930": "an organo-sulphur compound", "2931": "an organo-inorganic compound",
    "2932": "an oxygen heterocycle", "2933": "a nitrogen heterocycle", "2934": "a nucleic acid or other heterocycle",
    "2935": "a sulphonamide", "2936": "a vitamin", "2937": "a hormone", "2938": "a glycoside",
    "2939": "an alkaloid", "2940": "a sugar", "2941": "an antibiotic", "3004": "a medicament in doses",
}


def apply_to_hints(text: str, hints: list[dict], cands, conf, hinter, top: int = RULE_TOP) -> list[dict]:
    """Bring the heading a parsed chemical name implies into the first ``top`` hints.

    Why after ranking: the reader names the right heading on 441 of the 450 corpus wordings it
    reads, but as a ranker feature its weight is learned on the corpus, where the nearest
    examples already agree with it, so it never learns to overrule them on a name the corpus
    has not seen (docs/nlp.md, "Chemical names"). Here it does not vote; it only guarantees a
    place. Only a name, formula or trivial name read in the text's head counts (a CAS number
    alone gives a chapter, not a heading); a code written in the text wins, so such hints are
    left as they are.

    The lifted hint's confidence is the ranker's calibrated probability for the heading when
    that is higher, else ``RULE_CONFIDENCE`` (the reader's measured precision where it and the
    ranker disagree); hints stay ordered by confidence, and when that value would still leave
    the heading below place ``top`` it takes place ``top`` with its own (lower) confidence --
    the one case where a hint sits above a higher-confidence one, said in its explanation.
    ``cands``/``conf``: the ranker's candidates and probabilities for this text; ``hinter``:
    gives ``index`` and ``_hint``. Returns a new list; non-chemical texts get ``hints`` back.
    """
    if not hints or top <= 0 or any(x["method"] == "code-in-text" for x in hints):
        return hints
    if not may_name_chemical(text):  # no word the reader could start a name with: it reads nothing
        return hints
    r = read(text)
    if not r.heading or not r.name:
        return hints
    code = r.heading
    desc = wording(code, 80)
    group = _GROUP_WORDS.get(code, "an inorganic chemical" if code[:2] == "28" else "a chemical")
    detail = "; " + r.why.split("; ", 1)[1] if "; " in r.why else ""
    return lift_heading(hints, code, RULE_CONFIDENCE, cands, conf, hinter, "chem-name",
                        lambda p_rank, note: (f"chem-name: '{r.name}' read as {group}: heading {code} ({desc}){detail}"
                                              f"; ranker probability {p_rank:.2f}{note}"), top)


