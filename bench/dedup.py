"""Near-duplicate detection benchmark: ``python -m bench.dedup``.

Builds a labelled set of synthetic Vietnamese news articles: stories whose sentences are
recombined from the replica pages (``tests/sites/*``) with fresh names, places and numbers,
plus the boilerplate of six event types (ministry conferences, crackdowns, drug busts, fraud
warnings, citizen receptions, inspections). Every story is republished 1-7 times with the
changes the real sites make (lead prefix, credit line, a paragraph dropped or added, the last
paragraph trimmed, a new title, entities or NFD text). A third of the stories are *siblings*:
a different story about the same event, same place and date, sharing its boilerplate word for
word; they must not cluster.

Prints: exact Jaccard of copies vs unrelated stories per shingle size; pairwise precision and
recall of :mod:`storage.dedup` clustering per threshold; time and peak Python memory to index
10k and 100k articles into a temp-file database (the ratio should be ~10x: constant time per
insert).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import statistics
import tempfile
import time
import tracemalloc
import unicodedata
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import numpy.typing as npt
import sqlite_utils
from datasketch import MinHash
from datasketch.hashfunc import sha1_hash32
from lxml import html as lxml_html

from crawler.testing.replica import SITES_DIR
from storage import dedup, dedup_index, tables
from storage.db import open_db
from storage.tables import create_dedup_tables

VN = timezone(timedelta(hours=7))
POOL = 10_000
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÀ-ỸĐ“\"])")

PROVINCES = tuple(
    (
        "Hà Nội|TP.HCM|Hải Phòng|Đà Nẵng|Cần Thơ|Lai Châu|Lào Cai|Sơn La|Điện Biên|Nghệ An|Thanh Hóa"
        "|Hà Tĩnh|Quảng Bình|Quảng Trị|Huế|Quảng Ngãi|Bình Định|Khánh Hòa|Lâm Đồng|Đắk Lắk|Gia Lai"
        "|Đồng Nai|Tây Ninh|Long An|An Giang|Kiên Giang|Cà Mau|Bạc Liêu|Ninh Bình|Nam Định|Thái Bình"
        "|Bắc Ninh|Hưng Yên|Quảng Ninh|Lạng Sơn|Cao Bằng|Hà Giang|Tuyên Quang|Phú Thọ|Vĩnh Phúc"
    ).split("|")
)
SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý")
MIDDLE = ("Văn", "Thị", "Minh", "Đức", "Hữu", "Quốc", "Thanh", "Ngọc", "Xuân", "Công", "Anh", "Hoài")
GIVEN = ("Nam", "Hùng", "Dũng", "Tuấn", "Lan", "Hà", "Long", "Quang", "Sơn", "Hải", "Bình", "Phúc", "Tâm", "Thắng")
PROGRAMS = tuple(
    (
        "Đề án 06|Chỉ thị 21 của Bộ Công an|phong trào toàn dân bảo vệ an ninh Tổ quốc|Luật Căn cước"
        "|kế hoạch chuyển đổi số|chương trình phòng, chống ma túy|Nghị quyết 12 của Bộ Chính trị"
    ).split("|")
)
OCCASIONS = tuple(
    "Tết Nguyên đán|Đại lễ 30-4|Quốc khánh 2-9|kỳ thi tốt nghiệp THPT|mùa du lịch hè|Đại hội Đảng".split("|")
)
PREFIXES = ("(CAO) ", "(Thanh tra) - ", "ANTĐ - ", "(PLO) - ", "TTXVN - ", "(Chinhphu.vn) - ", "")
CREDITS = tuple(
    (
        "Theo Bộ Công an|Nguồn: Cổng Thông tin điện tử Bộ Công an|Ảnh: BCA|Theo TTXVN"
        "|Theo Báo Công an Nhân dân|Ảnh: Công an cung cấp"
    ).split("|")
)

# Copy editors' word swaps: the same sentence in another outlet's house style.
EDITS = (
    ("Thành phố", "TP"),
    ("đối tượng", "nghi phạm"),
    ("Bộ Công an", "BCA"),
    ("cho biết", "thông tin"),
    ("tỷ đồng", "tỉ đồng"),
    ("lực lượng chức năng", "cơ quan chức năng"),
    ("tổ chức", "tiến hành"),
    ("Công an tỉnh", "CA tỉnh"),
    ("người dân", "bà con"),
    ("thời gian qua", "vừa qua"),
)

# Boilerplate per event type: what unrelated stories about the same kind of event share.
EVENTS: dict[str, tuple[str, list[str]]] = {
    "conference": (
        "Bộ Công an sơ kết {n} tháng triển khai {program} tại {place}",
        [
            "Sáng {d}/{m}, tại {place}, Bộ Công an tổ chức Hội nghị sơ kết {n} tháng triển khai {program}.",
            "Thượng tướng {person}, Ủy viên Trung ương Đảng, Thứ trưởng Bộ Công an chủ trì Hội nghị.",
            "Hội nghị được tổ chức theo hình thức trực tiếp kết hợp trực tuyến tới Công an các đơn vị, địa phương.",
            "Phát biểu chỉ đạo, Thứ trưởng {person} ghi nhận, biểu dương những kết quả mà lực lượng Công an đã đạt được.",
            "Thứ trưởng yêu cầu Công an các đơn vị, địa phương tiếp tục quán triệt, triển khai quyết liệt, đồng bộ các giải pháp.",
            "Kết thúc Hội nghị, Bộ Công an đã khen thưởng các tập thể, cá nhân có thành tích xuất sắc.",
        ],
    ),
    "crackdown": (
        "Công an {place} ra quân cao điểm bảo đảm an ninh, trật tự dịp {occasion}",
        [
            "Ngày {d}-{m}, Công an {place} tổ chức lễ ra quân đợt cao điểm tấn công, trấn áp tội phạm dịp {occasion}.",
            "Dự buổi lễ có Thiếu tướng {person}, Giám đốc Công an {place}, cùng lãnh đạo các sở, ban, ngành.",
            "Đợt cao điểm nhằm bảo đảm tuyệt đối an ninh, an toàn các mục tiêu, công trình trọng điểm trên địa bàn.",
            "Lực lượng Cảnh sát cơ động, Cảnh sát giao thông tăng cường tuần tra, kiểm soát trên các tuyến đường.",
            "Giám đốc Công an {place} yêu cầu cán bộ, chiến sĩ nêu cao tinh thần trách nhiệm, không để bị động, bất ngờ.",
        ],
    ),
    "drugs": (
        "Triệt phá đường dây mua bán trái phép chất ma túy, bắt giữ {n} đối tượng tại {place}",
        [
            "Công an {place} vừa phối hợp với Cục Cảnh sát điều tra tội phạm về ma túy (C04), Bộ Công an triệt phá đường dây mua bán trái phép chất ma túy.",
            "Qua công tác nắm tình hình, lực lượng chức năng phát hiện một nhóm đối tượng có biểu hiện nghi vấn.",
            "Tại cơ quan công an, các đối tượng đã khai nhận toàn bộ hành vi phạm tội của mình.",
            "Hiện vụ án đang được Cơ quan Cảnh sát điều tra Công an {place} tiếp tục điều tra, mở rộng, xử lý theo quy định của pháp luật.",
        ],
    ),
    "fraud": (
        "Cảnh giác thủ đoạn giả danh công an gọi điện lừa đảo tại {place}",
        [
            "Thời gian gần đây, Công an {place} liên tục tiếp nhận trình báo của người dân về việc bị các đối tượng giả danh cơ quan công an gọi điện.",
            "Các đối tượng yêu cầu người dân cài đặt ứng dụng giả mạo, cung cấp mã OTP rồi chiếm đoạt tiền trong tài khoản.",
            "Công an {place} khuyến cáo người dân tuyệt đối không cung cấp thông tin cá nhân, tài khoản ngân hàng qua điện thoại.",
            "Khi phát hiện dấu hiệu nghi vấn, người dân cần báo ngay cho cơ quan công an gần nhất để được hướng dẫn.",
        ],
    ),
    "reception": (
        "{place}: Giải quyết nhiều vụ việc khiếu nại kéo dài qua buổi tiếp công dân",
        [
            "Ngày {d}/{m}, Chủ tịch UBND tỉnh {place} chủ trì buổi tiếp công dân định kỳ tại Trụ sở tiếp công dân của tỉnh.",
            "Tham dự có đại diện Thanh tra tỉnh, Ban Tiếp công dân tỉnh và lãnh đạo các sở, ngành liên quan.",
            "Phát biểu kết luận, Chủ tịch UBND tỉnh nhấn mạnh công tác tiếp công dân, giải quyết khiếu nại, tố cáo là nhiệm vụ chính trị quan trọng.",
            "Các sở, ngành được yêu cầu rà soát, giải quyết dứt điểm các vụ việc đúng quy định của pháp luật.",
        ],
    ),
    "inspection": (
        "Thanh tra tỉnh {place} chỉ ra nhiều thiếu sót trong quản lý đất công",
        [
            "Thanh tra tỉnh {place} vừa ban hành kết luận thanh tra việc quản lý, sử dụng đất công trên địa bàn.",
            "Kết luận thanh tra chỉ rõ nhiều thiếu sót trong công tác quản lý, để xảy ra tình trạng lấn chiếm, sử dụng sai mục đích.",
            "Thanh tra tỉnh kiến nghị Chủ tịch UBND tỉnh chỉ đạo kiểm điểm trách nhiệm các tập thể, cá nhân có liên quan.",
            "Đồng thời yêu cầu thu hồi về ngân sách nhà nước số tiền sai phạm theo quy định.",
        ],
    ),
}
# Story-specific facts: many slots, so no two stories tell the same one.
FACTS = (
    "Khoảng {h} giờ ngày {d}/{m}, tổ công tác phát hiện {name} ({age} tuổi, trú tại {place}) có biểu hiện nghi vấn.",
    "Khám xét khẩn cấp nơi ở của {name}, cơ quan chức năng thu giữ {n} điện thoại di động và nhiều tài liệu liên quan.",
    "Theo hồ sơ, {name} đã chiếm đoạt của {n2} người bị hại tổng số tiền hơn {n3} tỷ đồng.",
    "Từ đầu năm đến nay, Công an {place} đã phát hiện, xử lý {n2} vụ việc, {n} đối tượng vi phạm.",
    "Ông {name}, {age} tuổi, ở {place}, cho biết gia đình đã nhiều lần gửi đơn đến cơ quan chức năng từ năm {year}.",
    "Tổng diện tích đất bị sử dụng sai mục đích là {n3}.{n2} m2, tập trung tại {n} xã của huyện.",
)


@dataclass
class Story:
    label: int
    event: str
    title: str
    lead: str
    paragraphs: list[str]
    published: datetime


@dataclass
class Article:
    key: str
    label: int
    site: str
    published_at: str
    title: str
    lead: str
    body: str
    changes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return dedup.dedup_text(self.lead, self.body)


def load_sentences(sites: Path = SITES_DIR) -> list[str]:
    """Distinct sentences of the replica articles (golden bodies, hand-written facts)."""
    paragraphs: list[str] = []
    for path in sorted(sites.glob("*/expected/*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        paragraphs += [record.get("lead") or "", *record["body"].split("\n")]
    for path in sorted(sites.glob("*/truth.json")):
        for facts in json.loads(path.read_text(encoding="utf-8")).values():
            paragraphs += [facts.get(k) or "" for k in ("lead", "body_first", "body_last")]
    found = (s.strip() for p in paragraphs for s in _SENTENCE_END.split(p))
    return sorted({s for s in found if len(s) >= 40 and not s.startswith("(")})


class Generator:
    """Stories and their republished copies, reproducible from a seed."""

    def __init__(self, sentences: Sequence[str], seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.sentences = list(sentences)
        self.labels = itertools.count()
        self._places = re.compile("|".join(re.escape(p) for p in sorted(PROVINCES, key=len, reverse=True)))

    def slots(self) -> dict[str, str]:
        r = self.rng
        return {
            "place": r.choice(PROVINCES),
            "person": self.name(),
            "program": r.choice(PROGRAMS),
            "occasion": r.choice(OCCASIONS),
            "d": str(r.randint(1, 28)),
            "m": str(r.randint(1, 12)),
            "n": str(r.randint(2, 19)),
        }

    def name(self) -> str:
        return f"{self.rng.choice(SURNAMES)} {self.rng.choice(MIDDLE)} {self.rng.choice(GIVEN)}"

    def fact(self, slots: dict[str, str]) -> str:
        r = self.rng
        extra = {
            "h": str(r.randint(1, 23)),
            "name": self.name(),
            "age": str(r.randint(18, 70)),
            "n2": str(r.randint(10, 999)),
            "n3": str(r.randint(2, 900)),
            "year": str(r.randint(2005, 2023)),
        }
        return r.choice(FACTS).format(**{**slots, **extra, "place": r.choice(PROVINCES)})

    def pool_sentence(self) -> str:
        """A replica sentence with its numbers and places changed, as another story would say it."""
        r = self.rng
        text = re.sub(r"\d+", lambda m: str(r.randint(1, 10 ** len(m.group()))), r.choice(self.sentences))
        return self._places.sub(lambda _m: r.choice(PROVINCES), text)

    def story(self, sibling_of: Story | None = None, slots: dict[str, str] | None = None) -> Story:
        """A new story; a sibling has the same event, place and date, and so the same boilerplate."""
        r = self.rng
        event = sibling_of.event if sibling_of else r.choice(sorted(EVENTS))
        slots = slots or self.slots()
        title_template, boilerplate = EVENTS[event]
        lines = [b.format(**slots) for b in boilerplate]
        lead, stock = lines[0], lines[1:]
        paragraphs = []
        for _ in range(r.randint(6, 10)):
            sentences = []
            for _ in range(r.randint(1, 3)):
                pick = r.random()
                if pick < 0.3 and stock:
                    sentences.append(stock.pop(0))
                elif pick < 0.55:
                    sentences.append(self.fact(slots))
                else:
                    sentences.append(self.pool_sentence())
            paragraphs.append(" ".join(sentences))
        published = datetime(2025, 1, 1, 6, tzinfo=VN) + timedelta(minutes=r.randint(0, 525_600))
        if sibling_of:
            published = sibling_of.published + timedelta(minutes=r.randint(-600, 600))
        title = title_template.format(**slots)
        return Story(next(self.labels), event, title, lead, paragraphs, published)

    def copy(self, story: Story, number: int) -> Article:
        """Copy ``number`` of a story (0: the original), changed the way republishers change it."""
        r = self.rng
        title, lead, paragraphs = story.title, story.lead, list(story.paragraphs)
        changes: list[str] = []
        published = story.published
        if number:
            published += timedelta(minutes=r.randint(20, 4000))
            if r.random() < 0.9:
                lead, changes = r.choice(PREFIXES) + lead, [*changes, "prefix"]
            if r.random() < 0.6:
                paragraphs, changes = [*paragraphs, r.choice(CREDITS)], [*changes, "credit"]
            if r.random() < 0.4:
                del paragraphs[r.randrange(len(paragraphs))]
                changes.append("drop")
            if r.random() < 0.4:
                paragraphs.insert(r.randrange(len(paragraphs) + 1), self.pool_sentence())
                changes.append("add")
            if r.random() < 0.3:
                paragraphs = paragraphs[:-1]
                changes.append("trim")
            if r.random() < 0.3:
                old, new = r.choice(EDITS)
                paragraphs = [p.replace(old, new) if r.random() < 0.5 else p for p in paragraphs]
                lead, changes = lead.replace(old, new), [*changes, "edit"]
            if r.random() < 0.7:
                title, changes = f"{r.choice(PROVINCES)}: {title.split(' ', 3)[-1]}", [*changes, "title"]
            if r.random() < 0.2:
                # What the record holds is the extractor's text of that HTML: lxml decodes the
                # entities once (storage/text.py), as it does for every crawled page.
                paragraphs = [as_extracted(self.encode(p)) for p in paragraphs]
                changes = [*changes, "encoding"]
        return Article(
            key=f"{story.label}-{number}",
            label=story.label,
            site=("bocongan", "cao", "thanhtra")[r.randrange(3)],
            published_at=published.isoformat(),
            title=title,
            lead=lead,
            body="\n".join(paragraphs),
            changes=changes,
        )

    def encode(self, text: str) -> str:
        """The same text as another site's CMS writes it: NFD, or accented letters as entities."""
        if self.rng.random() < 0.5:
            return unicodedata.normalize("NFD", text)
        return "".join(f"&#{ord(c)};" if ord(c) > 0x1E00 else c for c in text).replace("“", "&ldquo;")


def as_extracted(html_text: str) -> str:
    """The text extraction takes from a paragraph of HTML: entities decoded by the parser."""
    return str(lxml_html.fragment_fromstring(html_text, create_parent="p").text_content())


def labelled_set(sentences: Sequence[str], stories: int = 420, seed: int = 7) -> list[Article]:
    """Stories with 1-7 copies each; a third are same-event siblings of an earlier story."""
    gen = Generator(sentences, seed)
    made: list[tuple[Story, dict[str, str]]] = []
    articles = []
    for _ in range(stories):
        if made and gen.rng.random() < 0.33:
            parent, slots = gen.rng.choice(made)
            story = gen.story(sibling_of=parent, slots=slots)
        else:
            slots = gen.slots()
            story = gen.story(slots=slots)
        made.append((story, slots))
        articles += [gen.copy(story, n) for n in range(gen.rng.randint(2, 8))]
    gen.rng.shuffle(articles)  # crawl order is not publication order
    return articles


def pairwise(labels: dict[str, int], clusters: dict[str, int]) -> tuple[float, float]:
    """Pairwise precision and recall of a clustering (key -> cluster id) against labels."""

    def pairs(counts: Counter[object]) -> int:
        return sum(c * (c - 1) // 2 for c in counts.values())

    true_pairs = pairs(Counter(labels.values()))
    predicted = pairs(Counter(clusters.values()))
    correct = pairs(Counter((labels[k], clusters[k]) for k in labels))
    return (correct / predicted if predicted else 1.0), (correct / true_pairs if true_pairs else 1.0)


def shingle_sizes(articles: list[Article], sizes: Sequence[int] = (1, 2, 3, 4, 5)) -> list[str]:
    """Exact Jaccard of copies vs. unrelated same-event stories, per shingle size."""
    by_label: dict[int, list[Article]] = {}
    for a in articles:
        by_label.setdefault(a.label, []).append(a)
    copies = [p for group in by_label.values() for p in itertools.combinations(group, 2)]
    rng = random.Random(1)
    others = [p for p in (rng.sample(articles, 2) for _ in range(40_000)) if p[0].label != p[1].label]
    rows = ["size  copies: min  p01   median | unrelated: max   p999  median | gap"]
    for size in sizes:
        sets = {a.key: dedup.shingles(a.text, size) for a in articles}
        same = sorted(_jaccard(sets[x.key], sets[y.key]) for x, y in copies)
        diff = sorted(_jaccard(sets[x.key], sets[y.key]) for x, y in others)
        rows.append(
            f"{size:>4}  {same[0]:10.2f} {same[len(same) // 100]:5.2f} {statistics.median(same):7.2f} |"
            f" {diff[-1]:14.2f} {diff[len(diff) * 999 // 1000]:5.2f} {statistics.median(diff):7.2f} |"
            f" {same[0] - diff[-1]:5.2f}"
        )
    return rows


def _jaccard(x: set[str], y: set[str]) -> float:
    return len(x & y) / len(x | y)


def cluster_quality(articles: list[Article], thresholds: Sequence[float], size: int) -> list[str]:
    """Index the set once per threshold; pairwise precision/recall and original correctness."""
    signatures = {a.key: dedup.signature(a.text, size) for a in articles}
    labels = {a.key: a.label for a in articles}
    earliest: dict[int, Article] = {}
    for a in articles:
        if a.label not in earliest or a.published_at < earliest[a.label].published_at:
            earliest[a.label] = a
    rows = ["shingle  threshold  precision  recall  originals_right  candidate_pairs"]
    for threshold in thresholds:
        db = sqlite_utils.Database(memory=True)
        create_dedup_tables(db)
        by_hash = {}
        for a in articles:
            sig = signatures[a.key]
            assert sig is not None
            dedup_index.index_signature(db, a.key, a.site, a.published_at, sig, threshold)
            by_hash[a.key] = a
        member = {r["url_hash"]: r["cluster_id"] for r in db.query(f"select * from {tables.MEMBERS}")}
        clusters = {k: member.get(k, f"alone-{k}") for k in labels}
        precision, recall = pairwise(labels, clusters)
        originals = [
            by_hash[r["original"]]
            for r in db.query(f"select original from {tables.CLUSTERS} where merged_into is null")
        ]
        right = sum(earliest[o.label] is o for o in originals) / max(1, len(originals))
        candidates = next(
            db.query(
                f"select count(distinct a.url_hash || ' ' || b.url_hash) as n from {tables.BAND_ROWS} a"
                f" join {tables.BAND_ROWS} b using (band, bucket) where a.url_hash < b.url_hash"
            )
        )["n"]
        rows.append(f"{size:>7}  {threshold:9.2f}  {precision:9.3f}  {recall:6.3f}  {right:15.3f}  {candidates:>15}")
    return rows


def stream(sentences: Sequence[str], seed: int = 11) -> Iterator[Article]:
    """An endless crawl: 80% new stories, 10% same-event siblings, 10% copies of recent ones."""
    gen = Generator(sentences, seed)
    recent: deque[tuple[Story, dict[str, str]]] = deque(maxlen=2000)
    counter = itertools.count(1)
    while True:
        pick = gen.rng.random()
        if recent and pick < 0.1:
            story, _ = gen.rng.choice(recent)
            article = gen.copy(story, next(counter))
        else:
            slots = gen.slots()
            parent = gen.rng.choice(recent)[0] if recent and pick < 0.2 else None
            story = gen.story(sibling_of=parent, slots=slots)
            recent.append((story, slots))
            article = gen.copy(story, 0)
        article.key = f"{article.key}-{next(counter)}"
        yield article


def shingle_hashes(text: str) -> npt.NDArray[np.uint32]:
    """The 32-bit hashes MinHash takes of a text's shingles (the costly half of signing)."""
    return np.array([sha1_hash32(s.encode("utf-8")) for s in dedup.shingles(text)], dtype=np.uint32)


def signatures(sentences: Sequence[str], size: int) -> tuple[list[tuple[str, str, str]], npt.NDArray[np.uint32]]:
    """``size`` articles (key, site, published_at) and their signatures (one row each), made
    cheaply: a pool of up to POOL streamed articles is hashed once and replayed in generations.
    Each generation XORs a salt into the hashes of the story shingles, so its stories are new,
    while the event boilerplate and credit lines keep their hashes and collide across all
    generations as in a real crawl (crowded buckets). Generation 0 is exactly
    :func:`storage.dedup.signature` of the texts.
    """
    pool = list(itertools.islice(stream(sentences), min(size, POOL)))
    hashes = [shingle_hashes(a.text) for a in pool]
    fixed = [part for _, lines in EVENTS.values() for line in lines for part in re.split(r"\{\w+\}", line)]
    boilerplate = np.concatenate(
        [shingle_hashes(f) for f in [*fixed, *CREDITS] if len(f.split()) >= dedup.SHINGLE_SIZE]
    )
    common = [np.isin(h, boilerplate) for h in hashes]
    permutations = MinHash(num_perm=dedup.NUM_PERM, seed=dedup.SEED, scheme=dedup.SCHEME).permutations
    salts = random.Random(3)
    rows, matrix = [], np.empty((size, dedup.NUM_PERM), dtype=np.uint32)
    for i in range(size):
        generation, j = divmod(i, len(pool))
        h = hashes[j]
        if generation and j == 0:
            salt = np.uint32(salts.getrandbits(32))
        if generation:
            h = np.where(common[j], h, h ^ salt)
        minhash = MinHash(
            num_perm=dedup.NUM_PERM, seed=dedup.SEED, scheme=dedup.SCHEME, permutations=permutations, hashfunc=int
        )
        minhash.update_batch(h.tolist())
        matrix[i] = minhash.hashvalues
        rows.append((f"{generation}-{pool[j].key}", pool[j].site, pool[j].published_at))
    first = dedup.signature(pool[0].text)
    assert first is not None and np.array_equal(matrix[0], first), "replayed signature differs"
    return rows, matrix


def scale(sentences: Sequence[str], size: int, memory: bool) -> dict[str, float]:
    """Index ``size`` articles into a temp-file database, one transaction each as the pipeline
    would: seconds spent in index_signature (signing excluded), ms per insert over the first and
    the last 10% (medians: a busy machine inflates means), tracemalloc peak MiB while indexing
    (the signatures are made before)."""
    rows, matrix = signatures(sentences, size)
    tenth = size // 10
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "dedup.db")
        create_dedup_tables(db)
        took = np.empty(size)  # allocated before tracing: 0.8 MB at 100k that is not the index's
        if memory:
            tracemalloc.start()
        clustered = 0
        for i, (key, site, published_at) in enumerate(rows):
            start = time.perf_counter()
            result = dedup_index.index_signature(db, key, site, published_at, matrix[i])
            took[i] = time.perf_counter() - start
            clustered += result.cluster_id is not None
        peak = tracemalloc.get_traced_memory()[1] / 2**20 if memory else 0.0
        tracemalloc.stop()
        db.close()
        db_mib = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 2**20
    return {
        "indexing": float(took.sum()),
        "median_ms": float(np.median(took) * 1000),
        "head_ms": float(np.median(took[:tenth]) * 1000),
        "tail_ms": float(np.median(took[-tenth:]) * 1000),
        "peak_mib": peak,
        "db_mib": db_mib,
        "clustered": clustered,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stories", type=int, default=420, help="labelled stories (copies: 1-7 each)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the labelled set")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000], help="scale runs")
    parser.add_argument("--shingles", type=int, nargs="*", default=[2, 3, 4, 5], help="shingle sizes to compare")
    parser.add_argument("--thresholds", type=float, nargs="*", default=[0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    parser.add_argument("--no-memory", dest="memory", action="store_false", help="time without tracemalloc")
    args = parser.parse_args(argv)

    sentences = load_sentences()
    articles = labelled_set(sentences, args.stories, args.seed)
    print(f"{len(articles)} articles, {len({a.label for a in articles})} stories, {len(sentences)} replica sentences")
    print(f"changes per copy: {dict(Counter(c for a in articles for c in a.changes).most_common())}\n")
    print("\n".join(shingle_sizes(articles)), end="\n\n")
    print(
        f"signature: {dedup.NUM_PERM} permutations, {dedup.SHINGLE_SIZE}-word shingles; "
        f"bands {dedup.BANDS} x rows {dedup.ROWS}"
    )
    true_pairs = sum(c * (c - 1) // 2 for c in Counter(a.label for a in articles).values())
    print(f"true pairs: {true_pairs}")
    for size in args.shingles:
        print("\n".join(cluster_quality(articles, args.thresholds, size)[(size != args.shingles[0]) :]))
    print()

    results = {}
    for size in args.sizes:
        r = results[size] = scale(sentences, size, args.memory)
        print(
            f"{size:>7} articles: index {r['indexing']:6.1f} s"
            f" ({r['indexing'] / size * 1000:.2f} ms/insert, median {r['median_ms']:.2f};"
            f" median of the first 10% {r['head_ms']:.2f}, of the last 10% {r['tail_ms']:.2f}),"
            f" peak {r['peak_mib']:.1f} MiB, db {r['db_mib']:.1f} MiB, clustered {r['clustered']:.0f}"
        )
    if len(results) >= 2:
        small, large = min(results), max(results)
        ratio = results[large]["indexing"] / results[small]["indexing"]
        per_insert = results[large]["median_ms"] / results[small]["median_ms"]
        print(
            f"index time {large}/{small}: {ratio:.1f}x for {large / small:.0f}x the articles;"
            f" median per insert {per_insert:.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
