"""One validated settings object for the whole service.

Values come from `HOTLINE_*` environment variables, then from an optional TOML file named by
`HOTLINE_CONFIG`, then from the defaults below, which suit a developer machine with the
project's Asterisk sandbox. Outside the `dev` profile, placeholder secrets are refused at start-up.

The state and sandbox folders default to `.state` and `.sandbox` in the source checkout when the
code runs from one (`pip install -e`), and in the current directory when it is installed.
"""

from __future__ import annotations

import os
import re
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _source_checkout() -> Path | None:
    """The source checkout this code runs from, or None when it is installed (site-packages)."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "asterisk-conf").is_dir():
        return root
    return None


SOURCE_DIR: Path | None = _source_checkout()


def default_base_dir() -> Path:
    """Where `.state` and `.sandbox` go by default: the checkout, else the current directory."""
    return SOURCE_DIR if SOURCE_DIR is not None else Path.cwd()


_PLACEHOLDER = re.compile(r"^(dev-.*|changeme|secret|password|admin|test)$", re.IGNORECASE)
_SAFE_VALUE = re.compile(r"^[^\r\n\x00;\[\]=]+$")


IPNetwork = IPv4Network | IPv6Network


def _address_networks(text: str) -> tuple[IPNetwork, ...]:
    """Comma-separated networks or addresses ("10.0.0.0/8, 192.0.2.7") -> networks."""
    networks = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            networks.append(ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part!r} is not an IP network such as 10.0.0.0/8") from None
    return tuple(networks)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to any address


class SettingsError(ValueError):
    """Settings that cannot be used; the message says which value and why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="forbid")

    profile: Literal["dev", "prod"] = "dev"
    state_dir: Path = Field(default_factory=lambda: default_base_dir() / ".state")

    # AMI of the Asterisk the controller drives.
    ami_host: str = "127.0.0.1"
    ami_port: int = Field(15038, ge=1, le=65535)
    ami_user: str = "hotline"
    ami_secret: str = "dev-ami-secret"
    ami_timeout: float = Field(5.0, gt=0, le=120)
    ami_ping_interval: float = Field(10.0, gt=0, le=300)

    # The sandbox: a local Asterisk (and a carrier Asterisk) in a Debian tree of the project's.
    # None means "yes, unless HOTLINE_AMI_HOST points at an existing Asterisk".
    sandbox: bool | None = None
    sandbox_dir: Path = Field(default_factory=lambda: default_base_dir() / ".sandbox")
    sip_bind: str = "127.0.0.1"
    sip_port: int = Field(15060, ge=1, le=65535)
    rtp_start: int = Field(20000, ge=1024, le=65000)
    rtp_end: int = Field(20999, ge=1024, le=65535)
    carrier_ami_port: int = Field(15039, ge=1, le=65535)
    carrier_ami_user: str = "carrier"
    carrier_ami_secret: str = "dev-carrier-secret"
    carrier_sip_bind: str = "127.0.0.2"
    carrier_sip_port: int = Field(15061, ge=1, le=65535)
    carrier_rtp_start: int = Field(21000, ge=1024, le=65000)
    carrier_rtp_end: int = Field(21999, ge=1024, le=65535)
    # Phones provisioned in the sandbox's pjsip.conf: extension -> password.
    phones: dict[str, str] = Field(
        default_factory=lambda: {
            **{f"60{n:02d}": f"dev-phone-60{n:02d}" for n in range(1, 4)},
            **{f"70{n:02d}": f"dev-phone-70{n:02d}" for n in range(1, 11)},
        }
    )

    # Service.
    database_url: str = ""
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)
    # Reverse proxies in front of the web API (comma-separated addresses or networks): only
    # from these is X-Forwarded-For taken as the client's address (audit log, rate limits).
    trusted_proxies: str = ""
    # What the web API accepts and shows (docs/security.md). A request body is at most
    # `api_max_body_bytes` unless its route names a larger limit (prompt uploads:
    # `prompt_max_bytes`; the roster's CSV import: `roster_csv_max_bytes`; a dispatch
    # catalogue draft: `catalogue_max_body_bytes`, its document at most 4 MB). /docs and
    # /openapi.json: None means on in dev, off in prod. /metrics: with neither a token nor
    # networks, loopback clients only; a token alone, any client that sends it as a bearer
    # token; networks alone (comma-separated), clients in them; both, clients in them with it.
    api_max_body_bytes: int = Field(1_000_000, ge=10_000, le=100_000_000)
    roster_csv_max_bytes: int = Field(4_000_000, ge=10_000, le=100_000_000)
    catalogue_max_body_bytes: int = Field(10_000_000, ge=10_000, le=100_000_000)
    api_docs: bool | None = None
    metrics_token: str = ""
    metrics_allow: str | None = None
    audiosocket_host: str = "127.0.0.1"
    audiosocket_port: int = Field(15090, ge=1, le=65535)
    # AudioSocket connections (asr/server.py): at most this many open at once (silent ones make
    # way for streams), seconds a connection has to send its UUID frame, and the networks
    # Asterisk connects from, comma-separated (loopback is always allowed; required when the
    # host is not a loopback address).
    audiosocket_max_connections: int = Field(64, ge=1, le=10_000)
    audiosocket_uuid_timeout: float = Field(2.0, gt=0, le=30)
    audiosocket_allow: str = ""
    # PostgreSQL: seconds to connect, and the longest statement the controller lets run
    # (0: no limit). SQLite ignores both.
    database_connect_timeout: int = Field(5, ge=2, le=300)
    database_statement_timeout: float = Field(30.0, ge=0, le=3600)
    # Worker threads for the steps of calls (routing, classification), apart from the threads
    # the web API uses: slow uploads never hold up a live call.
    call_workers: int = Field(8, ge=1, le=256)
    # Speech: the Vosk model directory (unset: the development model package, if installed).
    vosk_model: Path | None = None
    speech_enabled: bool = True
    speech_max_streams: int = Field(8, ge=1, le=256)
    speech_threads: int | None = Field(None, ge=1, le=64)

    # Fail-open: the controller refreshes a heartbeat the dialplan checks, and keeps each
    # call's watchdog (Asterisk's absolute timeout) this many seconds ahead of its next step;
    # a call whose controller is gone goes to the intake queue (asterisk-conf/hotline).
    heartbeat_interval: float = Field(2.0, gt=0, le=30)
    watchdog_lease: float = Field(8.0, ge=3, le=600)
    timezone: str = "Asia/Shanghai"
    # Routing: the number dialled for each emergency service on a hand-off (the dial string
    # around it is the dialplan's transfer route; in the sandbox the carrier answers them).
    emergency_numbers: dict[str, str] = Field(
        default_factory=lambda: {n: n for n in ("110", "119", "120", "122")}
    )
    # API tokens: days a new token lasts (`hotline users create --days` overrides), and refused
    # tokens allowed per client address per minute before 429 (in memory, per process).
    token_days: int = Field(90, ge=1, le=3650)
    auth_failures_per_minute: int = Field(10, ge=1, le=10_000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = False
    # Callers' full numbers, names, words and keys in the log (for debugging only; by default
    # numbers are masked and the rest left out: hotline.core.logs).
    log_personal_data: bool = False

    # IVR prompts: where prompt files go (host path) and that directory as Asterisk sees it.
    # Unset: the sandbox's sounds/hotline-prompts, or <state_dir>/prompts without a sandbox.
    prompts_dir: Path | None = None
    prompts_play_dir: str = ""
    prompt_max_bytes: int = Field(10_000_000, ge=10_000, le=200_000_000)
    prompt_max_seconds: float = Field(60.0, gt=0, le=600)

    # Recordings (recordings/, hotline/recordings/feature.py). The monitor directory is where
    # Asterisk's MixMonitor writes, as this host sees it: in the sandbox its spool's monitor
    # folder; for an existing Asterisk a directory shared with it (required then).
    recordings_enabled: bool = True
    recordings_dir: Path | None = None  # the store; default <state_dir>/recordings
    recordings_monitor_dir: Path | None = None
    # The same directory as Asterisk sees it; empty means Asterisk's own monitor directory.
    recordings_asterisk_dir: str = ""
    recordings_capture_format: Literal["wav", "gsm"] = "wav"
    recordings_archive_format: Literal["opus", "mp3"] = "opus"
    recordings_archive_bitrate: str = Field("32k", pattern=r"^[0-9]{1,4}k$")
    recordings_keep_original: bool = False
    recordings_workers: int = Field(2, ge=1, le=16)
    # Days a recording is kept, by category (the call's kind, or "emergency"); "default"
    # applies to the rest. Recordings on legal hold are never deleted.
    recordings_retention_days: dict[str, int] = Field(
        default_factory=lambda: {"default": 180, "complaint": 365, "report": 365}
    )
    recordings_purge_interval: float = Field(3600.0, gt=0)
    recordings_ticket_seconds: int = Field(900, ge=30, le=86400)

    # Work orders: the deadline table (hotline/orders/deadlines.py), as JSON or the path of a
    # JSON file, merged over the defaults (utilities 24 h, general 5 and complex 15 working
    # days); checked when the service starts.
    order_deadlines: str = ""
    # Days a finished (answered or closed) work order keeps the citizen's personal data
    # (number, name, words); its figures stay for reports (hotline/orders/retention.py).
    order_retention_days: int = Field(1095, ge=30, le=36500)
    order_purge_interval: float = Field(3600.0, gt=0)

    # Outbound calls (回访 surveys, call-backs; hotline/outbound): local calling hours
    # HH:MM-HH:MM (none on the roster calendar's holidays unless allowed), at most so many at
    # once and started a minute, paused while any inbound queue has this many callers waiting
    # (0: never), tries and the waits between them ("4h,20h": three tries over two days), how
    # long the citizen's phone rings, the dial string through the trunk and the caller id.
    outbound_enabled: bool = True
    outbound_hours: str = "08:00-21:00"
    outbound_on_holidays: bool = False
    outbound_at_once: int = Field(2, ge=1, le=200)
    outbound_per_minute: int = Field(10, ge=1, le=2000)
    outbound_pause_queue_waiting: int = Field(3, ge=0, le=1000)
    outbound_tries: int = Field(3, ge=1, le=20)
    outbound_retry_delays: str = "4h,20h"
    outbound_ring_seconds: float = Field(30.0, ge=3, le=120)
    outbound_dial: str = "PJSIP/{number}@carrier"
    outbound_caller_id: str = Field("12345", pattern=r"^[0-9+]{3,20}$")
    outbound_poll_interval: float = Field(5.0, gt=0, le=300)
    outbound_survey_poll_interval: float = Field(30.0, gt=0, le=3600)
    # Seconds after a missed call (abandoned in a queue, hung up in the IVR after the
    # greeting) before it is called back.
    outbound_missed_delay: float = Field(180.0, ge=0, le=86_400)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("HOTLINE_CONFIG")
        if config_file:
            if not Path(config_file).is_file():
                raise SettingsError(f"HOTLINE_CONFIG={config_file}: no such file")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    @field_validator("ami_user", "ami_secret", "carrier_ami_user", "carrier_ami_secret", "ami_host")
    @classmethod
    def _single_line(cls, value: str, info: Any) -> str:
        # These are written into Asterisk's config files and AMI logins.
        if not _SAFE_VALUE.match(value):
            raise ValueError(
                f"{info.field_name} must be one line without ';', '[', ']' or '=' (got {value!r})"
            )
        return value

    @field_validator("phones")
    @classmethod
    def _phones(cls, value: dict[str, str]) -> dict[str, str]:
        for ext, password in value.items():
            if not re.fullmatch(r"[0-9]{3,8}", ext):
                raise ValueError(f"phones: extension {ext!r} must be 3 to 8 digits")
            if not _SAFE_VALUE.match(password):
                raise ValueError(f"phones: password of {ext} must be one line of plain text")
        return value

    @field_validator("recordings_retention_days")
    @classmethod
    def _retention(cls, value: dict[str, int]) -> dict[str, int]:
        categories = {"default", "emergency", "consult", "help", "complaint", "report"}
        categories |= {"suggestion", "praise"}
        if "default" not in value:
            raise ValueError("recordings_retention_days needs a 'default' entry")
        for name, days in value.items():
            if name not in categories:
                raise ValueError(
                    f"recordings_retention_days: unknown category {name!r} "
                    f"(one of {', '.join(sorted(categories))})"
                )
            if not 1 <= days <= 36500:
                raise ValueError(f"recordings_retention_days[{name}]: {days} is not 1 to 36500")
        return value

    @field_validator("recordings_asterisk_dir")
    @classmethod
    def _asterisk_dir(cls, value: str) -> str:
        # It becomes part of MixMonitor's argument on the AMI wire.
        if value and not re.fullmatch(r"/[A-Za-z0-9_./\-]*", value):
            raise ValueError(
                "recordings_asterisk_dir must be an absolute path of letters, digits, "
                f"'_', '.', '/' and '-' (got {value!r})"
            )
        return value.rstrip("/")

    @field_validator("metrics_allow")
    @classmethod
    def _metrics_allow(cls, value: str | None) -> str | None:
        if value is not None:
            _address_networks(value)
        return value

    @field_validator("audiosocket_allow", "trusted_proxies")
    @classmethod
    def _address_list(cls, value: str) -> str:
        _address_networks(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value

    @field_validator("emergency_numbers")
    @classmethod
    def _emergency_numbers(cls, value: dict[str, str]) -> dict[str, str]:
        for service, number in value.items():
            if service not in ("110", "119", "120", "122"):
                raise ValueError(f"emergency_numbers: {service!r} is not 110, 119, 120 or 122")
            if not re.fullmatch(r"[0-9*#+]{2,20}", number):
                raise ValueError(f"emergency_numbers[{service}]: {number!r} is not a number")
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.state_dir / 'hotline.db'}"
        if self.rtp_start >= self.rtp_end or self.carrier_rtp_start >= self.carrier_rtp_end:
            raise ValueError("RTP port ranges must have start < end")
        if not _is_loopback(self.audiosocket_host) and not self.audiosocket_allow:
            raise ValueError(
                f"audiosocket_allow: audiosocket_host {self.audiosocket_host} is not a loopback "
                "address; set HOTLINE_AUDIOSOCKET_ALLOW to the addresses Asterisk connects from"
            )
        if self.audiosocket_max_connections < self.speech_max_streams:
            raise ValueError(
                "audiosocket_max_connections must be at least speech_max_streams "
                f"({self.speech_max_streams})"
            )
        if self.profile != "dev":
            weak = [
                name
                for name in ("ami_secret", "carrier_ami_secret")
                if _PLACEHOLDER.match(getattr(self, name)) or len(getattr(self, name)) < 12
            ]
            if self.metrics_token and (
                _PLACEHOLDER.match(self.metrics_token) or len(self.metrics_token) < 16
            ):
                weak.append("metrics_token")
            if self.use_sandbox:
                weak += [
                    f"phones[{ext}]"
                    for ext, pw in self.phones.items()
                    if _PLACEHOLDER.match(pw) or len(pw) < 12
                ]
            if weak:
                raise ValueError(
                    "placeholder or short secrets are refused in the "
                    f"{self.profile!r} profile: {', '.join(weak)} "
                    "(set HOTLINE_AMI_SECRET etc. to real secrets of 12+ characters)"
                )
        return self

    @property
    def docs_enabled(self) -> bool:
        """Whether the API serves /docs and /openapi.json."""
        return self.api_docs if self.api_docs is not None else self.profile == "dev"

    @property
    def metrics_networks(self) -> tuple[IPNetwork, ...]:
        """The client networks that may read /metrics (see `metrics_allow`)."""
        if self.metrics_allow is not None:
            return _address_networks(self.metrics_allow)
        if self.metrics_token:
            return (ip_network("0.0.0.0/0"), ip_network("::/0"))
        return (ip_network("127.0.0.0/8"), ip_network("::1/128"))

    @property
    def audiosocket_networks(self) -> tuple[IPNetwork, ...]:
        """The peers the AudioSocket server serves: loopback, and `audiosocket_allow`."""
        loopback = (ip_network("127.0.0.0/8"), ip_network("::1/128"))
        return loopback + _address_networks(self.audiosocket_allow)

    @property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        """The proxies whose X-Forwarded-For the web API believes (none by default)."""
        return _address_networks(self.trusted_proxies)

    @property
    def use_sandbox(self) -> bool:
        if self.sandbox is not None:
            return self.sandbox
        return "ami_host" not in self.model_fields_set


def load_settings(**overrides: Any) -> Settings:
    """Read and validate settings; raise SettingsError with a readable message."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SettingsError(f"invalid settings: {problems}") from None
