from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.help.article_text import ArticleFormatError, decode_step_checks
from apps.help.services import ArticleSlugError, article_import


class Command(BaseCommand):
    help = "Create or update a troubleshooting article from its plain-text form."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the article's text file")
        parser.add_argument(
            "--slug",
            default="",
            help="the page's URL slug (default: the file's name, e.g. order-did-not-import)",
        )
        parser.add_argument(
            "--draft", action="store_true", help="save a draft revision instead of publishing"
        )
        parser.add_argument(
            "--user",
            default="",
            help="the username the revision is saved by, as page history shows it (default: none, shown as System)",
        )

    def handle(self, *args, path: Path, slug: str, draft: bool, user: str, **options):
        author = None
        if user:
            author = get_user_model().objects.filter(username=user).first()
            if author is None:
                raise CommandError(f"--user {user}: no such user; nothing was changed")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: cannot read the file ({exc.strerror})") from None
        checks_path = path.with_suffix(".checks")
        checks_text = None
        if checks_path.exists():
            try:
                checks_text = decode_step_checks(checks_path.read_bytes())
            except OSError as exc:
                raise CommandError(
                    f"{checks_path}: cannot read the file ({exc.strerror}); nothing was changed"
                ) from None
            except ArticleFormatError as exc:
                raise CommandError(f"{checks_path}: {exc}; nothing was changed") from None
        try:
            result = article_import(
                data=data,
                slug=slug or path.stem,
                checks_text=checks_text,
                publish=not draft,
                user=author,
            )
        except ArticleFormatError as exc:
            source = checks_path if getattr(exc, "in_checks_file", False) else path
            raise CommandError(f"{source}: {exc}; nothing was changed") from None
        except ArticleSlugError as exc:
            raise CommandError(f"{path}: {exc}; nothing was changed") from None
        page = result.page
        verb = "Created" if result.created else "Updated"
        state = "draft revision" if draft else "published revision"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} “{page.title}” ({len(page.steps)} steps), {state} #{result.revision.pk}: "
                f"{page.url or '/help/' + page.slug + '/'}"
            )
        )
