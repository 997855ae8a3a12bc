"""Every write to the knowledge base. Each service runs in one transaction that also keeps
the full-text index (kefu.kb.index) and the audit log in step with the article."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Team, User
from kefu.accounts.roles import Perm, Role
from kefu.contracts.models import Client
from kefu.core.audit import audit_record
from kefu.kb import html, index
from kefu.kb.models import (
    Article,
    ArticleAttachment,
    ArticleFeedback,
    ArticleStatus,
    ArticleVersion,
    ArticleView,
    CannedReply,
    Category,
    Lang,
    RequestMark,
    SynonymGroup,
    ViewSource,
)
from kefu.kb.visitors import visitor_for_session_key
from kefu.tickets.attachments import attachments_check


@dataclass(frozen=True)
class ArticleData:
    """What an editor or an import line says about an article. ``body`` is HTML (cleaned
    before it is stored) or, when it holds no markup, plain text made into paragraphs."""

    title: str
    body: str
    category: Category | None = None
    tags: Sequence[str] = field(default_factory=tuple)
    lang: str = Lang.ZH
    status: str = ArticleStatus.DRAFT
    source_id: str = ""


def _may_edit(actor: User | None, client: Client | None) -> None:
    """Raise PermissionDenied unless ``actor`` (None: kefu itself, a command) may write the
    knowledge base of ``client`` (None: the shared one, provider admins only)."""
    if actor is None:
        return
    if not actor.has_kefu_perm(Perm.KB_EDIT):
        raise PermissionDenied(_("没有编辑知识库的权限"))
    if client is None:
        if actor.role != Role.ADMIN:
            raise PermissionDenied(_("只有乙方管理员可以编辑共用文章"))
        return
    ids = actor.visible_client_ids()
    if ids is not None and client.pk not in ids:
        raise PermissionDenied(_("没有编辑该甲方知识库的权限"))


def _validate(data: ArticleData, client: Client | None) -> None:
    errors: dict[str, str] = {}
    if not data.title.strip():
        errors["title"] = _("标题不能为空")
    elif len(data.title) > 200:
        errors["title"] = _("标题不超过 200 字")
    if data.lang not in Lang.values:
        errors["lang"] = _("语言只能是 zh-hans 或 en")
    if data.status not in ArticleStatus.values:
        errors["status"] = _("状态只能是 draft 或 published")
    if data.category is not None and data.category.client_id not in (
        None,
        getattr(client, "pk", None),
    ):
        errors["category"] = _("分类不属于该甲方")
    if errors:
        raise ValidationError(errors)


def _apply(article: Article, data: ArticleData, now: datetime) -> None:
    body_html = html.clean(
        data.body if html.looks_like_html(data.body) else html.from_text(data.body)
    )
    article.title = data.title.strip()
    article.body_html = body_html
    article.body_text = html.to_text(body_html)
    article.category = data.category
    article.tags = [t.strip() for t in data.tags if t.strip()]
    article.lang = data.lang
    if data.status == ArticleStatus.PUBLISHED and not article.is_published:
        article.published_at = now
    article.status = data.status
    article.updated_at = now


def _version(article: Article, actor: User | None, now: datetime, note: str) -> None:
    article.version += 1
    ArticleVersion.objects.create(
        article=article,
        number=article.version,
        title=article.title,
        body_html=article.body_html,
        status=article.status,
        changed_by=actor,
        changed_by_name=actor.get_username() if actor else "kefu",
        changed_at=now,
        note=note[:200],
    )


def _article_write(
    *,
    actor: User | None,
    client: Client | None,
    article: Article | None,
    data: ArticleData,
    note: str,
) -> tuple[Article, bool]:
    now = timezone.now()
    created = article is None
    if article is None:
        article = Article(client=client, source_id=data.source_id, created_at=now, updated_at=now)
    before = (
        article.title,
        article.body_html,
        article.status,
        article.category_id,
        article.tags,
        article.lang,
    )
    _apply(article, data, now)
    after = (
        article.title,
        article.body_html,
        article.status,
        article.category_id,
        article.tags,
        article.lang,
    )
    if not created and before == after:
        return article, False
    article.save()
    _version(article, actor, now, note)
    Article.objects.filter(pk=article.pk).update(version=article.version)
    index.index_write(article)
    return article, True


@transaction.atomic
def article_create(
    *, actor: User | None, client: Client | None, data: ArticleData, note: str = ""
) -> Article:
    """A new article of ``client`` (None: shared by every client), version 1, indexed."""
    _may_edit(actor, client)
    _validate(data, client)
    article, _changed = _article_write(
        actor=actor, client=client, article=None, data=data, note=note
    )
    audit_record(
        actor=actor, action="kb.article_create", obj=article, data={"status": article.status}
    )
    return article


@transaction.atomic
def article_update(
    *, actor: User | None, article: Article, data: ArticleData, note: str = ""
) -> Article:
    """Save an edit as the next version (nothing is written when nothing changed) and
    re-index; publishing or unpublishing is an edit of ``status``."""
    client = article.client
    _may_edit(actor, client)
    _validate(data, client)
    article = Article.objects.select_for_update().get(pk=article.pk)
    article, changed = _article_write(
        actor=actor, client=client, article=article, data=data, note=note
    )
    if changed:
        audit_record(
            actor=actor,
            action="kb.article_update",
            obj=article,
            data={"version": article.version, "status": article.status},
        )
    return article


@transaction.atomic
def article_delete(*, actor: User | None, article: Article) -> None:
    _may_edit(actor, article.client)
    audit_record(
        actor=actor, action="kb.article_delete", obj=article, data={"title": article.title}
    )
    index.index_delete(article.pk)
    article.delete()


@transaction.atomic
def article_attach(
    *, actor: User | None, article: Article, files: Sequence[File]
) -> list[ArticleAttachment]:
    """Attach files or pictures; each is checked as ticket attachments are (size, type
    sniffed from its bytes; programs, HTML and SVG refused) and a refused file raises
    ValidationError before anything is stored."""
    _may_edit(actor, article.client)
    checked = attachments_check(files)
    now = timezone.now()
    saved = []
    for c in checked:
        attachment = ArticleAttachment(
            article=article,
            filename=c.filename,
            content_type=c.content_type,
            size=c.size,
            uploaded_at=now,
        )
        attachment.file.save(c.filename, c.file, save=False)
        attachment.save()
        saved.append(attachment)
    audit_record(actor=actor, action="kb.article_attach", obj=article, data={"files": len(saved)})
    return saved


@transaction.atomic
def category_create(*, actor: User | None, client: Client | None, name: str) -> Category:
    _may_edit(actor, client)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("名称不能为空")})
    category, _created = Category.objects.get_or_create(client=client, name=name[:100])
    return category


@transaction.atomic
def synonym_group_save(
    *,
    actor: User | None,
    client: Client | None,
    terms: Sequence[str],
    group: SynonymGroup | None = None,
) -> SynonymGroup:
    """A group of words that mean the same (at least two); searches expand them at once."""
    _may_edit(actor, client)
    cleaned = list(dict.fromkeys(t.strip() for t in terms if t.strip()))
    if len(cleaned) < 2:
        raise ValidationError({"terms": _("同义词至少两个")})
    if group is None:
        group = SynonymGroup(client=client)
    group.terms = cleaned
    group.save()
    audit_record(
        actor=actor, action="kb.synonyms_save", obj=group, client_id=getattr(client, "pk", None)
    )
    return group


@transaction.atomic
def synonym_group_delete(*, actor: User | None, group: SynonymGroup) -> None:
    _may_edit(actor, group.client)
    audit_record(actor=actor, action="kb.synonyms_delete", obj=group, client_id=group.client_id)
    group.delete()


@transaction.atomic
def article_feedback(*, article: Article, visitor: str, helpful: bool) -> Article:
    """One browser session's "有帮助 / 没帮助" on a published article; answering again
    changes the answer instead of counting twice."""
    if not article.is_published:
        raise ValidationError(_("文章未发布"))
    previous = (
        ArticleFeedback.objects.select_for_update().filter(article=article, visitor=visitor).first()
    )
    if previous is not None and previous.helpful == helpful:
        return article
    delta_yes = (1 if helpful else 0) - (1 if previous is not None and previous.helpful else 0)
    delta_no = (0 if helpful else 1) - (1 if previous is not None and not previous.helpful else 0)
    if previous is None:
        ArticleFeedback.objects.create(
            article=article, visitor=visitor, helpful=helpful, at=timezone.now()
        )
    else:
        ArticleFeedback.objects.filter(pk=previous.pk).update(helpful=helpful, at=timezone.now())
    Article.objects.filter(pk=article.pk).update(
        helpful_yes=F("helpful_yes") + delta_yes, helpful_no=F("helpful_no") + delta_no
    )
    article.refresh_from_db(fields=["helpful_yes", "helpful_no"])
    return article


# The same session opening the same article again within this window is one view.
VIEW_REPEAT_SECONDS = 30 * 60


@transaction.atomic
def article_view_record(
    *, client: Client, article: Article, visitor: str, source: str, at: datetime | None = None
) -> ArticleView | None:
    """Count a customer's reading of an article on ``client``'s public pages; a reload or
    a second opening from the same session within 30 minutes is not counted again."""
    at = at or timezone.now()
    if source not in ViewSource.values:
        source = ViewSource.DIRECT
    recent = ArticleView.objects.filter(
        client=client,
        article=article,
        visitor=visitor,
        viewed_at__gt=at - timedelta(seconds=VIEW_REPEAT_SECONDS),
    )
    if recent.exists():
        return None
    return ArticleView.objects.create(
        client=client, article=article, visitor=visitor, source=source, viewed_at=at
    )


@transaction.atomic
def kb_request_submitted(
    *, client: Client, session_key: str | None, at: datetime | None = None
) -> None:
    """The portal calls this when a browser session submits a request: articles that
    session read in the 30 minutes before (kefu.kb.selectors.DEFLECTION_WINDOW) did not
    deflect it. ``session_key`` is ``request.session.session_key`` (after a sign-in too:
    the visitor id kb keeps in the session survives Django's key rotation). A session that
    read nothing leaves no trace."""
    visitor = visitor_for_session_key(session_key)
    if visitor is None:
        return
    RequestMark.objects.create(client=client, visitor=visitor, submitted_at=at or timezone.now())


def _canned_validate(
    client: Client, team: Team | None, shortcut: str, title: str, body: str
) -> str:
    shortcut = shortcut.strip().lstrip("/").strip()
    errors: dict[str, str] = {}
    if not shortcut or any(c.isspace() for c in shortcut):
        errors["shortcut"] = _("快捷词不能为空，也不能含空格")
    if not title.strip():
        errors["title"] = _("标题不能为空")
    if not body.strip():
        errors["body"] = _("内容不能为空")
    if team is not None and team.client_id != client.pk:
        errors["team"] = _("坐席组不属于该甲方")
    if errors:
        raise ValidationError(errors)
    return shortcut


@transaction.atomic
def canned_reply_save(
    *,
    actor: User | None,
    client: Client,
    shortcut: str,
    title: str,
    body: str,
    team: Team | None = None,
    reply: CannedReply | None = None,
) -> CannedReply:
    """Create or edit a canned reply of ``client`` (for ``team`` only, or every agent)."""
    _may_edit(actor, client)
    shortcut = _canned_validate(client, team, shortcut, title, body)
    clash = CannedReply.objects.filter(client=client, team=team, shortcut=shortcut)
    if reply is not None:
        clash = clash.exclude(pk=reply.pk)
    if clash.exists():
        raise ValidationError({"shortcut": _("该快捷词已被使用")})
    if reply is None:
        reply = CannedReply(client=client)
    reply.team = team
    reply.shortcut = shortcut
    reply.title = title.strip()[:100]
    reply.body = body.strip()
    reply.updated_at = timezone.now()
    reply.updated_by = actor
    reply.save()
    audit_record(actor=actor, action="kb.canned_save", obj=reply, data={"shortcut": shortcut})
    return reply


@transaction.atomic
def canned_reply_delete(*, actor: User | None, reply: CannedReply) -> None:
    _may_edit(actor, reply.client)
    audit_record(
        actor=actor, action="kb.canned_delete", obj=reply, data={"shortcut": reply.shortcut}
    )
    reply.delete()
