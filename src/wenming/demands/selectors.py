"""Reads about resident demand."""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

AUDIT_VERBS = {
    "menu.create": pgettext_lazy("audit verb", "新建服务菜单项"),
    "menu.update": pgettext_lazy("audit verb", "修改服务菜单项"),
    "order.submit": pgettext_lazy("audit verb", "群众点单"),
    "order.accept": pgettext_lazy("audit verb", "受理点单"),
    "order.reject": pgettext_lazy("audit verb", "不予受理点单"),
    "order.dispatch": pgettext_lazy("audit verb", "派单"),
    "order.open_grab": pgettext_lazy("audit verb", "发布抢单"),
    "order.recall": pgettext_lazy("audit verb", "收回订单"),
    "order.take": pgettext_lazy("audit verb", "接单"),
    "order.grab": pgettext_lazy("audit verb", "抢单"),
    "order.decline": pgettext_lazy("audit verb", "拒单"),
    "order.complete": pgettext_lazy("audit verb", "办结订单"),
    "order.rate": pgettext_lazy("audit verb", "评价订单"),
    "order.cancel": pgettext_lazy("audit verb", "关闭订单"),
    "order.withdraw": pgettext_lazy("audit verb", "群众撤单"),
    "order.remind": pgettext_lazy("audit verb", "群众催单"),
    "order.escalate": pgettext_lazy("audit verb", "超时上报"),
    "order.reveal": pgettext_lazy("audit verb", "查看点单联系方式"),
}
