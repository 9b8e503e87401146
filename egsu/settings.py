"""Django settings: everything variable comes from :mod:`egsu.conf`."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from egsu import conf

CONFIG = conf.load()
BASE_DIR = conf.BASE_DIR

SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = CONFIG.allowed_hosts
if not CONFIG.production:
    ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "ninja",  # serves its API docs' assets locally (air-gapped: no CDN)
    "egsu.access",
    "egsu.registry",
    "egsu.journal",
    "egsu.readings",
    "egsu.signatures",
    "egsu.intake",
    "egsu.monitoring",
    "egsu.quality",
    "egsu.reports",
    "egsu.ami",
    "egsu.points",
    "egsu.analytics",
    "egsu.cabinet",
    "egsu.jobs",
    "egsu.mail",
    "egsu.reporting",
    "egsu.opendata",
    "egsu.inforequests",
    "egsu.feedback",
    "egsu.alarms",
    "egsu.vee",
    "egsu.balances",
    "egsu.workdays",
    "egsu.schemes",
    "egsu.ops",
    "egsu.api",
    "egsu.connections",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # assets served locally, air-gapped (design.md)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "egsu.access.middleware.ScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "egsu.urls"
WSGI_APPLICATION = "egsu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "egsu.cabinet.navigation.cabinet",
            ],
        },
    },
]

DATABASES = {"default": CONFIG.database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = ["egsu.access.throttle.ThrottledModelBackend"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/cabinet/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Kazakh first (the cabinet's default), then Russian and English.
LANGUAGE_CODE = "kk"
LANGUAGES = [("kk", _("Kazakh")), ("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "egsu" / "locale"]
try:  # the .mo files are built from our .po files before Django loads any catalogue (egsu.catalogs)
    from egsu.catalogs import compile_catalogs

    compile_catalogs()
except OSError:  # a read-only install ships them prebuilt
    pass
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Asia/Almaty"  # INT-37: shown in Astana time, stored in UTC
FORMAT_MODULE_PATH = ["egsu.formats"]  # each language's own date format (kk, ru: dd.mm.yyyy)

STATIC_URL = "static/"
STATIC_ROOT = CONFIG.var_dir / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # no collectstatic step needed for the embedded run

# The SOAP endpoint reads the body itself, with its own 15 MB limit (INT-07).
DATA_UPLOAD_MAX_MEMORY_SIZE = CONFIG.max_message_bytes
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Outgoing mail (egsu/mail): the console (the log) on the embedded default, else EGSU_EMAIL_URL's server.
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if CONFIG.email.backend == "smtp"
    else "egsu.mail.backends.LogBackend"
)
EMAIL_HOST = CONFIG.email.host
EMAIL_PORT = CONFIG.email.port
EMAIL_HOST_USER = CONFIG.email.username
EMAIL_HOST_PASSWORD = CONFIG.email.password
EMAIL_USE_TLS = CONFIG.email.use_tls
EMAIL_USE_SSL = CONFIG.email.use_ssl
EMAIL_TIMEOUT = CONFIG.email.timeout_s
DEFAULT_FROM_EMAIL = SERVER_EMAIL = CONFIG.email_from

EGSU_ARRIVAL_GRACE_MINUTES = CONFIG.arrival_grace_minutes
EGSU_MISSING_DATA_ALARM_MINUTES = CONFIG.missing_data_alarm_minutes
EGSU_SITE_URL = CONFIG.site_url
READINGS_BACKEND = CONFIG.readings_backend
CLICKHOUSE_URL = CONFIG.clickhouse_url
CLICKHOUSE_LAYOUT = CONFIG.clickhouse_cluster
READINGS_CLAIMS_URL = CONFIG.readings_claims_url
READINGS_FLUSH_S = CONFIG.readings_flush_s
MQTT_ACL_DIR = CONFIG.mqtt_acl_dir
MQTT_USERNAME = CONFIG.mqtt_username
MQTT_PASSWORD = CONFIG.mqtt_password

# Background jobs: a durable queue in the database, run by `egsu worker` (egsu/jobs, decision 0007).
# QUEUES empty: any queue name; a worker serves all of them unless told --queues.
TASKS = {"default": {"BACKEND": "egsu.jobs.backend.QueueBackend", "QUEUES": []}}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if CONFIG.production:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"egsu": {"level": "INFO"}, "egsu_core": {"level": "INFO"}},
}
