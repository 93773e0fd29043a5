"""An activity's photos: checked, re-encoded without EXIF, with a thumbnail."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from wenming.accounts.types import Actor
from wenming.activities.models import (
    MAX_PHOTOS_PER_ACTIVITY,
    Activity,
    ActivityPhoto,
)
from wenming.activities.permissions import require_owner
from wenming.activities.services.lifecycle import S
from wenming.core.audit import (
    audit_record,
)
from wenming.core.errors import NotFound, RuleViolation
from wenming.core.photos import PHOTO_MAX_BYTES, encode_photo


def _delete_files(*names: str) -> None:
    for name in names:
        if name:
            default_storage.delete(name)


@transaction.atomic
def activity_photo_add(
    *, actor: Actor, activity: Activity, upload: Any, caption: str = ""
) -> ActivityPhoto:
    """Add a photo to an activity: staff with ACTIVITY_MANAGE over it, never to a
    cancelled activity, at most MAX_PHOTOS_PER_ACTIVITY (counted under the activity row
    lock, so two uploads at once cannot make a tenth), at most 5 MB, a real JPEG, PNG or
    WebP. Stored re-encoded under a random name, metadata stripped."""
    require_owner(actor, activity)
    caption = (caption or "").strip()
    if len(caption) > 100:
        raise RuleViolation(_("照片说明最多 100 个字。"), field="caption")
    size = getattr(upload, "size", None)
    if size is None or size > PHOTO_MAX_BYTES:
        raise RuleViolation(_("照片不能超过 5 MB。"), field="image", code="too_big")
    data = upload.read(PHOTO_MAX_BYTES + 1)
    if len(data) > PHOTO_MAX_BYTES:
        raise RuleViolation(_("照片不能超过 5 MB。"), field="image", code="too_big")
    # Decoded before the lock: the slow part does not hold up other writers.
    encoded = encode_photo(data)
    locked = Activity.objects.select_for_update().get(pk=activity.pk)
    if locked.state == S.CANCELLED:
        raise RuleViolation(_("活动已取消，不能上传照片。"), code="cancelled")
    photos = ActivityPhoto.objects.filter(activity=locked)
    count = photos.count()
    if count >= MAX_PHOTOS_PER_ACTIVITY:
        raise RuleViolation(
            _("每个活动最多 %(n)s 张照片。") % {"n": MAX_PHOTOS_PER_ACTIVITY}, code="too_many"
        )
    last_sort = photos.order_by("-sort").values_list("sort", flat=True).first()
    stem = f"activity-photos/{locked.pk}/{secrets.token_urlsafe(16)}"
    image_name = default_storage.save(f"{stem}.jpg", ContentFile(encoded.image))
    thumb_name = ""
    try:
        thumb_name = default_storage.save(f"{stem}-thumb.jpg", ContentFile(encoded.thumbnail))
        photo = ActivityPhoto.objects.create(
            activity=locked,
            image=image_name,
            thumbnail=thumb_name,
            width=encoded.width,
            height=encoded.height,
            caption=caption,
            sort=(last_sort or 0) + 1,
            uploaded_by=actor if actor.is_authenticated else None,
        )
        _touch(locked)
        audit_record(
            actor=actor,
            verb="activity.photo_add",
            target=photo,
            region_code=locked.region_id,
            changes={"caption": [None, caption], "photos": [count, count + 1]},
        )
    except BaseException:
        # The rows roll back; the files would be orphans. (A rollback of a caller's
        # outer transaction after this returns can still leave two small files.)
        _delete_files(image_name, thumb_name)
        raise
    return photo


def _touch(activity: Activity) -> None:
    """Mark the activity changed (its card shows the first photo): the public list's
    cached cards are keyed on the latest `updated_at`."""
    activity.save(update_fields=["updated_at"])


@transaction.atomic
def activity_photo_delete(*, actor: Actor, photo: ActivityPhoto) -> None:
    """Remove a photo: staff with ACTIVITY_MANAGE over its activity. The files go once
    the deletion is committed."""
    activity = Activity.objects.select_for_update().get(pk=photo.activity_id)
    require_owner(actor, activity)
    locked = ActivityPhoto.objects.filter(pk=photo.pk, activity=activity).first()
    if locked is None:
        raise NotFound(_("找不到该照片。"))
    names = (locked.image.name or "", locked.thumbnail.name or "")
    audit_record(
        actor=actor,
        verb="activity.photo_delete",
        target=locked,
        region_code=activity.region_id,
        changes={"caption": [locked.caption, None]},
    )
    locked.delete()
    _touch(activity)
    transaction.on_commit(lambda: _delete_files(*names))
