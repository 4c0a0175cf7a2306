"""Demo and benchmark data, the customer-record half (development only).

* ``create_demo_organisation``: the two demo teams, their managers and salespeople.
* ``DemoNamer``: believable company names (Chinese and English, unique after the
  duplicate check's normalization), places, people, phones and e-mails, drawn from a
  seeded ``random.Random`` so the demo is the same on every machine.
* ``generate_organisation``: many teams and users at once, for benchmarks.

The customers themselves carry a grade, so they are built by ``funnel.demo`` (crm
never imports funnel); ``manage.py seed_demo`` and ``generate_data`` orchestrate.
"""

import io
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import accumulate

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction

from .models import KeyPersonRole, Role, Source, Tag, Team, Tier, User
from .normalize import normalize_company_name, normalize_email, phone_digits

DEMO_TEAMS = {"East": "mgr_east", "West": "mgr_west"}
DEMO_SALESPEOPLE = {
    "East": ["sales_east1", "sales_east2", "sales_east3"],
    "West": ["sales_west1", "sales_west2", "sales_west3"],
}
DEMO_NAMES = {
    "admin": ("Ada", "Admin"),
    "mgr_east": ("Wang", "Fang"),
    "mgr_west": ("Li", "Qiang"),
    "sales_east1": ("Zhang", "Wei"),
    "sales_east2": ("Liu", "Yang"),
    "sales_east3": ("Chen", "Jing"),
    "sales_west1": ("Zhao", "Lei"),
    "sales_west2": ("Huang", "Min"),
    "sales_west3": ("Zhou", "Tao"),
}
# The demo in Chinese (``seed_demo --language zh-hans``): the same people and teams by their Chinese names.
DEMO_NAMES_ZH = {
    "admin": ("系统", "管理员"),
    "mgr_east": ("王", "芳"),
    "mgr_west": ("李", "强"),
    "sales_east1": ("张", "伟"),
    "sales_east2": ("刘", "洋"),
    "sales_east3": ("陈", "静"),
    "sales_west1": ("赵", "磊"),
    "sales_west2": ("黄", "敏"),
    "sales_west3": ("周", "涛"),
}
DEMO_TEAM_NAMES_ZH = {"East": "华东区", "West": "西部区"}


def ensure_demo_allowed() -> None:
    if not settings.DEMO_USERS_ALLOWED:
        raise RuntimeError("Demo users are never created in production mode.")


def demo_logins() -> list[tuple[str, str]]:
    """(username, role) of every demo login, in the order they are printed."""
    logins = [("admin", Role.ADMIN.label)]
    for team, manager in DEMO_TEAMS.items():
        logins.append((manager, f"{Role.MANAGER.label}, {team}"))
        logins.extend((name, f"{Role.SALESPERSON.label}, {team}") for name in DEMO_SALESPEOPLE[team])
    return logins


@transaction.atomic
def create_demo_organisation(today: date, *, chinese: bool = False) -> dict[str, User]:
    """Create the demo users and teams (development only), named in Chinese when
    ``chinese``. Returns users by username (the same usernames in both languages)."""
    ensure_demo_allowed()
    password = make_password(settings.DEMO_PASSWORD)
    names = DEMO_NAMES_ZH if chinese else DEMO_NAMES

    def make_user(username: str, role: str, team: Team | None, hired_days_ago: int) -> User:
        first, last = names[username]
        return User.objects.create(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@demo.funnel.local",
            role=role,
            team=team,
            password=password,
            hire_date=today - timedelta(days=hired_days_ago),
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )

    users = {"admin": make_user("admin", Role.ADMIN, None, 2000)}
    for index, (team_name, manager_name) in enumerate(DEMO_TEAMS.items()):
        team = Team.objects.create(name=DEMO_TEAM_NAMES_ZH[team_name] if chinese else team_name)
        users[manager_name] = make_user(manager_name, Role.MANAGER, team, 1500 - index * 100)
        team.manager = users[manager_name]
        team.save(update_fields=["manager"])
        for position, username in enumerate(DEMO_SALESPEOPLE[team_name]):
            # The third salesperson of each team is a recent hire (< 90 days).
            hired_days_ago = 60 if position == 2 else 400 + position * 200
            users[username] = make_user(username, Role.SALESPERSON, team, hired_days_ago)
    return users


# --- What demo customers are made of ------------------------------------------------

# (Chinese city, pinyin, English, province/municipality = the region, landline area code)
EAST_CITIES = [
    ("上海", "shanghai", "Shanghai", "Shanghai", "021"),
    ("南京", "nanjing", "Nanjing", "Jiangsu", "025"),
    ("苏州", "suzhou", "Suzhou", "Jiangsu", "0512"),
    ("无锡", "wuxi", "Wuxi", "Jiangsu", "0510"),
    ("常州", "changzhou", "Changzhou", "Jiangsu", "0519"),
    ("杭州", "hangzhou", "Hangzhou", "Zhejiang", "0571"),
    ("宁波", "ningbo", "Ningbo", "Zhejiang", "0574"),
    ("温州", "wenzhou", "Wenzhou", "Zhejiang", "0577"),
    ("济南", "jinan", "Jinan", "Shandong", "0531"),
    ("青岛", "qingdao", "Qingdao", "Shandong", "0532"),
    ("合肥", "hefei", "Hefei", "Anhui", "0551"),
    ("厦门", "xiamen", "Xiamen", "Fujian", "0592"),
]
WEST_CITIES = [
    ("成都", "chengdu", "Chengdu", "Sichuan", "028"),
    ("绵阳", "mianyang", "Mianyang", "Sichuan", "0816"),
    ("重庆", "chongqing", "Chongqing", "Chongqing", "023"),
    ("西安", "xian", "Xi'an", "Shaanxi", "029"),
    ("昆明", "kunming", "Kunming", "Yunnan", "0871"),
    ("贵阳", "guiyang", "Guiyang", "Guizhou", "0851"),
    ("兰州", "lanzhou", "Lanzhou", "Gansu", "0931"),
    ("银川", "yinchuan", "Yinchuan", "Ningxia", "0951"),
]
# A Chinese demo shows its regions (the city's province or municipality) and industries in Chinese.
PROVINCES_ZH = {
    "Shanghai": "上海",
    "Jiangsu": "江苏",
    "Zhejiang": "浙江",
    "Shandong": "山东",
    "Anhui": "安徽",
    "Fujian": "福建",
    "Sichuan": "四川",
    "Chongqing": "重庆",
    "Shaanxi": "陕西",
    "Yunnan": "云南",
    "Guizhou": "贵州",
    "Gansu": "甘肃",
    "Ningxia": "宁夏",
}
# Trade name (Chinese, pinyin) and English trade names.
ZH_BRANDS = [
    ("华东", "huadong"),
    ("恒通", "hengtong"),
    ("鑫达", "xinda"),
    ("宏远", "hongyuan"),
    ("永盛", "yongsheng"),
    ("金桥", "jinqiao"),
    ("瑞丰", "ruifeng"),
    ("天成", "tiancheng"),
    ("博远", "boyuan"),
    ("联创", "lianchuang"),
    ("安泰", "antai"),
    ("精诚", "jingcheng"),
    ("华信", "huaxin"),
    ("东方", "dongfang"),
    ("长江", "changjiang"),
    ("海川", "haichuan"),
    ("卓越", "zhuoyue"),
    ("鼎盛", "dingsheng"),
    ("嘉禾", "jiahe"),
    ("海德", "haide"),
    ("盛世", "shengshi"),
    ("龙腾", "longteng"),
    ("星辰", "xingchen"),
    ("汇通", "huitong"),
    ("巨丰", "jufeng"),
    ("广源", "guangyuan"),
    ("德润", "derun"),
    ("中和", "zhonghe"),
    ("凯达", "kaida"),
    ("聚力", "juli"),
    ("远航", "yuanhang"),
    ("蓝海", "lanhai"),
    ("启明", "qiming"),
    ("同创", "tongchuang"),
    ("宏图", "hongtu"),
    ("恒泰", "hengtai"),
    ("瑞达", "ruida"),
    ("佳和", "jiahe"),
    ("信达", "xinda"),
    ("弘毅", "hongyi"),
]
EN_BRANDS = [
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Blue Harbor",
    "Silverline",
    "Redwood",
    "Pacific Rim",
    "Evergreen",
    "Summit",
    "Orion",
    "Apex",
    "Harbor Point",
    "Lakeside",
    "Greenfield",
    "Sterling",
    "Crescent",
    "Meridian",
    "Pioneer",
    "Horizon",
    "Atlas",
    "Bluewater",
    "Golden Bridge",
    "Jade River",
    "Dragon Gate",
    "Eastwind",
    "Westbay",
    "Cathay",
    "Lotus",
    "Phoenix",
    "Oriental Pearl",
]
# Industry → (Chinese business words with pinyin, English business words).
INDUSTRIES = {
    "Machinery": (
        [("机电", "jidian"), ("机械设备", "jixie"), ("自动化设备", "zidonghua")],
        ["Machinery", "Automation", "Engineering"],
    ),
    "Electronics": (
        [("电子", "dianzi"), ("电子科技", "dianzikeji"), ("半导体", "bandaoti")],
        ["Electronics", "Semiconductor", "Microsystems"],
    ),
    "Logistics": (
        [("物流", "wuliu"), ("供应链管理", "gongyinglian"), ("国际货运", "huoyun")],
        ["Logistics", "Freight", "Supply Chain"],
    ),
    "Medical devices": (
        [("医疗器械", "yiliao"), ("生物医药", "shengwu")],
        ["Medical", "Healthcare", "Life Sciences"],
    ),
    "Chemicals": ([("化工", "huagong"), ("新材料", "xincailiao")], ["Chemicals", "Materials"]),
    "Food & beverage": ([("食品", "shipin"), ("饮料", "yinliao")], ["Foods", "Beverages"]),
    "Textiles": ([("纺织", "fangzhi"), ("服饰", "fushi")], ["Textiles", "Apparel"]),
    "Construction materials": (
        [("建材", "jiancai"), ("建筑工程", "jianzhu")],
        ["Building Materials", "Construction"],
    ),
    "Software & IT": (
        [("软件", "ruanjian"), ("信息技术", "xinxi"), ("网络科技", "wangluo")],
        ["Software", "Systems", "Digital"],
    ),
    "Automotive parts": ([("汽车零部件", "qipei"), ("汽配", "qipei")], ["Auto Parts", "Automotive"]),
    "Energy": ([("新能源", "xinnengyuan"), ("电力设备", "dianli")], ["Energy", "Power Systems", "Solar"]),
    "Trading": (
        [("贸易", "maoyi"), ("商贸", "shangmao"), ("进出口", "jinchukou")],
        ["Trading", "Import & Export", "Distribution"],
    ),
}
INDUSTRIES_ZH = {
    "Machinery": "机械设备",
    "Electronics": "电子",
    "Logistics": "物流",
    "Medical devices": "医疗器械",
    "Chemicals": "化工",
    "Food & beverage": "食品饮料",
    "Textiles": "纺织服装",
    "Construction materials": "建材",
    "Software & IT": "软件和信息技术",
    "Automotive parts": "汽车零部件",
    "Energy": "能源",
    "Trading": "贸易",
}
ZH_SUFFIXES = [("有限公司", 70), ("股份有限公司", 15), ("集团有限公司", 8), ("科技有限公司", 7)]
EN_SUFFIXES = [
    ("Co., Ltd.", 45),
    ("Ltd.", 15),
    ("Inc.", 10),
    ("Group", 8),
    ("Corporation", 7),
    ("({city}) Co., Ltd.", 15),
]
ROADS = [
    ("人民路", "Renmin Road"),
    ("中山路", "Zhongshan Road"),
    ("解放路", "Jiefang Road"),
    ("建设路", "Jianshe Road"),
    ("科技园路", "Science Park Road"),
    ("工业大道", "Industrial Avenue"),
    ("长江路", "Changjiang Road"),
    ("黄河路", "Huanghe Road"),
    ("新华路", "Xinhua Road"),
    ("创新大道", "Innovation Avenue"),
    ("高新路", "Gaoxin Road"),
    ("开发区大道", "Development Zone Avenue"),
]

ZH_SURNAMES = [
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("周", "zhou"),
    ("吴", "wu"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("林", "lin"),
    ("高", "gao"),
    ("罗", "luo"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
    ("许", "xu"),
    ("韩", "han"),
    ("冯", "feng"),
    ("邓", "deng"),
    ("曹", "cao"),
]
ZH_GIVEN = [
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("娟", "juan"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀英", "xiuying"),
    ("华", "hua"),
    ("平", "ping"),
    ("建华", "jianhua"),
    ("志强", "zhiqiang"),
    ("晓东", "xiaodong"),
    ("海燕", "haiyan"),
    ("雪梅", "xuemei"),
    ("文博", "wenbo"),
    ("子涵", "zihan"),
    ("浩然", "haoran"),
    ("思远", "siyuan"),
    ("建国", "jianguo"),
    ("立新", "lixin"),
    ("红梅", "hongmei"),
    ("玉兰", "yulan"),
]
EN_FIRST = [
    "James",
    "Mary",
    "Robert",
    "Linda",
    "Michael",
    "Sarah",
    "David",
    "Emma",
    "Daniel",
    "Olivia",
    "Thomas",
    "Grace",
    "Kevin",
    "Sophie",
    "Peter",
    "Anna",
    "Mark",
    "Lucy",
    "Steven",
    "Helen",
    "Jason",
    "Cindy",
    "Eric",
    "Vivian",
]
EN_LAST = [
    "Smith",
    "Chen",
    "Wong",
    "Brown",
    "Lee",
    "Taylor",
    "Miller",
    "Wilson",
    "Lin",
    "Davis",
    "Clark",
    "Walker",
    "Young",
    "Hall",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Zhang",
    "Liu",
]

TITLES = {
    KeyPersonRole.DECISION_MAKER: (
        ["总经理", "董事长", "采购总监", "副总经理"],
        ["General Manager", "Managing Director", "Procurement Director", "VP Operations"],
    ),
    KeyPersonRole.RECOMMENDER: (
        ["技术总监", "生产经理", "工程部经理", "IT经理"],
        ["Technical Director", "Plant Manager", "Engineering Manager", "IT Manager"],
    ),
    KeyPersonRole.INFLUENCER: (
        ["总经理助理", "行政主管", "秘书"],
        ["Executive Assistant", "Office Manager", "Secretary"],
    ),
    KeyPersonRole.USER: (["工程师", "车间主任", "采购专员"], ["Engineer", "Workshop Supervisor", "Buyer"]),
    KeyPersonRole.OTHER: (["财务经理", "前台"], ["Finance Manager", "Receptionist"]),
}
PREFERENCES = (
    [
        "喜欢喝茶,上午联系为宜",
        "微信沟通最快",
        "周末打高尔夫",
        "关注售后服务和交付周期",
        "不喜欢电话推销,先发资料",
        "看重性价比",
        "孩子在读高中,周五下午较忙",
    ],
    [
        "Prefers e-mail; answers within a day",
        "Plays golf on weekends",
        "Cares about delivery times and service",
        "Call before 10 am",
        "Wants references from the same industry",
        "Price-sensitive, asks for total cost",
    ],
)
COMPETITORS = [
    "Siemens",
    "Schneider Electric",
    "ABB",
    "Honeywell",
    "本地供应商",
    "上海宏达",
    "Local distributor",
    "In-house team",
    "原合作厂家",
]
COMPETITORS_ZH = [
    "西门子",
    "施耐德电气",
    "ABB",
    "霍尼韦尔",
    "本地供应商",
    "上海宏达",
    "本地经销商",
    "客户自建团队",
    "原合作厂家",
]
TAG_NAMES = [
    "price-sensitive",
    "state-owned",
    "foreign-invested",
    "listed company",
    "strategic account",
    "budget in Q4",
    "referral source",
]
TAG_NAMES_ZH = ["价格敏感", "国有企业", "外资企业", "上市公司", "战略客户", "四季度有预算", "转介绍来源"]
SOURCE_WEIGHTS = [
    (Source.REFERRAL, 18),
    (Source.COLD_CALL, 22),
    (Source.EXHIBITION, 15),
    (Source.WEBSITE, 15),
    (Source.ADVERTISING, 7),
    (Source.PARTNER, 8),
    (Source.EXISTING, 8),
    (Source.OTHER, 7),
]
TIER_WEIGHTS = [(Tier.PRIORITY, 20), (Tier.NORMAL, 55), (Tier.LOW, 25)]
# Expected yearly value (CNY) by tier: the target-market segment follows purchasing power.
TIER_VALUE_RANGE = {
    Tier.PRIORITY: (500_000, 5_000_000),
    Tier.NORMAL: (100_000, 2_000_000),
    Tier.LOW: (50_000, 500_000),
}


_CUMULATIVE: dict[int, tuple[tuple, list[float]]] = {}


def pick(rng: random.Random, weighted: list[tuple]) -> object:
    """One value from ``[(value, weight), …]`` (a module-level constant: its sums are cached)."""
    if id(weighted) not in _CUMULATIVE:
        values, weights = zip(*weighted, strict=True)
        _CUMULATIVE[id(weighted)] = (values, list(accumulate(weights)))
    values, cumulative = _CUMULATIVE[id(weighted)]
    return rng.choices(values, cum_weights=cumulative)[0]


@dataclass
class Company:
    """What a customer row is made of, before it has an owner and a grade."""

    name: str
    name_normalized: str
    chinese: bool
    industry: str
    region: str
    city: str
    address: str
    phone: str
    email: str
    domain: str
    tier: str
    source: str
    expected_value: Decimal
    employees: int
    annual_revenue: Decimal
    competitor: str


@dataclass
class Person:
    name: str
    title: str
    role: str
    phone: str
    email: str
    wechat: str
    preferences: str


class DemoNamer:
    """Draws companies and people from a seeded ``Random``.

    ``numbered=True`` (benchmarks) puts a running number in every company name, which
    keeps names unique after normalization at any volume without remembering them;
    otherwise names are checked against ``taken`` (normalized names already in use).
    Phones are unique too: a mobile number is an affine bijection of a counter, so the
    duplicate check (查重) never sees two customers sharing one by accident.
    """

    def __init__(
        self,
        rng: random.Random,
        *,
        numbered: bool = False,
        start: int = 0,
        taken: set[str] | None = None,
        chinese_share: float = 0.7,
        mobile_prefix: str = "139",
        chinese_labels: bool = False,
    ):
        self.rng = rng
        self.chinese_labels = chinese_labels  # regions, industries and competitors in Chinese
        self.numbered = numbered
        self.counter = start
        self.taken = set(taken or ())
        self.chinese_share = chinese_share
        self.mobile_prefix = mobile_prefix
        self.phone_counter = start * 4
        self.emails: set[str] = set()

    # Phones: a counter through x → low + (x·7919 + 12345) mod span (7919 is prime, so
    # this is a bijection) is unique and looks random.
    def _unique_number(self, low: int, high: int) -> int:
        self.phone_counter += 1
        return low + (self.phone_counter * 7919 + 12345) % (high - low)

    def mobile(self) -> str:
        return f"{self.mobile_prefix}{self._unique_number(0, 10**8):08d}"

    def landline(self, area_code: str) -> str:
        """Local numbers have 8 digits and never start with 0 or 1."""
        return f"{area_code}-{self._unique_number(2 * 10**7, 9 * 10**7)}"

    def company(self, cities: list[tuple], tier: str | None = None) -> Company:
        rng = self.rng
        for _attempt in range(1000):
            name, chinese, industry, city, domain = self._company_name(cities)
            normalized = normalize_company_name(name)
            if self.numbered:  # unique by construction
                break
            if normalized and normalized not in self.taken:
                self.taken.add(normalized)
                break
        else:  # pragma: no cover - only with tiny pools
            raise RuntimeError("Ran out of distinct demo company names.")
        tier = tier or pick(rng, TIER_WEIGHTS)
        low, high = TIER_VALUE_RANGE[tier]
        # Log-uniform: many modest accounts, a few big ones; rounded like a salesperson would.
        expected = round(low * (high / low) ** rng.random(), -4)
        employees = max(10, int(expected / rng.uniform(1_000, 8_000)) // 10 * 10)
        city_zh, _pinyin, city_en, region, area_code = city
        road_zh, road_en = rng.choice(ROADS)
        number = rng.randint(1, 999)
        address = f"{city_zh}市{road_zh}{number}号" if chinese else f"No. {number} {road_en}, {city_en}"
        email = ""
        if rng.random() >= 0.3:
            email = self._unique_email(rng.choice(["info", "sales", "contact"]), domain)
        if self.chinese_labels:
            industry, region = INDUSTRIES_ZH[industry], PROVINCES_ZH[region]
        return Company(
            name=name,
            name_normalized=normalized,
            chinese=chinese,
            industry=industry,
            region=region,
            city=city_en,
            address=address,
            phone=self.landline(area_code),
            email=email,
            domain=domain,
            tier=tier,
            source=pick(rng, SOURCE_WEIGHTS),
            expected_value=Decimal(int(expected)),
            employees=employees,
            annual_revenue=Decimal(int(round(employees * rng.uniform(300_000, 1_500_000), -5))),
            competitor=rng.choice(COMPETITORS_ZH if self.chinese_labels else COMPETITORS)
            if rng.random() < 0.4
            else "",
        )

    def _company_name(self, cities: list[tuple]) -> tuple[str, bool, str, tuple, str]:
        rng = self.rng
        industry = rng.choice(list(INDUSTRIES))
        zh_words, en_words = INDUSTRIES[industry]
        city = rng.choice(cities)
        number = ""
        if self.numbered:
            self.counter += 1
            number = str(self.counter)
        if rng.random() < self.chinese_share:
            brand, brand_pinyin = rng.choice(ZH_BRANDS)
            word, word_pinyin = rng.choice(zh_words)
            suffix = pick(rng, ZH_SUFFIXES)
            name = f"{city[0]}{brand}{word}{number}{suffix}"
            domain = f"{brand_pinyin}{word_pinyin}{number}.com.cn"
            return name, True, industry, city, domain
        brand = rng.choice(EN_BRANDS)
        word = rng.choice(en_words)
        suffix = pick(rng, EN_SUFFIXES).format(city=city[2])
        name = f"{brand} {word} {number} {suffix}" if number else f"{brand} {word} {suffix}"
        slug = "".join(ch for ch in f"{brand}{word.split()[0]}".lower() if ch.isalnum())
        return name, False, industry, city, f"{slug}{number}.com"

    def _unique_email(self, local: str, domain: str) -> str:
        email, n = f"{local}@{domain}", 1
        while email in self.emails:
            n += 1
            email = f"{local}{n}@{domain}"
        self.emails.add(email)
        return email

    def person(self, company: Company, role: str) -> Person:
        rng = self.rng
        titles_zh, titles_en = TITLES[role]
        if company.chinese or rng.random() < 0.4:
            (surname, surname_py), (given, given_py) = rng.choice(ZH_SURNAMES), rng.choice(ZH_GIVEN)
            name, local = f"{surname}{given}", f"{given_py}.{surname_py}"
            title = rng.choice(titles_zh) if company.chinese else rng.choice(titles_en)
        else:
            first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
            name, local, title = f"{first} {last}", f"{first}.{last}".lower(), rng.choice(titles_en)
        preferences = ""
        if rng.random() < 0.3:
            preferences = rng.choice(PREFERENCES[0] if company.chinese else PREFERENCES[1])
        return Person(
            name=name,
            title=title,
            role=role,
            phone=self.mobile(),
            email=self._unique_email(local, company.domain) if rng.random() < 0.8 else "",
            wechat=f"wxid_{rng.getrandbits(40):010x}" if company.chinese and rng.random() < 0.7 else "",
            preferences=preferences,
        )


def customer_row_fields(company: Company) -> dict:
    """Keyword arguments of ``Customer`` for a company, normalized columns included
    (``bulk_create`` does not call ``save()``, which fills them otherwise)."""
    return {
        "name": company.name,
        "name_normalized": company.name_normalized,
        "industry": company.industry,
        "region": company.region,
        "address": company.address,
        "phone": company.phone,
        "phone_digits": phone_digits(company.phone),
        "email": company.email,
        "email_normalized": normalize_email(company.email),
        "employees": company.employees,
        "annual_revenue": company.annual_revenue,
        "source": company.source,
        "tier": company.tier,
        "expected_value": company.expected_value,
        "competitor": company.competitor,
    }


def contact_row_fields(person: Person) -> dict:
    """Keyword arguments of ``Contact`` for a person, normalized columns included."""
    return {
        "name": person.name,
        "title": person.title,
        "role": person.role,
        "phone": person.phone,
        "phone_digits": phone_digits(person.phone),
        "email": person.email,
        "email_normalized": normalize_email(person.email),
        "wechat": person.wechat,
        "preferences": person.preferences,
    }


# --- A large organisation, for benchmarks --------------------------------------------


def generate_organisation(
    *, teams: int, users: int, today: date, rng: random.Random, batch_size: int = 5000
) -> dict[str, list[User]]:
    """``teams`` teams (a few regions, the rest their sub-teams), each with a manager,
    and ``users`` users in all: one admin, the managers, the rest salespeople spread over
    the teams. Set-based: a handful of INSERTs. Names carry a run number, so it can run
    again on the same database. Returns ``{"admins", "managers", "salespeople"}``."""
    if teams < 1 or users < teams + 2:
        raise ValueError(
            "Need at least one team, and users ≥ teams + 2 (an admin, the managers and a salesperson)."
        )
    run = (User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    # Generated users can sign in with the demo password in development; never in production.
    password = make_password(settings.DEMO_PASSWORD if settings.DEMO_USERS_ALLOWED else None)
    regions = max(1, teams // 5)
    team_rows = [Team(name=f"Region {run}-{n + 1}") for n in range(regions)]
    Team.objects.bulk_create(team_rows, batch_size=batch_size)
    sub_teams = [
        Team(name=f"Team {run}-{n + 1}", parent=team_rows[n % regions]) for n in range(teams - regions)
    ]
    Team.objects.bulk_create(sub_teams, batch_size=batch_size)
    all_teams = team_rows + sub_teams

    def user(username: str, role: str, team: Team | None, hired_days_ago: int) -> User:
        (_surname, surname_py), (_given, given_py) = rng.choice(ZH_SURNAMES), rng.choice(ZH_GIVEN)
        return User(
            username=username,
            first_name=given_py.title(),
            last_name=surname_py.title(),
            email=f"{username}@bench.funnel.local",
            role=role,
            team=team,
            password=password,
            hire_date=today - timedelta(days=hired_days_ago),
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )

    admins = [user(f"admin_{run}", Role.ADMIN, None, 3000)]
    managers = [
        user(f"mgr_{run}_{n + 1}", Role.MANAGER, team, rng.randint(700, 3000))
        for n, team in enumerate(all_teams)
    ]
    salespeople = [
        # About one in ten is a recent hire (< 90 days in the company).
        user(
            f"sales_{run}_{n + 1}",
            Role.SALESPERSON,
            all_teams[n % len(all_teams)],
            rng.randint(20, 89) if rng.random() < 0.1 else rng.randint(90, 2500),
        )
        for n in range(users - 1 - len(all_teams))
    ]
    User.objects.bulk_create(admins + managers + salespeople, batch_size=batch_size)
    for team, manager in zip(all_teams, managers, strict=True):
        team.manager = manager
    Team.objects.bulk_update(all_teams, ["manager"], batch_size=batch_size)
    return {"admins": admins, "managers": managers, "salespeople": salespeople}


IMPORT_HEADERS = [
    "Name",
    "Grade",
    "Owner (username)",
    "Tier",
    "Industry",
    "Region",
    "Phone",
    "E-mail",
    "Expected yearly value (CNY)",
    "Expected signing date",
    "Tags",
    "Contact name",
    "Key-person role",
    "Contact phone",
    "Contact e-mail",
]
# The tags of ``import_workbook``'s rows: demo tags, as an admin adds them (only admins add new tags).
IMPORT_TAGS = TAG_NAMES[:2]


def ensure_import_tags() -> None:
    """The tags ``import_workbook`` uses, for a database without the demo data."""
    Tag.objects.bulk_create([Tag(name=name) for name in IMPORT_TAGS], ignore_conflicts=True)


def import_workbook(rows: int, owners: list[str]) -> bytes:
    """A customer-import workbook of ``rows`` new customers (each with a contact), owned
    in turn by ``owners`` (usernames; "" leaves a row to the importer), for the import's
    scale test and benchmark. Saved as Excel saves, with shared strings and a <dimension>
    element (a write-only openpyxl workbook has neither, and reads differently)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(IMPORT_HEADERS)
    for i in range(rows):
        sheet.append(
            [
                f"规模测试客户{i}有限公司",
                "EDCBA"[i % 5],
                owners[i % len(owners)],
                "normal",
                "制造业",
                "华东",
                # Local numbers from 9 and mobiles from 197: outside the generated organisation's
                # (``DemoNamer.landline``, ``mobile``), so the rows are new customers in a benchmark too.
                f"021-9{i:07d}",
                f"buyer{i}@example.cn",
                50000 + i,
                "2026-12-31",
                ",".join(IMPORT_TAGS),
                f"李{i}",
                "decision_maker",
                f"197{i:08d}",
                f"li{i}@example.cn",
            ]
        )
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
