"""``colearner``: the command line. Parses arguments and calls one core action each.

User mistakes (``ColearnerError``) end as one line on stderr and exit code 1;
argument errors exit 2 (argparse's convention). A command that creates something
prints its id or key alone on the last line of stdout.

Start-up: the parser is built from this module and ``core.vocabulary`` alone;
the group of handlers in ``commands`` a command belongs to is imported only once
that command is chosen, and its handler imports the part of the core it needs
(bench/bench_cli.py, tests/cli/test_startup.py). ``--help`` imports no pydantic,
Kafka or git.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, get_args

from ..core.errors import ColearnerError
from ..core.protocol.vocabulary import Actor, Grade, ShareMode, Stage


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and a hint, instead of the full usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"colearner: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="colearner", description="Coach a student through a real codebase, inside the editor, over Kafka.")
    p.add_argument("--offline", action="store_true", help="do not contact Kafka; writes wait in the outbox")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    def commands_in(group: str) -> Callable[[str, str], argparse.ArgumentParser]:
        """What adds a command of ``group``: its handler is the function of ``commands.<group>`` named like it (``-`` as ``_``)."""

        def cmd(name: str, help: str) -> argparse.ArgumentParser:
            sp = sub.add_parser(name, help=help, description=help)
            sp.set_defaults(handler=(group, name.replace("-", "_")))
            return sp

        return cmd

    # Each command is added by the maker of its group (who runs it, or what it is for), in the order --help lists them.
    setup, coach, student, reports, upkeep, tools = map(commands_in, ("setup", "coach", "student", "reports", "upkeep", "tools"))

    sp = setup("init", "create .colearner/agent.yaml and a key pair; prints the public key")
    sp.add_argument("--role", required=True, choices=get_args(Actor))
    sp.add_argument("--id", required=True, dest="identity", metavar="NAME")
    sp.add_argument("--bootstrap", metavar="HOST:PORT")
    sp.add_argument("--force", action="store_true", help="replace an existing instance (new key)")

    sp = setup("trust", "pin a peer's public key (a coach adds a student to the roster)")
    sp.add_argument("name")
    sp.add_argument("public_key")
    sp.add_argument("--replace", action="store_true", help="replace the key already pinned for NAME (shows both fingerprints)")

    sp = setup("untrust", "unpin a peer's key (a coach takes a student off the roster); their events stay")
    sp.add_argument("name")

    sp = tools("broker", "run the embedded Kafka-compatible broker in the foreground")
    sp.add_argument("--port", type=int, default=9092)

    sp = tools("serve", "run the language server (stdio by default)")
    sp.add_argument("--tcp", metavar="HOST:PORT")

    sp = coach("session", "coaching sessions")
    ssub = sp.add_subparsers(dest="session_command", metavar="start", parser_class=Parser, required=True)
    st = ssub.add_parser("start", help="open a session with a student; prints its id")
    st.add_argument("--student", required=True)

    sp = coach("plan", "send a learning plan")
    sp.add_argument("session")
    sp.add_argument("--goal", action="append", required=True, metavar="TEXT")
    sp.add_argument("--step", action="append", required=True, metavar="ID:TOPIC")

    sp = coach("assign", "send an exercise anchored to lines of a file; prints its id")
    sp.add_argument("session")
    sp.add_argument("--topic", required=True)
    sp.add_argument("--exercise", required=True, metavar="TEXT")
    sp.add_argument("--expected", required=True, metavar="TEXT")
    sp.add_argument("--test", action="append", default=[], metavar="CMD")
    sp.add_argument("--file", required=True, metavar="PATH")
    sp.add_argument("--lines", required=True, metavar="A-B")
    sp.add_argument("--step", metavar="STEP_ID")

    sp = coach("scope", "send the scope policy: which paths the student may share")
    sp.add_argument("session")
    sp.add_argument("--allow", action="append", required=True, metavar="GLOB")
    sp.add_argument("--deny", action="append", default=[], metavar="GLOB")
    sp.add_argument("--share", choices=get_args(ShareMode), default="hashes")
    sp.add_argument("--max-files", type=int, default=50)

    sp = student("inbox", "list plan, assignments and feedback")
    sp.add_argument("--json", action="store_true")

    sp = student("ack", "acknowledge an exercise")
    sp.add_argument("exercise")

    sp = student("respond", "answer an exercise, with evidence")
    sp.add_argument("exercise")
    sp.add_argument("text")
    sp.add_argument("--evidence", action="append", metavar="PATH", help="a file to attach (repeat); '.' = changed files")
    sp.add_argument("--include-ignored", action="store_true", help="also share git-ignored files you attached (their hashes)")
    sp.add_argument("--dry-run", action="store_true", help="show which files would be shared and held back; send nothing")

    sp = student("evidence", "send an evidence snapshot (answers the open evidence request)")
    sp.add_argument("exercise")
    sp.add_argument("--path", action="append", metavar="PATH")
    sp.add_argument("--request", metavar="REQUEST_ID")
    sp.add_argument("--include-ignored", action="store_true", help="also share git-ignored files you attached (their hashes)")
    sp.add_argument("--dry-run", action="store_true", help="show which files would be shared and held back; send nothing")

    sp = student("progress", "send progress: completed steps and confidence")
    sp.add_argument("session")
    sp.add_argument("--completed", action="append", default=[], metavar="STEP")
    sp.add_argument("--confidence", action="append", default=[], metavar="TOPIC=0.8")

    sp = coach("request-evidence", "ask the student for more evidence")
    sp.add_argument("exercise")
    sp.add_argument("--path", action="append", required=True, metavar="GLOB")
    sp.add_argument("--reason", required=True)

    sp = coach("feedback", "grade an exercise: pass or revise")
    sp.add_argument("exercise")
    sp.add_argument("--grade", required=True, choices=get_args(Grade))
    sp.add_argument("--mistake", action="append", default=[], metavar="TEXT", help="repeat; 'PATH:A-B: text' anchors it")
    sp.add_argument("--next-step", required=True, metavar="TEXT")
    sp.add_argument("--confidence-delta", required=True, type=float, metavar="X")

    sp = coach("review", "the answers waiting for your review, oldest first; with EXERCISE: its answer, evidence and the student's change")
    sp.add_argument("exercise", nargs="?")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--evidence", metavar="EVIDENCE_ID", help="review this evidence snapshot of the exercise instead of the latest")

    sp = coach("advance", "move a session to its next stage by hand")
    sp.add_argument("session")
    sp.add_argument("--to", required=True, choices=get_args(Stage))
    sp.add_argument("--reason", default="")

    sp = reports("history", "replay a session's lifecycle and events in order")
    sp.add_argument("session")
    sp.add_argument("--json", action="store_true")

    sp = reports("dashboard", "cohort view: per student and overall")
    g = sp.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true")
    g.add_argument("--html", metavar="FILE")

    upkeep("sync", "publish the outbox and apply everything waiting, then exit")
    sp = upkeep("doctor", "check config, keys, broker, topics, repository and ledger")
    sp.add_argument("--quarantine", action="store_true", help="list the messages refused, and why")
    sp = upkeep("repair", "set a damaged ledger aside and rebuild it from Kafka and the peers")
    sp.add_argument("--force", action="store_true", help="rebuild even a ledger that passes its integrity check")
    sp = tools("schemas", "write or check the JSON Schemas in schemas/")
    sp.add_argument("--write", action="store_true")
    sp.add_argument("--dir", default="schemas")
    sp = tools("demo", "the whole coach↔student loop on the embedded broker, in temporary repositories")
    sp.add_argument("--keep", action="store_true", help="keep the temporary repositories")
    return p


def configure_logging() -> None:
    """Our own warnings as 'colearner: …' lines; aiokafka's retry chatter only with COLEARNER_LOG=debug."""
    import logging  # once a command runs, not for --help or an argument error (start-up)

    level = os.environ.get("COLEARNER_LOG", "warning").upper()
    logging.basicConfig(level=getattr(logging, level, logging.WARNING), format="colearner: %(message)s")
    if level != "DEBUG":
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


def _ledger_failed(exc: Exception) -> bool:
    """Whether ``exc`` is SQLite's: the ledger broke under a command (damaged pages, a truncated file).

    sqlite3 is imported by the ledger, not here (start-up): when no command
    imported it, no error can be one of its.
    """
    sqlite3 = sys.modules.get("sqlite3")
    return sqlite3 is not None and isinstance(exc, sqlite3.DatabaseError)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    configure_logging()
    try:
        import importlib

        group, name = args.handler
        handlers = importlib.import_module(f"{__package__}.commands.{group}")
        return int(getattr(handlers, name)(args) or 0)
    except ColearnerError as exc:
        print(f"colearner: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("colearner: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. '| head'): stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if not _ledger_failed(exc):
            raise
        print(
            f"colearner: the ledger .colearner/ledger.sqlite failed ({exc}); run 'colearner doctor', then 'colearner repair' to rebuild it",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
