"""Near-duplicate clustering (storage/dedup.py) on an in-memory database."""

from __future__ import annotations

import unicodedata
from dataclasses import replace

import numpy as np
import sqlite_utils

from storage import dedup, dedup_index, tables
from storage.db import open_db
from storage.text import content_hash
from tests.helpers import fresh_python

LEAD = (
    "Ngày 15/3, tại Hà Nội, Bộ Công an tổ chức Hội nghị triển khai đợt cao điểm tấn công, trấn áp tội phạm "
    "lừa đảo chiếm đoạt tài sản qua không gian mạng trên phạm vi toàn quốc."
)
PARAGRAPHS = [
    "Hội nghị được tổ chức theo hình thức trực tiếp kết hợp trực tuyến tới Công an các đơn vị, địa phương.",
    "Theo báo cáo tại Hội nghị, từ đầu năm đến nay, lực lượng Công an đã phát hiện, điều tra 1.247 vụ lừa đảo "
    "qua mạng, khởi tố 2.036 bị can, thu hồi cho người bị hại hơn 412 tỷ đồng.",
    "Các đối tượng thường giả danh cán bộ công an, nhân viên ngân hàng, nhân viên nhà mạng để gọi điện, nhắn tin "
    "yêu cầu người dân cài đặt ứng dụng giả mạo, sau đó chiếm quyền điều khiển điện thoại và rút tiền trong tài khoản.",
    "Đáng chú ý, nhiều đường dây có yếu tố nước ngoài, đặt máy chủ và trung tâm điều hành ở nước ngoài, thuê người "
    "Việt Nam mở tài khoản ngân hàng để nhận và chuyển tiền chiếm đoạt.",
    "Phát biểu chỉ đạo, Thượng tướng Nguyễn Văn Long, Ủy viên Trung ương Đảng, Thứ trưởng Bộ Công an yêu cầu Cục "
    "Cảnh sát hình sự chủ trì, phối hợp với Công an các địa phương tập trung triệt phá các đường dây lớn.",
    "Thứ trưởng đề nghị Ngân hàng Nhà nước chỉ đạo các tổ chức tín dụng rà soát, khóa các tài khoản có dấu hiệu "
    "nghi vấn, cung cấp thông tin kịp thời cho cơ quan điều tra.",
    "Cùng với đấu tranh, Công an các đơn vị, địa phương đẩy mạnh tuyên truyền để người dân không cung cấp mã OTP, "
    "không bấm vào đường link lạ và không chuyển tiền cho người không quen biết.",
    "Kết thúc Hội nghị, Bộ Công an đã khen thưởng các tập thể, cá nhân có thành tích xuất sắc.",
]
# Another story of the same ministry and event type: the same conference boilerplate, other facts.
UNRELATED_LEAD = (
    "Ngày 15/3, tại Hà Nội, Bộ Công an tổ chức Hội nghị sơ kết 6 tháng triển khai Đề án phát triển ứng dụng dữ "
    "liệu về dân cư, định danh và xác thực điện tử trên phạm vi toàn quốc."
)
UNRELATED = [
    PARAGRAPHS[0],
    "Theo báo cáo, đến nay đã có hơn 62 triệu tài khoản định danh điện tử được kích hoạt, 45 dịch vụ công thiết yếu "
    "được tích hợp trên ứng dụng VNeID.",
    "Phát biểu chỉ đạo, Thượng tướng Nguyễn Văn Long, Ủy viên Trung ương Đảng, Thứ trưởng Bộ Công an yêu cầu Công "
    "an các địa phương tiếp tục làm sạch Cơ sở dữ liệu quốc gia về dân cư.",
    "Các bộ, ngành được đề nghị đẩy nhanh kết nối, chia sẻ dữ liệu để người dân không phải khai báo lại thông tin.",
    PARAGRAPHS[-1],
]


def article(site: str, number: int, published_at: str, title: str, lead: str, paragraphs: list[str]) -> dict[str, str]:
    body = "\n".join(paragraphs)
    return {
        "url_hash": f"{site}-{number}",
        "site": site,
        "url": f"https://{site}.example/{number}.html",
        "title": title,
        "lead": lead,
        "body": body,
        "published_at": published_at,
        "content_hash": content_hash(title, lead, body),
    }


ORIGINAL = article(
    "bocongan", 1, "2025-03-15T10:00:00+07:00", "Cao điểm trấn áp tội phạm lừa đảo qua mạng", LEAD, PARAGRAPHS
)
CAO_COPY = article(
    "cao",
    2,
    "2025-03-15T16:30:00+07:00",
    "Toàn quốc ra quân trấn áp lừa đảo chiếm đoạt tài sản qua mạng",
    "(CAO) " + LEAD,
    [*PARAGRAPHS[:3], *PARAGRAPHS[4:], "Theo Bộ Công an"],
)
THANHTRA_COPY = article(
    "thanhtra",
    3,
    "2025-03-16T08:00:00+07:00",
    "Bộ Công an mở đợt cao điểm trấn áp lừa đảo qua không gian mạng",
    "(Thanh tra) - " + LEAD,
    [
        *PARAGRAPHS[:5],
        "Tại Hội nghị, đại diện Công an tỉnh Bắc Giang trình bày tham luận.",
        *PARAGRAPHS[5:],
        "Ảnh: BCA",
    ],
)
SAME_TOPIC = article(
    "cao", 4, "2025-03-15T11:00:00+07:00", "Bộ Công an sơ kết 6 tháng thực hiện Đề án 06", UNRELATED_LEAD, UNRELATED
)


def index(db: sqlite_utils.Database, record: dict[str, str]) -> dedup.DupResult:
    if not next(db.query("select 1 from articles where url_hash = ?", [record["url_hash"]]), None):
        db.table("articles").insert(record)
    text = dedup.dedup_text(record["lead"], record["body"])
    return dedup_index.index_article(db, record["url_hash"], record["site"], record["published_at"], text)


def snapshot(db: sqlite_utils.Database, articles: bool = True) -> dict[str, list[tuple[object, ...]]]:
    columns = {
        tables.SIGNATURES: "url_hash, site, published_at, num_perm, signature",
        tables.BAND_ROWS: "band, bucket, url_hash",
        tables.CLUSTERS: "cluster_id, original, merged_into",
        tables.MEMBERS: "url_hash, cluster_id, similarity",
        "articles": "url_hash, content_hash",
    }
    if not articles:
        del columns["articles"]
    return {name: sorted(db.execute(f"select {cols} from {name}").fetchall()) for name, cols in columns.items()}


def test_republished_copies_cluster_with_the_earliest_as_original(db: sqlite_utils.Database) -> None:
    # Crawl order is not publication order: the original is indexed second.
    assert index(db, THANHTRA_COPY).cluster_id is None
    first = index(db, ORIGINAL)
    last = index(db, CAO_COPY)

    assert first.cluster_id is not None and last.cluster_id == first.cluster_id
    assert {h for h, _ in last.matches} == {"bocongan-1", "thanhtra-3"}
    assert all(similarity >= dedup.THRESHOLD for _, similarity in last.matches)
    [cluster] = dedup.list_clusters(db)
    assert cluster.original == "bocongan-1"
    assert [(m.site, m.is_original) for m in cluster.members] == [
        ("bocongan", True),
        ("cao", False),
        ("thanhtra", False),
    ]
    assert cluster.members[0].similarity == 1.0
    assert cluster.members[0].title == ORIGINAL["title"] and cluster.members[1].url == CAO_COPY["url"]
    assert all(0.5 <= m.similarity < 1.0 for m in cluster.members[1:])


def test_unrelated_same_topic_articles_sharing_boilerplate_do_not_cluster(db: sqlite_utils.Database) -> None:
    shared = dedup.shingles(dedup.dedup_text(LEAD, ORIGINAL["body"])) & dedup.shingles(
        dedup.dedup_text(UNRELATED_LEAD, SAME_TOPIC["body"])
    )
    assert len(shared) >= 40  # the boilerplate really is shared

    index(db, ORIGINAL)
    result = index(db, SAME_TOPIC)

    assert result == dedup.DupResult(None, [])
    assert dedup.list_clusters(db) == []


def test_exact_copies_in_other_encodings_have_similarity_one(db: sqlite_utils.Database) -> None:
    """An NFD copy, and a copy whose HTML wrote the accented letters as entities (its text as
    the parser gives it: entities are decoded once, there), are the same text."""
    from lxml import html as lxml_html

    assert "ệ" in ORIGINAL["body"]
    nfd = dict(ORIGINAL, url_hash="cao-9", site="cao", published_at="2025-03-15T12:00:00+07:00")
    nfd["body"] = unicodedata.normalize("NFD", ORIGINAL["body"])
    html = "<p>" + ORIGINAL["body"].replace("ệ", "&#7879;") + "</p>"
    entities = dict(ORIGINAL, url_hash="cao-10", site="cao", published_at="2025-03-15T13:00:00+07:00")
    entities["body"] = lxml_html.fragment_fromstring(html).text_content()
    index(db, ORIGINAL)
    assert index(db, nfd).matches == [("bocongan-1", 1.0)]
    assert ("bocongan-1", 1.0) in index(db, entities).matches


def test_reindexing_is_idempotent(db: sqlite_utils.Database) -> None:
    for record in (ORIGINAL, CAO_COPY, THANHTRA_COPY, SAME_TOPIC):
        index(db, record)
    before, clusters = snapshot(db), dedup.list_clusters(db)

    for record in (SAME_TOPIC, THANHTRA_COPY, ORIGINAL, CAO_COPY):
        index(db, record)

    assert snapshot(db) == before
    assert dedup.list_clusters(db) == clusters
    assert len(before[tables.BAND_ROWS]) == 4 * dedup.BANDS


def test_an_edited_copy_replaces_its_signature_and_stays_in_its_story(db: sqlite_utils.Database) -> None:
    for record in (ORIGINAL, CAO_COPY):
        index(db, record)
    edited = dict(CAO_COPY, body=CAO_COPY["body"] + "\nTin liên quan: Cảnh giác với cuộc gọi giả danh công an.")
    result = index(db, edited)

    assert result.matches[0][0] == "bocongan-1"
    band_owners = [row[0] for row in db.execute(f"select url_hash from {tables.BAND_ROWS}")]
    assert band_owners.count("cao-2") == dedup.BANDS
    assert db.execute(f"select count(*) from {tables.SIGNATURES}").fetchone()[0] == 2
    [cluster] = dedup.list_clusters(db)
    assert [m.url_hash for m in cluster.members] == ["bocongan-1", "cao-2"]


def test_nothing_is_deleted(db: sqlite_utils.Database) -> None:
    records = (CAO_COPY, ORIGINAL, SAME_TOPIC, THANHTRA_COPY)
    for record in records:
        index(db, record)

    assert db.execute("select count(*) from articles").fetchone()[0] == len(records)
    assert db.execute(f"select count(*) from {tables.SIGNATURES}").fetchone()[0] == len(records)
    [cluster] = dedup.list_clusters(db)
    assert sorted(m.url_hash for m in cluster.members) == ["bocongan-1", "cao-2", "thanhtra-3"]


def test_list_clusters_filters_by_member_site_and_date(db: sqlite_utils.Database) -> None:
    for record in (ORIGINAL, CAO_COPY, THANHTRA_COPY):
        index(db, record)
    assert len(dedup.list_clusters(db, site="cao")) == 1
    assert dedup.list_clusters(db, site="other") == []
    assert len(dedup.list_clusters(db, since="2025-03-16")) == 1  # the thanhtra copy
    assert dedup.list_clusters(db, since="2025-03-17") == []
    assert len(dedup.list_clusters(db, site="bocongan", since="2025-03-15")) == 1


def test_an_article_joining_two_clusters_merges_them_into_the_oldest(db: sqlite_utils.Database) -> None:
    rng = np.random.default_rng(1)
    a, c = (rng.integers(0, 2**32, dedup.NUM_PERM, dtype=np.uint32) for _ in range(2))
    near_a, near_c = a.copy(), c.copy()
    near_a[-10:] += 1
    near_c[:10] += 1
    bridge = np.concatenate([a[:64], c[64:]])  # estimated Jaccard 0.5 to both
    for key, sig, day in (("a", a, 1), ("a2", near_a, 2), ("c", c, 3), ("c2", near_c, 4), ("b", bridge, 5)):
        result = dedup_index.index_signature(db, key, "cao", f"2025-01-0{day}T00:00:00+07:00", sig)

    assert result.cluster_id == 1
    assert db.execute(f"select cluster_id, merged_into from {tables.CLUSTERS}").fetchall() == [(1, None), (2, 1)]
    [cluster] = dedup.list_clusters(db)
    assert cluster.original == "a" and len(cluster.members) == 5


def test_a_text_without_words_is_not_indexed(db: sqlite_utils.Database) -> None:
    assert dedup_index.index_article(db, "x", "cao", None, " … ") == dedup.DupResult(None, [])
    assert db.execute(f"select count(*) from {tables.SIGNATURES}").fetchone()[0] == 0


def test_candidate_lookup_uses_the_band_index_not_a_scan(db: sqlite_utils.Database) -> None:
    # A scan here would make every insert linear in the number of indexed articles.
    plan = [row[3] for row in db.execute("explain query plan " + dedup_index.CANDIDATES_SQL, ["[[0, 0]]", 49])]
    assert any("SEARCH b USING PRIMARY KEY (band=? AND bucket=? AND seq>?)" in step for step in plan), plan
    assert any("SEARCH x USING PRIMARY KEY (band=? AND bucket=?)" in step for step in plan), plan
    assert not any(step.startswith(("SCAN b", "SCAN x", f"SCAN {dedup.BAND_ROWS}")) for step in plan), plan


def test_a_crowded_bucket_is_read_newest_first_up_to_the_cap(db: sqlite_utils.Database) -> None:
    # Issue 17: the cap keeps the most recently indexed rows of a bucket, not whichever come first.
    rng = np.random.default_rng(7)
    shared = rng.integers(0, 2**32, dedup.ROWS, dtype=np.uint32)  # band 0 equal in every signature
    keys = [f"a{i:03d}" for i in range(dedup.BUCKET_CAP + 20)]
    for i, key in enumerate(reversed(keys)):  # indexed in the reverse of url_hash order
        sig = rng.integers(0, 2**32, dedup.NUM_PERM, dtype=np.uint32)
        sig[: dedup.ROWS] = shared
        dedup_index.index_signature(db, key, "cao", f"2025-01-01T00:{i // 60:02d}:{i % 60:02d}+07:00", sig)
    bucket = dedup.band_keys(sig)[0]
    newest = dedup_index._candidates(db, {bucket}, dedup.BUCKET_CAP)[bucket]
    assert newest == keys[: dedup.BUCKET_CAP]  # the last indexed first


def test_a_batch_indexes_as_its_entries_would_one_by_one(db: sqlite_utils.Database) -> None:
    rng = np.random.default_rng(3)
    a, c = (rng.integers(0, 2**32, dedup.NUM_PERM, dtype=np.uint32) for _ in range(2))
    near_a, near_c = a.copy(), c.copy()
    near_a[-10:] += 1
    near_c[:10] += 1
    bridge = np.concatenate([a[:64], c[64:]])
    edited = near_a.copy()
    edited[:20] += 7
    texts = {r["url_hash"]: r for r in (THANHTRA_COPY, ORIGINAL, SAME_TOPIC, CAO_COPY)}
    entries: list[tuple[str, str, object]] = [
        *(
            (k, str(r["published_at"]), dedup.signature(dedup.dedup_text(r["lead"], r["body"])))
            for k, r in texts.items()
        ),
        ("a2", "2025-01-02T00:00:00+07:00", near_a),
        ("c", "2025-01-03T00:00:00+07:00", c),
        ("a", "2025-01-04T00:00:00+07:00", a),  # earlier than nothing: indexed after its copy
        ("c2", "2025-01-01T00:00:00+07:00", near_c),  # the new original of c's story
        ("b", "2025-01-05T00:00:00+07:00", bridge),  # merges the two stories
        ("a2", "2024-12-31T00:00:00+07:00", edited),  # indexed again, edited and redated
        ("ORIGINAL-again", str(ORIGINAL["published_at"]), dedup.signature(dedup.dedup_text(LEAD, ORIGINAL["body"]))),
    ]
    one_by_one = open_db(":memory:")
    alone = []
    for key, published, sig in entries:
        assert sig is not None
        alone.append(dedup_index.index_signature(one_by_one, key, "cao", published, sig))  # type: ignore[arg-type]
    batch = dedup_index.index_batch(
        db,
        [
            dedup_index.Entry(key, "cao", published, sig, tuple(dedup.band_keys(sig)))  # type: ignore[arg-type]
            for key, published, sig in entries
        ],
    )
    assert batch == alone
    assert snapshot(db, articles=False) == snapshot(one_by_one, articles=False)
    clusters = [replace(c, created_at="") for c in dedup.list_clusters(db)]
    assert clusters == [replace(c, created_at="") for c in dedup.list_clusters(one_by_one)]
    # Same date, ties by url_hash; the edited copy moved before every other member of its story.
    assert [c.original for c in clusters] == ["ORIGINAL-again", "a2"]


def test_band_layout_fits_the_signature() -> None:
    assert dedup.BANDS * dedup.ROWS <= dedup.NUM_PERM
    # Candidate probability at the threshold and just above it (the copies that must be found).
    assert 1 - (1 - 0.6**dedup.ROWS) ** dedup.BANDS > 0.98


def test_index_stored_backfills_the_articles_without_signature(db: sqlite_utils.Database) -> None:
    index(db, ORIGINAL)
    for record in (CAO_COPY, THANHTRA_COPY, SAME_TOPIC):
        db.table("articles").insert(record)
    db.table("articles").insert(dict(ORIGINAL, url_hash="empty", lead="", body=" … "))  # no words: read, not indexed

    assert dedup_index.index_stored(db) == 4
    assert dedup_index.index_stored(db) == 1  # only the wordless one is left, and it is not an endless loop
    [cluster] = dedup.list_clusters(db)
    assert [m.url_hash for m in cluster.members] == ["bocongan-1", "cao-2", "thanhtra-3"]


def test_signatures_are_datasketchs_minhash_bit_for_bit() -> None:
    # storage.dedup computes datasketch's affine32 MinHash with numpy (importing datasketch
    # loads scipy); the values must be the library's, or stored signatures stop matching.
    from datasketch import MinHash

    texts = [
        "Công an TP.HCM khởi tố vụ án lừa đảo chiếm đoạt tài sản qua mạng xã hội.",
        "Thanh tra Chính phủ công bố kết luận thanh tra về quản lý đất đai tại tỉnh.",
        "Một hai",
        " ".join(f"từ{i}" for i in range(3000)),
    ]
    for text in texts:
        found = dedup.shingles(text)
        reference = MinHash(num_perm=dedup.NUM_PERM, seed=dedup.SEED, scheme=dedup.SCHEME)
        reference.update_batch([s.encode("utf-8") for s in found])
        got = dedup.signature(text)
        assert got is not None and got.dtype == np.uint32
        assert np.array_equal(got, reference.hashvalues)
    # ... and a signature costs no datasketch (nor scipy) import.
    script = "import sys; from storage.dedup import signature; signature('Một hai ba bốn năm'); print(sorted(m for m in ('datasketch', 'scipy') if m in sys.modules))"
    assert fresh_python(script).strip() == "[]"


def test_part_by_part_normalisation_gives_the_joined_texts_hash_and_signature() -> None:
    # content_hash and article_signature normalise title, lead and body one by one (the body's
    # normalisation is then shared); the values must be those of the newline-joined text.
    from storage.text import content_hash, hash_key, normalize_for_hash

    cases = [
        ("Tiêu đề", "Sapo ngắn.", "Đoạn một.\nĐoạn hai, có dấu câu!"),
        ("", None, "Chỉ có thân bài"),
        ("...", "—", "Thân bài sau phần mở đầu toàn dấu câu."),
        ("Tiêu đề", "kết thúc bằng dấu kết hợp e\u0301", "\u0301 bắt đầu bằng dấu kết hợp"),  # NFD at the seams
        ("ΟΔΟΣ", "λόγος", "Σ σ ς"),  # Greek sigma forms, cased letters at the seams
        ("Tab\tvà\u00a0khoảng", "zero\u200bwidth", "ký tự\x1bđiều khiển\u202e"),
    ]
    for title, lead, body in cases:
        joined = "\n".join(p for p in (title, lead, body) if p)
        assert content_hash(title, lead, body) == hash_key(normalize_for_hash(joined))
        whole = dedup.signature(dedup.dedup_text(lead, body))
        parts = dedup.article_signature(lead, body)
        assert (whole is None and parts is None) or np.array_equal(whole, parts)  # type: ignore[arg-type]


def test_shingles_follow_the_projects_one_shingle_rule() -> None:
    from storage.text import normalize_for_hash
    from storage.text import shingles as windows

    for text in ["", "...", "một", "một hai ba bốn", "một hai ba bốn năm", "Một, hai; ba! bốn năm sáu bảy một hai ba"]:
        expected = {" ".join(w) for w in windows(normalize_for_hash(text).split(), dedup.SHINGLE_SIZE)}
        assert dedup.shingles(text) == expected
