"""Knowledge base (知识库): articles, their versions, categories, synonyms, customers'
feedback and views; agents' canned replies (快捷回复).

An article, a category or a synonym group with no ``client`` is shared: every client's
staff see it and every client's public pages show it once published; only a provider
admin edits it. Views and feedback are tied to a browser session through a one-way hash of
a random visitor id kept in that session, never to a person."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.tenancy import ClientOwned, ClientScopedQuerySet

if TYPE_CHECKING:
    from kefu.accounts.models import User
    from kefu.contracts.models import Client


class SharedScopedQuerySet(models.QuerySet[Any]):
    """Rows of the user's clients plus the shared ones (``client`` empty)."""

    def visible_to(self, user: User) -> Self:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        client_ids = user.visible_client_ids()
        if client_ids is None:
            return self
        return self.filter(Q(client_id__in=client_ids) | Q(client__isnull=True))

    def for_client(self, client_id: int) -> Self:
        """What one client's public pages and search may show: its own and shared rows."""
        return self.filter(Q(client_id=client_id) | Q(client__isnull=True))


def _shared_client() -> models.ForeignKey[Client | None, Client | None]:
    return models.ForeignKey(
        "contracts.Client",
        verbose_name=_("甲方"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("留空 = 所有甲方共用"),
    )


class Category(models.Model):
    client = _shared_client()
    name = models.CharField(_("名称"), max_length=100)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)

    objects = SharedScopedQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["client", "name"], name="kb_category_unique"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(client__isnull=True), name="kb_category_shared"
            ),
        ]
        verbose_name = _("知识库分类")
        verbose_name_plural = _("知识库分类")

    def __str__(self) -> str:
        return self.name


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


class Lang(models.TextChoices):
    ZH = "zh-hans", _("中文")
    EN = "en", _("English")


class Article(models.Model):
    """One article. ``body_html`` is stored sanitised (images kept, scripts gone);
    ``body_text`` is its plain text, which agents insert and the index reads.
    ``source_id`` is the id the article has in the file it was imported from."""

    client = _shared_client()
    source_id = models.CharField(_("来源编号"), max_length=100, blank=True, default="")
    title = models.CharField(_("标题"), max_length=200)
    body_html = models.TextField(_("正文"), blank=True, default="")
    body_text = models.TextField(blank=True, default="")
    category = models.ForeignKey(
        Category,
        verbose_name=_("分类"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
    )
    tags = models.JSONField(_("标签"), default=list, blank=True)
    lang = models.CharField(_("语言"), max_length=8, choices=Lang.choices, default=Lang.ZH)
    status = models.CharField(
        _("状态"), max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    version = models.PositiveIntegerField(_("版本"), default=0)
    helpful_yes = models.PositiveIntegerField(_("有帮助"), default=0)
    helpful_no = models.PositiveIntegerField(_("没帮助"), default=0)
    created_at = models.DateTimeField(_("创建时间"))
    updated_at = models.DateTimeField(_("更新时间"))
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    objects = SharedScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "source_id"],
                condition=~Q(source_id=""),
                name="kb_article_source_unique",
            ),
            models.UniqueConstraint(
                fields=["source_id"],
                condition=~Q(source_id="") & Q(client__isnull=True),
                name="kb_article_shared_source_unique",
            ),
        ]
        indexes = [models.Index(fields=["client", "status"], name="kb_article_client_status")]
        verbose_name = _("知识库文章")
        verbose_name_plural = _("知识库文章")

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED

    @property
    def is_shared(self) -> bool:
        return self.client_id is None

    @property
    def public_id(self) -> str:
        """How search results and exports name the article: its source id, else ``kb<pk>``."""
        return self.source_id or f"kb{self.pk}"


class ArticleVersion(models.Model):
    """The article as one save left it, and who saved it."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本"))
    title = models.CharField(_("标题"), max_length=200)
    body_html = models.TextField(_("正文"), blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=ArticleStatus.choices)
    changed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_by_name = models.CharField(_("修改人"), max_length=150)
    changed_at = models.DateTimeField(_("修改时间"))
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="kb_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"


class ArticleSearch(models.Model):
    """The article as the full-text index sees it, written in the transaction of every
    article write (kefu.kb.index). On PostgreSQL ``vector`` (GIN-indexed) is searched; on
    SQLite the FTS5 table ``kb_article_fts`` (rowid = article id) is, and ``vector`` stays
    empty. ``client_id`` and ``published`` copy the article's for filtering."""

    article = models.OneToOneField(
        Article, on_delete=models.CASCADE, primary_key=True, related_name="search"
    )
    client_id = models.IntegerField(null=True, db_index=True)
    published = models.BooleanField(default=False)
    title_terms = models.TextField(blank=True)
    body_terms = models.TextField(blank=True)
    vector = SearchVectorField(null=True)

    def __str__(self) -> str:
        return f"search {self.article_id}"


def _attachment_path(instance: ArticleAttachment, filename: str) -> str:
    return f"kb/{instance.article_id}/{filename}"


class ArticleAttachment(models.Model):
    """A file or picture of an article, checked like ticket attachments (type sniffed from
    its bytes). Pictures are shown inline by the article, other files are downloads."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=_attachment_path, max_length=300)
    filename = models.CharField(_("文件名"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class SynonymGroup(models.Model):
    """Words that mean the same to a client's customers (光猫 = 调制解调器 = modem): a
    search for any of them finds articles using any other."""

    client = _shared_client()
    terms = models.JSONField(_("同义词"), default=list)

    objects = SharedScopedQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("同义词")
        verbose_name_plural = _("同义词")

    def __str__(self) -> str:
        return " = ".join(self.terms)


class ViewSource(models.TextChoices):
    SUGGEST = "suggest", _("提交表单时推荐")
    SEARCH = "search", _("知识库搜索")
    DIRECT = "direct", _("直接打开")


class ArticleView(ClientOwned):
    """A customer's browser opened a published article on ``client``'s public pages.
    ``visitor`` is the SHA-256 of a random id kept in that browser's session."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="views")
    visitor = models.CharField(max_length=64)
    source = models.CharField(max_length=8, choices=ViewSource.choices)
    viewed_at = models.DateTimeField()

    objects = ClientScopedQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["client", "viewed_at"], name="kb_view_client_time"),
            models.Index(fields=["visitor", "viewed_at"], name="kb_view_visitor"),
        ]


class RequestMark(ClientOwned):
    """A browser session that read articles went on to submit a request (the portal says
    so through ``kb_request_submitted``): its views within the window before are not
    deflections."""

    visitor = models.CharField(max_length=64)
    submitted_at = models.DateTimeField()

    objects = ClientScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["visitor", "submitted_at"], name="kb_request_visitor")]


class ArticleFeedback(models.Model):
    """One session's answer to "这篇文章有帮助吗?"; a second answer replaces the first."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    visitor = models.CharField(max_length=64)
    helpful = models.BooleanField()
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "visitor"], name="kb_feedback_once")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} {'+' if self.helpful else '-'}"


class CannedReply(ClientOwned):
    """A reply text an agent inserts by its shortcut (typing ``/退款``). ``team`` empty:
    every agent of the client; else that team's members. The body may hold placeholders
    (kefu.kb.canned.PLACEHOLDERS), filled when it is inserted."""

    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("坐席组"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    shortcut = models.CharField(_("快捷词"), max_length=40)
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"))
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ClientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["shortcut"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "team", "shortcut"], name="kb_canned_shortcut_unique"
            )
        ]
        verbose_name = _("快捷回复")
        verbose_name_plural = _("快捷回复")

    def __str__(self) -> str:
        return f"/{self.shortcut} {self.title}"
