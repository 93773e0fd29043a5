"""Activity photos: who may add and remove them, what counts as a photo (content, not
name), the size and count limits, metadata stripped, how they are served, and constant
queries on the list with thumbnails."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from tests.activities.helpers import audit_count, make_activity, published
from tests.shared import queries_for
from wenming.activities import services
from wenming.activities.models import ActivityPhoto, ActivityState
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.models import AuditEvent

GPS_IFD = 0x8825


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def image_bytes(
    fmt: str = "JPEG", size: tuple[int, int] = (2000, 1000), exif: bool = False
) -> bytes:
    img = Image.new("RGBA" if fmt == "PNG" else "RGB", size, (200, 30, 30))
    out = io.BytesIO()
    kwargs = {}
    if exif:
        data = Image.Exif()
        data[0x010F] = "PhoneMaker"  # Make
        data[GPS_IFD] = {1: "N", 2: (34.0, 26.0, 31.2), 3: "E", 4: (117.0, 27.0, 10.8)}
        kwargs["exif"] = data.tobytes()
    img.save(out, fmt, **kwargs)
    return out.getvalue()


def upload(data: bytes, name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def add(actor, activity, data: bytes | None = None, **kw) -> ActivityPhoto:
    return services.activity_photo_add(
        actor=actor, activity=activity, upload=upload(data or image_bytes()), **kw
    )


# ---------------------------------------------------------------- the service


def test_a_photo_is_reencoded_resized_and_stripped(cast, net):
    activity = published(cast.station_admin, net.station)
    original = image_bytes(exif=True)
    assert b"PhoneMaker" in original
    before = audit_count()
    photo = add(cast.station_admin, activity, original, caption="清扫村口")
    assert (photo.width, photo.height, photo.caption, photo.sort) == (1600, 800, "清扫村口", 1)
    assert photo.uploaded_by == cast.station_admin
    name = photo.image.name
    assert name.startswith(f"activity-photos/{activity.pk}/") and name.endswith(".jpg")
    assert "photo" not in name.rsplit("/", 1)[1]  # a random name, never the upload's
    stored = default_storage.open(name).read()
    assert b"PhoneMaker" not in stored and b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as img:
        assert img.format == "JPEG" and img.size == (1600, 800)
        exif = img.getexif()
        assert len(exif) == 0 and not exif.get_ifd(GPS_IFD)
    with Image.open(default_storage.open(photo.thumbnail.name)) as thumb:
        assert max(thumb.size) == 480
    event = AuditEvent.objects.get(verb="activity.photo_add")
    assert event.actor == cast.station_admin and audit_count() == before + 1


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_are_accepted_as_jpeg(cast, net, fmt):
    activity = published(cast.station_admin, net.station)
    photo = add(cast.station_admin, activity, image_bytes(fmt, (300, 200)), caption="")
    assert (photo.width, photo.height) == (300, 200)  # small photos are not enlarged
    with Image.open(default_storage.open(photo.image.name)) as img:
        assert img.format == "JPEG"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(image_bytes("GIF", (50, 50)), id="gif"),
        pytest.param(image_bytes("BMP", (50, 50)), id="bmp"),
        pytest.param(b"<html><script>alert(1)</script></html>", id="html-named-jpg"),
        pytest.param(image_bytes()[:200], id="truncated-jpeg"),
    ],
)
def test_anything_but_a_real_jpeg_png_or_webp_is_refused(cast, net, media, data):
    activity = published(cast.station_admin, net.station)
    before = audit_count()
    with pytest.raises(RuleViolation) as exc:
        add(cast.station_admin, activity, data)
    assert exc.value.code == "bad_type"
    assert ActivityPhoto.objects.count() == 0 and audit_count() == before
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_more_than_5_mb_is_refused(cast, net):
    activity = published(cast.station_admin, net.station)
    big = image_bytes() + b"\0" * (5 * 1024 * 1024)
    with pytest.raises(RuleViolation) as exc:
        add(cast.station_admin, activity, big)
    assert exc.value.code == "too_big" and ActivityPhoto.objects.count() == 0


def test_the_tenth_photo_is_refused(cast, net):
    activity = published(cast.station_admin, net.station)
    small = image_bytes(size=(40, 30))
    for _ in range(9):
        add(cast.station_admin, activity, small)
    before = audit_count()
    with pytest.raises(RuleViolation) as exc:
        add(cast.station_admin, activity, small)
    assert exc.value.code == "too_many"
    assert ActivityPhoto.objects.filter(activity=activity).count() == 9
    assert audit_count() == before
    assert [p.sort for p in activity.photos.all()] == list(range(1, 10))


def test_a_cancelled_activity_takes_no_photos(cast, net):
    activity = make_activity(cast.station_admin, net.station, ActivityState.CANCELLED)
    with pytest.raises(RuleViolation):
        add(cast.station_admin, activity)
    assert ActivityPhoto.objects.count() == 0


@pytest.mark.parametrize(("who", "error"), [("outsider", NotFound), ("supervisor", Forbidden)])
def test_only_organisers_add_and_delete(cast, net, who, error):
    activity = published(cast.station_admin, net.station)
    photo = add(cast.station_admin, activity)
    before = audit_count()
    with pytest.raises(error):
        add(getattr(cast, who), activity)
    with pytest.raises(error):
        services.activity_photo_delete(actor=getattr(cast, who), photo=photo)
    assert ActivityPhoto.objects.count() == 1 and audit_count() == before


def test_delete_removes_the_row_and_the_files(cast, net, django_capture_on_commit_callbacks):
    activity = published(cast.station_admin, net.station)
    photo = add(cast.station_admin, activity, caption="合影")
    names = [photo.image.name, photo.thumbnail.name]
    with django_capture_on_commit_callbacks(execute=True):
        services.activity_photo_delete(actor=cast.county_admin, photo=photo)
    assert ActivityPhoto.objects.count() == 0
    assert not any(default_storage.exists(n) for n in names)
    event = AuditEvent.objects.get(verb="activity.photo_delete")
    assert event.changes == {"caption": ["合影", None]} and event.actor == cast.county_admin


# ---------------------------------------------------------------- the pages


def test_upload_and_delete_through_the_page(client, cast, net, login):
    activity = published(cast.station_admin, net.station)
    login(cast.station_admin)
    page = client.get(f"/activities/{activity.pk}/").content.decode()
    assert 'id="photo-upload"' in page
    response = client.post(
        f"/activities/{activity.pk}/photos/",
        {"image": upload(image_bytes()), "caption": "签到现场"},
    )
    assert response.status_code == 302 and response["Location"].endswith("#photos")
    photo = ActivityPhoto.objects.get()
    page = client.get(f"/activities/{activity.pk}/").content.decode()
    assert f'id="photo-{photo.pk}"' in page and 'loading="lazy"' in page and "签到现场" in page
    response = client.post(f"/activities/{activity.pk}/photos/", {"image": upload(b"not an image")})
    assert response.status_code == 302 and ActivityPhoto.objects.count() == 1
    response = client.post(f"/activities/{activity.pk}/photos/{photo.pk}/delete/")
    assert response.status_code == 302 and ActivityPhoto.objects.count() == 0


@pytest.mark.parametrize(("who", "status"), [("outsider", 404), ("supervisor", 403)])
def test_upload_and_delete_refused_on_the_page(client, cast, net, login, who, status):
    activity = published(cast.station_admin, net.station)
    photo = add(cast.station_admin, activity)
    login(getattr(cast, who))
    before = audit_count()
    page = client.get(f"/activities/{activity.pk}/").content.decode()
    assert 'id="photo-upload"' not in page and "photo-delete" not in page
    response = client.post(f"/activities/{activity.pk}/photos/", {"image": upload(image_bytes())})
    assert response.status_code == status
    response = client.post(f"/activities/{activity.pk}/photos/{photo.pk}/delete/")
    assert response.status_code == status
    assert list(ActivityPhoto.objects.all()) == [photo] and audit_count() == before


def test_photos_of_a_public_activity_are_public(client, cast, net):
    activity = published(cast.station_admin, net.station)
    photo = add(cast.station_admin, activity)
    response = client.get(f"/activities/{activity.pk}/photos/{photo.pk}.jpg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "public, max-age=86400"
    assert "Last-Modified" in response
    body = b"".join(response.streaming_content)
    assert body == default_storage.open(photo.image.name).read()
    thumb = client.get(f"/activities/{activity.pk}/photos/{photo.pk}-thumb.jpg")
    assert thumb.status_code == 200
    # A photo id under another activity does not exist.
    other = published(cast.station_admin, net.station, title="别的活动")
    assert client.get(f"/activities/{other.pk}/photos/{photo.pk}.jpg").status_code == 404


def test_photos_of_a_draft_are_for_staff_in_scope(client, cast, net, login):
    draft = make_activity(cast.station_admin, net.station)
    photo = add(cast.station_admin, draft)
    url = f"/activities/{draft.pk}/photos/{photo.pk}.jpg"
    assert client.get(url).status_code == 404
    login(cast.outsider)
    assert client.get(url).status_code == 404
    login(cast.supervisor)
    response = client.get(url)
    assert response.status_code == 200 and response["Cache-Control"] == "private, max-age=86400"


def _queries(client, url: str) -> int:
    return queries_for(client, url, fresh=True)  # the public list caches its cards


def _fake_photos(activity, n: int) -> None:
    # Rows only: the list page links to the thumbnails, it does not read them.
    ActivityPhoto.objects.bulk_create(
        ActivityPhoto(activity=activity, image=f"x/{i}.jpg", thumbnail=f"x/{i}-t.jpg",
                      width=4, height=3, sort=i)
        for i in range(n)
    )  # fmt: skip


def test_list_with_thumbnails_takes_a_constant_number_of_queries(client, cast, net):
    for n in range(2):
        _fake_photos(published(cast.station_admin, net.station, title=f"活动{n}"), 2)
    few = _queries(client, "/activities/")
    for n in range(2, 12):
        _fake_photos(published(cast.station_admin, net.station, title=f"活动{n}"), 3)
    html = client.get("/activities/").content.decode()
    assert html.count('class="card-img-top') == 12
    assert _queries(client, "/activities/") == few


def test_detail_with_photos_takes_a_constant_number_of_queries(client, cast, net):
    activity = published(cast.station_admin, net.station)
    _fake_photos(activity, 1)
    one = _queries(client, f"/activities/{activity.pk}/")
    _fake_photos(activity, 8)
    assert _queries(client, f"/activities/{activity.pk}/") == one


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twelve_uploads_at_once_make_nine_photos(cast, net):
    """The count is taken under the activity row lock: concurrent uploads queue, and
    exactly nine get in (PostgreSQL, one connection per thread)."""
    import threading

    from wenming.accounts.models import User

    activity = published(cast.station_admin, net.station)
    small = image_bytes(size=(40, 30))
    go = threading.Event()
    codes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def attempt() -> None:
        go.wait(timeout=30)
        try:
            actor = User.objects.get(pk=cast.station_admin.pk)
            add(actor, activity, small)
            outcome = "ok"
        except RuleViolation as exc:
            outcome = exc.code
        except BaseException as exc:  # pragma: no cover
            with lock:
                errors.append(exc)
            return
        finally:
            connection.close()
        with lock:
            codes.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(codes) == ["ok"] * 9 + ["too_many"] * 3
    assert ActivityPhoto.objects.filter(activity=activity).count() == 9
