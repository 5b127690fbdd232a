"""Lookup tables for the customer-information normalizers (``capic.runtime.normalize``).

Every key in these tables is a *lookup key*: lowercase ASCII letters only, with accents folded
and spaces/punctuation removed ("New York" -> ``newyork``, "Québec" -> ``quebec``). The
normalizer builds the same kind of key from its input before looking it up.

Sources: ISO 3166-1 (alpha-2, alpha-3 and English short names), USPS/ANSI state codes,
Canada Post province codes, the name lists of Meta's reference normalizer (Parameter Builder),
and the common abbreviations and native-language names that show up in checkout forms.
"""

from __future__ import annotations

from typing import Final

# ISO 3166-1: alpha-2, alpha-3, English short name (as a lookup key). One line per country so a
# reviewer can check a row against the standard at a glance.
_ISO_3166: Final = """
ad and andorra
ae are unitedarabemirates
af afg afghanistan
ag atg antiguaandbarbuda
ai aia anguilla
al alb albania
am arm armenia
ao ago angola
aq ata antarctica
ar arg argentina
as asm americansamoa
at aut austria
au aus australia
aw abw aruba
ax ala alandislands
az aze azerbaijan
ba bih bosniaandherzegovina
bb brb barbados
bd bgd bangladesh
be bel belgium
bf bfa burkinafaso
bg bgr bulgaria
bh bhr bahrain
bi bdi burundi
bj ben benin
bl blm saintbarthelemy
bm bmu bermuda
bn brn bruneidarussalam
bo bol bolivia
bq bes bonairesinteustatiusandsaba
br bra brazil
bs bhs bahamas
bt btn bhutan
bv bvt bouvetisland
bw bwa botswana
by blr belarus
bz blz belize
ca can canada
cc cck cocoskeelingislands
cd cod democraticrepublicofthecongo
cf caf centralafricanrepublic
cg cog congo
ch che switzerland
ci civ cotedivoire
ck cok cookislands
cl chl chile
cm cmr cameroon
cn chn china
co col colombia
cr cri costarica
cu cub cuba
cv cpv caboverde
cw cuw curacao
cx cxr christmasisland
cy cyp cyprus
cz cze czechia
de deu germany
dj dji djibouti
dk dnk denmark
dm dma dominica
do dom dominicanrepublic
dz dza algeria
ec ecu ecuador
ee est estonia
eg egy egypt
eh esh westernsahara
er eri eritrea
es esp spain
et eth ethiopia
fi fin finland
fj fji fiji
fk flk falklandislands
fm fsm micronesia
fo fro faroeislands
fr fra france
ga gab gabon
gb gbr unitedkingdom
gd grd grenada
ge geo georgia
gf guf frenchguiana
gg ggy guernsey
gh gha ghana
gi gib gibraltar
gl grl greenland
gm gmb gambia
gn gin guinea
gp glp guadeloupe
gq gnq equatorialguinea
gr grc greece
gs sgs southgeorgiaandthesouthsandwichislands
gt gtm guatemala
gu gum guam
gw gnb guineabissau
gy guy guyana
hk hkg hongkong
hm hmd heardislandandmcdonaldislands
hn hnd honduras
hr hrv croatia
ht hti haiti
hu hun hungary
id idn indonesia
ie irl ireland
il isr israel
im imn isleofman
in ind india
io iot britishindianoceanterritory
iq irq iraq
ir irn iran
is isl iceland
it ita italy
je jey jersey
jm jam jamaica
jo jor jordan
jp jpn japan
ke ken kenya
kg kgz kyrgyzstan
kh khm cambodia
ki kir kiribati
km com comoros
kn kna saintkittsandnevis
kp prk northkorea
kr kor southkorea
kw kwt kuwait
ky cym caymanislands
kz kaz kazakhstan
la lao laos
lb lbn lebanon
lc lca saintlucia
li lie liechtenstein
lk lka srilanka
lr lbr liberia
ls lso lesotho
lt ltu lithuania
lu lux luxembourg
lv lva latvia
ly lby libya
ma mar morocco
mc mco monaco
md mda moldova
me mne montenegro
mf maf saintmartinfrenchpart
mg mdg madagascar
mh mhl marshallislands
mk mkd northmacedonia
ml mli mali
mm mmr myanmar
mn mng mongolia
mo mac macao
mp mnp northernmarianaislands
mq mtq martinique
mr mrt mauritania
ms msr montserrat
mt mlt malta
mu mus mauritius
mv mdv maldives
mw mwi malawi
mx mex mexico
my mys malaysia
mz moz mozambique
na nam namibia
nc ncl newcaledonia
ne ner niger
nf nfk norfolkisland
ng nga nigeria
ni nic nicaragua
nl nld netherlands
no nor norway
np npl nepal
nr nru nauru
nu niu niue
nz nzl newzealand
om omn oman
pa pan panama
pe per peru
pf pyf frenchpolynesia
pg png papuanewguinea
ph phl philippines
pk pak pakistan
pl pol poland
pm spm saintpierreandmiquelon
pn pcn pitcairn
pr pri puertorico
ps pse palestine
pt prt portugal
pw plw palau
py pry paraguay
qa qat qatar
re reu reunion
ro rou romania
rs srb serbia
ru rus russianfederation
rw rwa rwanda
sa sau saudiarabia
sb slb solomonislands
sc syc seychelles
sd sdn sudan
se swe sweden
sg sgp singapore
sh shn sainthelenaascensionandtristandacunha
si svn slovenia
sj sjm svalbardandjanmayen
sk svk slovakia
sl sle sierraleone
sm smr sanmarino
sn sen senegal
so som somalia
sr sur suriname
ss ssd southsudan
st stp saotomeandprincipe
sv slv elsalvador
sx sxm sintmaartendutchpart
sy syr syria
sz swz eswatini
tc tca turksandcaicosislands
td tcd chad
tf atf frenchsouthernterritories
tg tgo togo
th tha thailand
tj tjk tajikistan
tk tkl tokelau
tl tls timorleste
tm tkm turkmenistan
tn tun tunisia
to ton tonga
tr tur turkiye
tt tto trinidadandtobago
tv tuv tuvalu
tw twn taiwan
tz tza tanzania
ua ukr ukraine
ug uga uganda
um umi unitedstatesminoroutlyingislands
us usa unitedstates
uy ury uruguay
uz uzb uzbekistan
va vat holysee
vc vct saintvincentandthegrenadines
ve ven venezuela
vg vgb britishvirginislands
vi vir usvirginislands
vn vnm vietnam
vu vut vanuatu
wf wlf wallisandfutuna
ws wsm samoa
ye yem yemen
yt myt mayotte
za zaf southafrica
zm zmb zambia
zw zwe zimbabwe
"""

# Other names for countries: official long forms and the alternates that Meta's reference
# normalizer maps (including two of its misspellings, so data shaped for it still maps), plus
# the English alternates and native-language names that checkout forms produce. Native names
# matter because the reference falls back to "first two letters", which gets e.g. "Schweiz"
# (ch) or "Nederland" (nl) wrong; capic maps them instead of guessing.
_COUNTRY_ALIASES: Final = {
    # English alternates and official long forms
    "unitedstatesofamerica": "us",
    "america": "us",
    "greatbritain": "gb",
    "britain": "gb",
    "england": "gb",
    "scotland": "gb",
    "wales": "gb",
    "northernireland": "gb",
    "unitedkingdomofgreatbritainandnorthernireland": "gb",
    "holland": "nl",
    "czechrepublic": "cz",
    "turkey": "tr",
    "burma": "mm",
    "uae": "ae",
    "ivorycoast": "ci",
    "capeverde": "cv",
    "vatican": "va",
    "vaticancity": "va",
    "holyseevaticancitystate": "va",
    "brunei": "bn",
    "russia": "ru",
    "macau": "mo",
    "macedonia": "mk",
    "macedoniatheformeryugoslavrepublicof": "mk",
    "easttimor": "tl",
    "swaziland": "sz",
    "syrianarabrepublic": "sy",
    "iranislamicrepublicof": "ir",
    "boliviaplurinationalstateof": "bo",
    "venezuelabolivarianrepublicof": "ve",
    "tanzaniaunitedrepublicof": "tz",
    "taiwanprovinceofchina": "tw",
    "palestinestateof": "ps",
    "moldovarepublicof": "md",
    "micronesiafederatedstatesof": "fm",
    "laopeoplesdemocraticrepublic": "la",
    "koreademocraticpeoplesrepublicof": "kp",
    "korearepublicof": "kr",
    "republicofkorea": "kr",
    "congothedemocraticrepublicofthe": "cd",
    "drcongo": "cd",
    "republicofthecongo": "cg",
    "falklandislandsmalvinas": "fk",
    "virginislandsbritish": "vg",
    "virginislandsus": "vi",
    "unitedstatesvirginislands": "vi",
    "bosnia": "ba",
    "trinidad": "tt",
    "antigua": "ag",
    "stkittsandnevis": "kn",
    "stlucia": "lc",
    "stvincentandthegrenadines": "vc",
    "stpierreandmiquelon": "pm",
    "stbarthelemy": "bl",
    "sthelena": "sh",
    "sainthelena": "sh",
    "stmartin": "mf",
    "saintmartin": "mf",
    "sintmaarten": "sx",
    "sintmaartenductchpart": "sx",  # the reference's spelling
    "bonairesinteustatinsandsaba": "bq",  # the reference's spelling
    "bonaire": "bq",
    "aland": "ax",
    "cocosislands": "cc",
    "keelingislands": "cc",
    "kyrgyzrepublic": "kg",
    "slovakrepublic": "sk",
    "gambiathe": "gm",
    "bahamasthe": "bs",
    # Native-language names
    "deutschland": "de",
    "espana": "es",
    "brasil": "br",
    "italia": "it",
    "schweiz": "ch",
    "suisse": "ch",
    "svizzera": "ch",
    "osterreich": "at",
    "oesterreich": "at",
    "nederland": "nl",
    "belgie": "be",
    "belgique": "be",
    "sverige": "se",
    "norge": "no",
    "danmark": "dk",
    "suomi": "fi",
    "polska": "pl",
    "cesko": "cz",
    "ceskarepublika": "cz",
    "magyarorszag": "hu",
    "hrvatska": "hr",
    "srbija": "rs",
    "slovensko": "sk",
    "slovenija": "si",
    "eire": "ie",
    "hellas": "gr",
    "ellada": "gr",
    "nippon": "jp",
    "nihon": "jp",
    "zhongguo": "cn",
    "bharat": "in",
    "turkiyecumhuriyeti": "tr",
    "rossiya": "ru",
    "ukraina": "ua",
}

# US states, DC and the inhabited territories (USPS codes), then Canada's provinces and
# territories (Canada Post codes).
US_STATES: Final = {
    "alabama": "al",
    "alaska": "ak",
    "arizona": "az",
    "arkansas": "ar",
    "california": "ca",
    "colorado": "co",
    "connecticut": "ct",
    "delaware": "de",
    "districtofcolumbia": "dc",
    "florida": "fl",
    "georgia": "ga",
    "hawaii": "hi",
    "idaho": "id",
    "illinois": "il",
    "indiana": "in",
    "iowa": "ia",
    "kansas": "ks",
    "kentucky": "ky",
    "louisiana": "la",
    "maine": "me",
    "maryland": "md",
    "massachusetts": "ma",
    "michigan": "mi",
    "minnesota": "mn",
    "mississippi": "ms",
    "missouri": "mo",
    "montana": "mt",
    "nebraska": "ne",
    "nevada": "nv",
    "newhampshire": "nh",
    "newjersey": "nj",
    "newmexico": "nm",
    "newyork": "ny",
    "northcarolina": "nc",
    "northdakota": "nd",
    "ohio": "oh",
    "oklahoma": "ok",
    "oregon": "or",
    "pennsylvania": "pa",
    "rhodeisland": "ri",
    "southcarolina": "sc",
    "southdakota": "sd",
    "tennessee": "tn",
    "texas": "tx",
    "utah": "ut",
    "vermont": "vt",
    "virginia": "va",
    "washington": "wa",
    "westvirginia": "wv",
    "wisconsin": "wi",
    "wyoming": "wy",
    "puertorico": "pr",
    "guam": "gu",
    "americansamoa": "as",
    "northernmarianaislands": "mp",
    "usvirginislands": "vi",
}

CA_PROVINCES: Final = {
    "alberta": "ab",
    "britishcolumbia": "bc",
    "manitoba": "mb",
    "newbrunswick": "nb",
    "newfoundlandandlabrador": "nl",
    "newfoundland": "nl",
    "northwestterritories": "nt",
    "novascotia": "ns",
    "nunavut": "nu",
    "ontario": "on",
    "princeedwardisland": "pe",
    "quebec": "qc",
    "saskatchewan": "sk",
    "yukon": "yt",
}

# Abbreviations that are not the 2-letter code (AP style, GPO, and the usual Canadian ones).
# Matched exactly only: as substrings they would fire inside unrelated words ("tex" in "mexico").
_STATE_ABBREVIATIONS: Final = {
    "ala": "al",
    "ariz": "az",
    "ark": "ar",
    "cal": "ca",
    "calif": "ca",
    "colo": "co",
    "conn": "ct",
    "del": "de",
    "fla": "fl",
    "ill": "il",
    "ind": "in",
    "kan": "ks",
    "kans": "ks",
    "mass": "ma",
    "mich": "mi",
    "minn": "mn",
    "miss": "ms",
    "mont": "mt",
    "neb": "ne",
    "nebr": "ne",
    "nev": "nv",
    "okla": "ok",
    "ore": "or",
    "oreg": "or",
    "penn": "pa",
    "penna": "pa",
    "tenn": "tn",
    "tex": "tx",
    "wash": "wa",
    "wis": "wi",
    "wisc": "wi",
    "wva": "wv",
    "wyo": "wy",
    "alta": "ab",
    "sask": "sk",
    "ont": "on",
    "que": "qc",
    "pei": "pe",
    "nfld": "nl",
}

# Other ways checkout forms spell a state: "W. Virginia", "Washington, D.C.", "N. Carolina".
_STATE_ALIASES: Final = {
    "washingtondc": "dc",
    "wvirginia": "wv",
    "ncarolina": "nc",
    "scarolina": "sc",
    "ndakota": "nd",
    "sdakota": "sd",
    "nhampshire": "nh",
    "njersey": "nj",
    "nmexico": "nm",
    "virginislands": "vi",
    "usvirginislands": "vi",
    "newfoundlandlabrador": "nl",
    "nwt": "nt",
}

# A whole name may carry a qualifier that names what it is or where ("Washington State",
# "California, USA", "Ontario, Canada", "New York NY", "State of New York"). These are the
# only additions to a name that are understood; each combination is a key of its own, so the
# lookup stays exact: no name is ever searched for inside a longer value ("Washington DC" is
# not Washington, "New South Wales" not Wales, "Indiana" not India, "Kansas City" no state).
_STATE_SUFFIXES: Final = {
    "us": ("state", "us", "usa", "unitedstates", "unitedstatesofamerica", "america"),
    "ca": ("province", "territory", "ca", "canada"),
}
_STATE_PREFIXES: Final = ("stateof", "commonwealthof", "provinceof", "territoryof")
_COUNTRY_SUFFIXES: Final = (
    "country",
    "europe",
    "asia",
    "africa",
    "oceania",
    "america",
    "northamerica",
    "southamerica",
    "centralamerica",
    "latinamerica",
    "caribbean",
    "middleeast",
)
_COUNTRY_PREFIXES: Final = (
    "the",
    "republicof",
    "peoplesrepublicof",
    "federalrepublicof",
    "unitedrepublicof",
    "kingdomof",
    "commonwealthof",
    "stateof",
)


def _qualified(
    key: str, names: dict[str, str], prefixes: tuple[str, ...], suffixes: dict[str, set[str]]
) -> str | None:
    """The code of ``key`` read as one of ``names`` with one qualifier: a prefix, or a suffix
    that ``suffixes`` allows for that name's code ("*" for every code). None if there is no
    such reading, or two readings with different codes (ambiguous)."""
    found: set[str] = set()
    for prefix in prefixes:
        if key.startswith(prefix):
            code = names.get(key[len(prefix) :])
            if code is not None:
                found.add(code)
    for length in range(2, len(key) - 1):
        code = names.get(key[:-length])
        if code is None:
            continue
        allowed = suffixes.get(code, suffixes.get("*", set()))
        if key[-length:] in allowed:
            found.add(code)
    return found.pop() if len(found) == 1 else None


def _build_country_tables() -> tuple[frozenset[str], dict[str, str]]:
    alpha2: set[str] = set()
    names: dict[str, str] = {}
    for line in _ISO_3166.strip().splitlines():
        code, code3, name = line.split()
        alpha2.add(code)
        names[code3] = code
        names[name] = code
    for alias, code in _COUNTRY_ALIASES.items():
        assert code in alpha2, alias
        names[alias] = code
    return frozenset(alpha2), names


_COUNTRY_TABLES: Final = _build_country_tables()
ISO_ALPHA2: Final = _COUNTRY_TABLES[0]
#: Lookup key -> ISO 3166-1 alpha-2 code: alpha-3 codes, names and aliases.
COUNTRY_NAMES: Final = _COUNTRY_TABLES[1]
# Qualifiers go with names only ("DEU Europe" is not how anyone writes a country).
_COUNTRY_FULL_NAMES: Final = {k: v for k, v in COUNTRY_NAMES.items() if len(k) > 3}
_COUNTRY_SUFFIX_SET: Final = {"*": set(_COUNTRY_SUFFIXES)}

#: State and province names and aliases (whole names) -> code.
_STATE_FULL_NAMES: Final = {
    **CA_PROVINCES,
    **US_STATES,
    **{k: v for k, v in _STATE_ALIASES.items()},
}
_STATE_SUFFIX_SETS: Final = {
    code: {*_STATE_SUFFIXES["ca" if code in CA_PROVINCES.values() else "us"], code}
    for code in _STATE_FULL_NAMES.values()
}
#: Lookup key -> state or province code: names, aliases and abbreviations, matched whole.
STATE_NAMES: Final = {**_STATE_FULL_NAMES, **_STATE_ABBREVIATIONS}


def country_code(key: str) -> str | None:
    """The ISO code of the lookup key ``key`` (3+ letters): a name, alias or alpha-3 code, or
    a name with one qualifier; never a name found inside a longer value."""
    code = COUNTRY_NAMES.get(key)
    if code is None:
        code = _qualified(key, _COUNTRY_FULL_NAMES, _COUNTRY_PREFIXES, _COUNTRY_SUFFIX_SET)
    return code


def state_code(key: str) -> str | None:
    """The code of the US state, DC, territory or Canadian province named by the lookup key
    ``key`` (3+ letters), written whole, abbreviated or with one qualifier; else None."""
    code = STATE_NAMES.get(key)
    if code is None:
        code = _qualified(key, _STATE_FULL_NAMES, _STATE_PREFIXES, _STATE_SUFFIX_SETS)
    return code


#: Two-letter inputs that are not ISO codes but mean one unambiguously.
COUNTRY_TWO_LETTER_ALIASES: Final = {"uk": "gb"}

# Gender synonyms, exactly the sets of Meta's reference normalizer: the reference's tests pin
# that near-misses ("males", "male.", "homme") are dropped rather than guessed.
GENDER_SYNONYMS: Final = {
    **dict.fromkeys(
        [
            "m",
            "man",
            "male",
            "boy",
            "gentleman",
            "guy",
            "sir",
            "mister",
            "mr",
            "son",
            "father",
            "dad",
            "daddy",
            "papa",
            "uncle",
            "nephew",
            "brother",
            "husband",
            "boyfriend",
            "groom",
            "widower",
            "king",
            "prince",
            "duke",
            "count",
            "emperor",
            "god",
            "lord",
            "lad",
            "fellow",
            "chap",
            "bloke",
            "dude",
            "he",
            "him",
            "his",
            "himself",
        ],
        "m",
    ),
    **dict.fromkeys(
        [
            "f",
            "woman",
            "female",
            "girl",
            "lady",
            "miss",
            "ms",
            "mrs",
            "madam",
            "ma'am",
            "daughter",
            "mother",
            "mom",
            "mama",
            "mommy",
            "aunt",
            "niece",
            "sister",
            "wife",
            "girlfriend",
            "bride",
            "widow",
            "queen",
            "princess",
            "duchess",
            "countess",
            "empress",
            "goddess",
            "maiden",
            "lass",
            "gal",
            "chick",
            "dame",
            "belle",
            "she",
            "her",
            "hers",
            "herself",
        ],
        "f",
    ),
}
