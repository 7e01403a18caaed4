"""``.colearner/agent.yaml``: one instance's configuration, validated on load.

A mistake is reported as one line naming the file, the field, the bad value and
the fix — never a traceback.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError
from .private_files import DIR_MODE, FILE_MODE, narrow, private_dir, write_private
from .protocol.events import IDENTITY_PATTERN

CONFIG_DIR = ".colearner"
CONFIG_FILE = "agent.yaml"
IGNORE_FILE = ".gitignore"
RESPONSES_DIR = "responses"  # the language server's response documents
BOOTSTRAP_ENV = "COLEARNER_BOOTSTRAP"
KEY_DIR_ENV = "COLEARNER_KEY_DIR"

_HOST_PORT = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")

FIXES = {
    "identity": "use letters, digits, '.', '_', '@' or '-' (at most 64), e.g. identity: alice",
    "role": "write role: coach or role: student",
    "bootstrap_servers": "list HOST:PORT entries, e.g. bootstrap_servers: ['127.0.0.1:9092']",
    "security_protocol": "one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL",
    "mechanism": "one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512",
    "stall_after_hours": "a positive number of hours, e.g. stall_after_hours: 72",
    "unacknowledged_after_hours": "a positive number of hours, e.g. unacknowledged_after_hours: 24",
    "public_key": "paste the key 'colearner init' printed on the peer's machine (ed25519:…)",
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TlsConfig(Strict):
    cafile: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    check_hostname: bool = True


class SaslConfig(Strict):
    mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    username: str
    # The password is read from this environment variable so it never lands in a file.
    password_env: str = "COLEARNER_SASL_PASSWORD"


class KafkaConfig(Strict):
    bootstrap_servers: list[str] = Field(default_factory=lambda: ["127.0.0.1:9092"], min_length=1)
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    tls: TlsConfig | None = None
    sasl: SaslConfig | None = None
    client_id: str = "colearner"
    request_timeout_ms: int = Field(default=10_000, ge=100)

    @field_validator("bootstrap_servers")
    @classmethod
    def _host_port(cls, servers: list[str]) -> list[str]:
        for s in servers:
            if not _HOST_PORT.match(s):
                raise ValueError(f"{s!r} is not HOST:PORT")
        return servers


class TopicsConfig(Strict):
    assignments: str = "colearner.assignments.v1"
    feedback: str = "colearner.feedback.v1"
    progress: str = "colearner.progress.v1"
    events: str = "colearner.events.v1"


class ScopeConfig(Strict):
    deny: list[str] = Field(default_factory=list)  # added to the built-in student deny list


class Peer(Strict):
    role: Literal["coach", "student"]
    public_key: str


class AgentConfig(Strict):
    identity: str = Field(pattern=IDENTITY_PATTERN)
    role: Literal["coach", "student"]
    kafka: KafkaConfig = Field(default_factory=KafkaConfig)
    topics: TopicsConfig = Field(default_factory=TopicsConfig)
    scope: ScopeConfig = Field(default_factory=ScopeConfig)
    key_file: str
    stall_after_hours: float = Field(default=72.0, gt=0)
    unacknowledged_after_hours: float = Field(default=24.0, gt=0)
    peers: dict[str, Peer] = Field(default_factory=dict)

    def bootstrap(self) -> list[str]:
        """Bootstrap servers, with ``COLEARNER_BOOTSTRAP`` taking precedence."""
        env = os.environ.get(BOOTSTRAP_ENV, "").strip()
        if env:
            servers = [s.strip() for s in env.split(",") if s.strip()]
            for s in servers:
                if not _HOST_PORT.match(s):
                    raise ConfigError(f"{BOOTSTRAP_ENV}: {s!r} is not HOST:PORT; e.g. {BOOTSTRAP_ENV}=127.0.0.1:9092")
            return servers
        return list(self.kafka.bootstrap_servers)


def config_path(root: Path) -> Path:
    return Path(root) / CONFIG_DIR / CONFIG_FILE


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``.colearner/agent.yaml``."""
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        if config_path(folder).is_file():
            return folder
    return None


def load_config(root: Path) -> AgentConfig:
    path = config_path(root)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path} not found; run 'colearner init --role coach|student --id NAME' in the repository") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}; fix the syntax or re-run 'colearner init'") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings (identity, role, kafka…), found {type(data).__name__}")
    config = validate_config(data, str(path))
    make_private(root)
    return config


def make_private(root: Path) -> None:
    """Narrow ``.colearner/`` and the files written from here to their owner (an older instance made them 0644)."""
    folder = Path(root) / CONFIG_DIR
    narrow(folder, DIR_MODE)
    for name in (CONFIG_FILE, IGNORE_FILE):
        narrow(folder / name, FILE_MODE)
    responses = folder / RESPONSES_DIR
    narrow(responses, DIR_MODE)
    if responses.is_dir() and not responses.is_symlink():
        for document in responses.iterdir():
            narrow(document, FILE_MODE)


def validate_config(data: dict[str, Any], where: str = CONFIG_FILE) -> AgentConfig:
    try:
        return AgentConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_error(exc, where)) from None


def describe_error(exc: ValidationError, where: str) -> str:
    """One line for the first problem: the field, the bad value, the fix."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    field = next((str(p) for p in reversed(err["loc"]) if isinstance(p, str)), loc)
    if err["type"] == "missing":
        problem = "is missing"
    elif err["type"] == "extra_forbidden":
        return f"{where}: unknown field '{loc}'; remove it or check its spelling"
    else:
        msg = err["msg"][:1].lower() + err["msg"][1:]  # keep the case of quoted values: 'SSL', not 'ssl'
        problem = f"has a bad value {err.get('input')!r} ({msg})"
    fix = FIXES.get(field)
    return f"{where}: field '{loc}' {problem}" + (f"; {fix}" if fix else "")


def save_config(root: Path, config: AgentConfig) -> Path:
    """Write agent.yaml atomically, readable by its owner only, and keep ``.colearner/`` out of git."""
    folder = private_dir(Path(root) / CONFIG_DIR)
    ignore = folder / IGNORE_FILE
    if not ignore.exists():
        write_private(ignore, "# colearner's local state: never commit it\n*\n")
    path = config_path(root)
    text = yaml.safe_dump(config.model_dump(mode="json", exclude_none=True), sort_keys=False)
    write_private(path, text)
    make_private(root)
    return path


def default_key_dir() -> Path:
    """Private keys live outside every repository: in the user's data directory."""
    env = os.environ.get(KEY_DIR_ENV)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("colearner")) / "keys"
