"""Ways of handling an error that are not swallowing it, as BB101 recognises them.

Each answers one question about an `except` clause (its guarded block, its body, the code
around it) with what the source shows: the failure handed to the caller as a value, a parse
that falls back to a default, a deadline the code set itself, a constraint violation
recovered on purpose, an ignore the author explained.
"""

from __future__ import annotations

import ast
import http
import io
import re
import textwrap
import tokenize
from collections.abc import Callable, Iterator

from backbone.review.names import BUILTIN_NAMES, last_name
from backbone.review.semantic import block_nodes

Resolve = Callable[[ast.expr], "str | None"]

_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")

# Keys and keywords that carry a failure to whoever reads the value.
_FAILURE_KEYS = frozenset({"error", "errors", "err", "errormsg", "failure", "failures", "reason", "exception"})
# Keys and keywords of a success flag: `{"ok": False}`, `Result(success=False)`.
_SUCCESS_FLAGS = frozenset(
    {"ok", "success", "successful", "succeeded", "sent", "delivered", "healthy", "available", "connected", "reachable"}
)
# Words of a message that tells about a failure: "connection failed", "Couldn't reach ...".
_FAILURE_TEXT = re.compile(
    r"\b(fail(s|ed|ure)?|error|unable|cannot|can't|couldn't|could not|unavailable|unreachable|"
    r"invalid|refused|denied|forbidden|malformed|not permitted|timed out|timeout|"
    r"not (found|available|reachable|connected|allowed))\b",
    re.IGNORECASE,
)

# Calls that turn text into a value: a failure is "this text is not that", nothing to log.
_PARSE_WORDS = frozenset(
    {"parse", "loads", "decode", "fromhex", "fromisoformat", "strptime", "unhexlify", "deserialize",
     "fromstring", "fromtimestamp", "unquote", "unescape", "b64decode", "eval"}
)
# `load` parses only when a format says so (`yaml_load`, `safe_load`, `json.load`), not `load_items`;
# `validate` too (`Model.model_validate_json(text)`, `adapter.validate_json(raw)`), not `validate_user`;
# `json.dumps` converts a value to text the same way (a value it can't encode falls back).
_FORMAT_WORDS = frozenset({"json", "yaml", "toml", "xml", "safe", "literal", "ini", "csv"})
_PARSE_CALLS = frozenset(
    {"int", "float", "complex", "bool", "str", "bytes", "bytearray", "list", "tuple", "dict", "set", "frozenset", "len",
     "isinstance", "decimal.Decimal", "uuid.UUID", "ipaddress.ip_address", "ipaddress.ip_network", "ast.literal_eval",
     "fractions.Fraction", "enumerate", "sorted", "min", "max", "sum", "round", "abs", "repr", "hasattr"}
)
# Conversions of text to a value: `int(raw)` fails only when `raw` is not a number.
_CONVERSIONS = frozenset(
    {"int", "float", "complex", "decimal.Decimal", "uuid.UUID", "ipaddress.ip_address", "ipaddress.ip_network",
     "ast.literal_eval", "fractions.Fraction"}
)
# Matching text against a pattern: reading what the text says, nothing else can fail in it.
_TEXT_MATCHING = frozenset(
    {"re.match", "re.search", "re.fullmatch", "re.findall", "re.finditer", "re.sub", "re.subn", "re.split"}
)
# Reading the process's configuration: no I/O that can fail, the value is already in memory.
_CONFIGURATION_READS = frozenset({"os.getenv", "os.environ.get", "os.environ.__getitem__"})
# Reading the process's clocks: no I/O, nothing that can fail but the arithmetic around them.
_CLOCK_READS = frozenset({"time.time", "time.time_ns", "time.monotonic", "time.monotonic_ns", "time.perf_counter"})
_IMPURE_BUILTINS = frozenset({"open", "print", "input", "exec", "eval", "__import__", "compile", "breakpoint"})
# Methods of text and bytes: converting a value, nothing else can fail in them.
_TEXT_METHODS = frozenset(
    {"encode", "decode", "split", "rsplit", "join", "strip", "lstrip", "rstrip", "lower", "upper", "replace",
     "format", "isoformat", "splitlines", "partition", "rpartition", "casefold", "title", "startswith", "endswith",
     "isascii", "isprintable", "isspace", "isdigit", "isalpha", "isalnum", "isdecimal", "isnumeric"}
)

# Calls that wait with a deadline the code chose: the timeout is the expected outcome.
_DEADLINE_CALLS = frozenset(
    {"asyncio.wait_for", "asyncio.timeout", "asyncio.timeout_at", "async_timeout.timeout", "anyio.fail_after"}
)
_DEADLINE_METHODS = frozenset({"wait", "wait_for", "get", "join", "result", "acquire", "recv", "poll"})

# Calls after a violated constraint that read the row another writer created, or undo the try.
_RECOVERY_METHODS = frozenset(
    {"rollback", "get", "first", "one", "one_or_none", "filter", "filter_by", "scalar", "scalar_one", "scalars",
     "get_or_create", "refresh", "refresh_from_db", "exists", "fetchone", "fetchall", "begin_nested"}
)

# Comment directives that silence a linter: an acknowledgement, not an explanation.
_DIRECTIVE = re.compile(r"^\s*(noqa|nosec|pylint:|type:|pragma|backbone:|expect:|fmt:|mypy:|pyright:)", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"^\s*(todo|fixme|xxx|hack)\b", re.IGNORECASE)
_EXPLANATION_WORDS = 3


def _words(name: str) -> set[str]:
    return {word.lower() for word in _WORD.findall(name)}


def is_empty(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return node.value is None or node.value == "" or node.value is False
    if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        return not (node.elts if not isinstance(node, ast.Dict) else node.keys)
    return False


def _false(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return node.value is False or node.value == 0 or (
            isinstance(node.value, str) and node.value.lower() in ("failed", "error", "failure", "down")
        )
    return False


# --- the failure handed over as a value ---------------------------------------------------------


def carries_failure(value: ast.expr) -> bool:
    """The value tells its reader that something failed.

    `{"error": "connection failed"}`, `Response(ok=False, error_message=...)`, `{"sent": False}`,
    `StatusResponse(f"Failed to connect to {url}", 0)`, `"Couldn't reach the API."`.
    """
    if isinstance(value, ast.Call) and _words(last_name(value.func) or "") & {"error", "exception"}:
        # `return ExportError("export failed")`: an error built and not raised is a forgotten `raise`.
        return False
    for node in block_nodes([ast.Expr(value)]):
        if isinstance(node, ast.Dict):
            for key, item in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and isinstance(key.value, str) and _names_failure(key.value, item):
                    return True
        elif isinstance(node, ast.Call):
            if any(keyword.arg is not None and _names_failure(keyword.arg, keyword.value) for keyword in node.keywords):
                return True
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _FAILURE_TEXT.search(node.value):
            return True
    return False


def passes_failure(call: ast.Call, definition: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """`unmarked("render_error")` where `def unmarked(reason): ...`: the call hands a value to a
    parameter named for a failure (`reason`, `error`, `message`), so the failure reaches whoever
    reads what the function builds."""
    arguments = definition.args
    positional = [argument.arg for argument in (*arguments.posonlyargs, *arguments.args)]
    if positional and positional[0] in ("self", "cls"):
        positional = positional[1:]
    passed = [*zip(positional, call.args), *((keyword.arg, keyword.value) for keyword in call.keywords if keyword.arg)]
    return any(_names_failure(name, value) for name, value in passed)


def _names_failure(name: str, value: ast.expr) -> bool:
    words = _words(name)
    if words & _FAILURE_KEYS and not is_empty(value):
        return True
    return name.lower() in _SUCCESS_FLAGS and _false(value)


# --- an error response built by a helper named for its status --------------------------------

# `bad_request(...)`, `precondition_required(...)`, `service_unavailable(...)`: helpers named
# after an HTTP error status build that response.
_ERROR_STATUS_HELPERS = frozenset(status.name.lower() for status in http.HTTPStatus if status.value >= 400)


def answers_with_error_status(call: ast.Call) -> bool:
    name = (last_name(call.func) or "").lstrip("_")
    return name in _ERROR_STATUS_HELPERS or name.removeprefix("make_").removesuffix("_response") in _ERROR_STATUS_HELPERS


# --- a parse that falls back ------------------------------------------------------------------


def only_parses(guarded: list[ast.stmt], resolve: Resolve, local_lists: frozenset[str] = frozenset()) -> bool:
    """The guarded block only turns values into other values (`json.loads(text)`, `int(raw)`),
    possibly adding what it parsed to a list of the function's own (`tokens.extend(shlex.split(raw))`
    where `tokens = []`), which cannot fail.

    Its failure means "this input is not in that format", which the fallback answers; no I/O
    happens in it that could fail for another reason.
    """
    return _only(guarded, resolve, files=False, local_lists=local_lists)


def only_reads_local_files(guarded: list[ast.stmt], resolve: Resolve) -> bool:
    """The guarded block reads a local file and parses it (`with open(path) as f: json.load(f)`,
    `path.stat().st_mode`, `os.path.getmtime(name)`): its failure means the file is missing,
    unreadable or not in that format, which the fallback answers (an optional file).

    Not when what it read becomes an object's state (`self.manifest = ...`): that object needs it."""
    return _only(guarded, resolve, files=True)


# What says that a response has arrived: its status was read, or checked.
_STATUS_READS = frozenset({"status_code", "ok", "is_success", "is_error", "raise_for_status"})


def only_parses_a_received_response(guarded: list[ast.stmt], before: list[ast.AST]) -> bool:
    """The block only parses the body of a response whose status the code already read
    (`if response.status_code >= 400: raise ...` then `try: return response.json()`): the response
    has arrived, and its body failing to parse means it is not JSON, which the fallback answers
    (`return {"raw": response.text}`). An awaited `await response.json()` still reads from the network."""
    received = {
        node.value.id
        for node in before
        if isinstance(node, ast.Attribute) and node.attr in _STATUS_READS and isinstance(node.value, ast.Name)
    }
    awaited = {id(node.value) for node in block_nodes(guarded) if isinstance(node, ast.Await)}
    produced: set[str] = set()
    parses = False
    for node in block_nodes(guarded):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            produced.update(target.id for target in node.targets if isinstance(target, ast.Name))
    for node in block_nodes(guarded):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name) or node.args or node.keywords:
            if isinstance(func, ast.Attribute) and func.attr in _VALUE_READS and isinstance(func.value, ast.Name) and (
                func.value.id in produced
            ):
                continue
            return False
        if func.attr == "json" and func.value.id in received and id(node) not in awaited:
            parses = True
        elif not (func.attr in _VALUE_READS and func.value.id in produced):
            return False
    return parses


_LIST_ADDS = frozenset({"append", "extend", "insert"})
# Reading a value the block itself produced: `data = json.load(f)` then `data.get("version")`.
_VALUE_READS = frozenset({"get", "items", "keys", "values"})


def _only(guarded: list[ast.stmt], resolve: Resolve, *, files: bool, local_lists: frozenset[str] = frozenset()) -> bool:
    calls = [node for node in block_nodes(guarded) if isinstance(node, ast.Call)]
    if not calls:
        return False
    produced = {
        target.id
        for node in block_nodes(guarded)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    if files and not _only_metadata(calls, resolve) and any(
        isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign))
        and any(isinstance(target, ast.Attribute) for target in (node.targets if isinstance(node, ast.Assign) else [node.target]))
        for node in block_nodes(guarded)
    ):
        # `self.manifest = json.load(f)`: what was read becomes the object's state, which the rest of
        # its life depends on; a file that fills it is not optional. A file's metadata kept on the
        # object (`self._mtime = path.stat().st_mtime`) is a stamp to compare with the next reading:
        # when the reading fails the old stamp stays, and the next one tries again.
        return False
    parses = reads = False
    for call in calls:
        if (
            isinstance(call.func, ast.Attribute)
            and call.func.attr in _VALUE_READS
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id in produced
        ):
            # Every call that produced it is checked too: a read of what was read or parsed.
            continue
        if (
            isinstance(call.func, ast.Attribute)
            and call.func.attr in _LIST_ADDS
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id in local_lists
        ):
            # Adding to a list of the function's own: only its arguments (checked too) can fail.
            continue
        qualified = resolve(call.func) or ""
        last = qualified.rpartition(".")[2] if qualified else last_name(call.func) or ""
        if files and _reads_file(call, qualified):
            reads = True
            continue
        if qualified in _IMPURE_BUILTINS or last in _IMPURE_BUILTINS:
            return False
        if qualified in _CONFIGURATION_READS or qualified in _CLOCK_READS:
            continue
        words = _words(last) | _words(qualified.rpartition(".")[0])
        if qualified in _CONVERSIONS or qualified in _TEXT_MATCHING:
            parses = True
        elif words & _PARSE_WORDS or (words & {"load", "dumps", "validate"} and words & _FORMAT_WORDS):
            parses = True
        elif isinstance(call.func, ast.Attribute) and call.func.attr in _TEXT_METHODS:
            parses = True
        elif qualified not in _PARSE_CALLS and not (qualified in BUILTIN_NAMES and qualified[:1].islower()):
            return False
    return reads if files else parses


# Reading the file system: metadata and contents, nothing written.
_FILE_READS = frozenset(
    {"os.stat", "os.lstat", "os.path.getmtime", "os.path.getctime", "os.path.getatime", "os.path.getsize",
     "os.path.exists", "os.path.isfile", "os.path.isdir", "os.path.join", "os.path.dirname", "os.path.basename",
     "os.path.islink", "os.listdir", "os.scandir"}
    # The process's own surroundings: where an object's source lives, the terminal it writes to, its
    # resource limits. Each fails only when there is none (a builtin module, no tty, no such limit).
    | {"inspect.getfile", "inspect.getsourcefile", "inspect.getsource", "inspect.getsourcelines",
       "shutil.get_terminal_size", "os.get_terminal_size", "resource.getrlimit"}
)
_FILE_READ_METHODS = frozenset(
    {"stat", "lstat", "read", "read_text", "read_bytes", "readline", "readlines", "tell", "seek",
     "iterdir", "is_dir", "is_file", "is_symlink"}
)


# What a file system says about a file, not what the file holds.
_METADATA_READS = frozenset(
    {"os.stat", "os.lstat", "os.path.getmtime", "os.path.getctime", "os.path.getatime", "os.path.getsize",
     "os.path.exists", "os.path.isfile", "os.path.isdir", "os.path.islink"}
)
_METADATA_METHODS = frozenset({"stat", "lstat", "exists", "is_dir", "is_file", "is_symlink"})


def _only_metadata(calls: list[ast.Call], resolve: Resolve) -> bool:
    return all(
        resolve(call.func) in _METADATA_READS
        or isinstance(call.func, ast.Attribute) and call.func.attr in _METADATA_METHODS
        for call in calls
    )


def _reads_file(call: ast.Call, qualified: str) -> bool:
    if qualified in _FILE_READS:
        return True
    if qualified == "open" or last_name(call.func) == "open" and not isinstance(call.func, ast.Attribute):
        mode = call.args[1] if len(call.args) > 1 else next(
            (keyword.value for keyword in call.keywords if keyword.arg == "mode"), None
        )
        if mode is None:
            return True
        return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and not set(mode.value) & set("wax+")
    if isinstance(call.func, ast.Attribute) and call.func.attr == "open":
        # `path.open("r")`: only a mode that says so; a bare `.open()` may belong to anything.
        mode = call.args[0] if call.args else next(
            (keyword.value for keyword in call.keywords if keyword.arg == "mode"), None
        )
        return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and set(mode.value) <= set("rbt")
    return isinstance(call.func, ast.Attribute) and call.func.attr in _FILE_READ_METHODS


# --- a deadline of the code's own -------------------------------------------------------------


def waits_with_own_deadline(guarded: list[ast.stmt], resolve: Resolve) -> bool:
    """The guarded block waits with a timeout it chose: `await asyncio.wait_for(event.wait(), 30)`.

    When the timeout expires, that is the outcome the code asked for (a poll interval, a
    bounded wait), not a failing dependency.
    """
    for node in block_nodes(guarded):
        if not isinstance(node, ast.Call):
            continue
        if resolve(node.func) in _DEADLINE_CALLS:
            return True
        if (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in _DEADLINE_METHODS
            and any(keyword.arg == "timeout" for keyword in node.keywords)
        ):
            return True
    return False


# --- a violated constraint recovered ------------------------------------------------------------


def recovers(handler: ast.ExceptHandler, following: list[ast.stmt]) -> bool:
    """After a unique violation, the code rolls back or reads the row another writer created.

    `except IntegrityError: session.rollback(); tag = Tag.query.filter_by(name=name).first()`:
    the get-or-create race is resolved, not ignored.
    """
    for node in block_nodes([*handler.body, *following]):
        if isinstance(node, ast.Call) and last_name(node.func) in _RECOVERY_METHODS:
            return True
    return False


def statements_after(statement: ast.stmt, parent: ast.AST | None) -> list[ast.stmt]:
    """The statements that follow `statement` in the block that holds it."""
    if parent is None:
        return []
    for field in ("body", "orelse", "finalbody", "handlers"):
        block = getattr(parent, field, None)
        if isinstance(block, list) and statement in block:
            index = block.index(statement)
            return [item for item in block[index + 1 :] if isinstance(item, ast.stmt)]
    return []


# --- the code's own signal, and a best-effort cache -------------------------------------------------

_CACHE_USES = frozenset({"get", "get_many", "set", "set_many", "add", "get_or_set", "incr", "decr", "touch", "has_key"})
_CACHE_INVALIDATIONS = frozenset({"delete", "delete_many", "delete_pattern", "clear", "invalidate", "expire", "unlink"})


def raised_by_itself(guarded: list[ast.stmt], caught: ast.expr | None, resolve: Resolve) -> bool:
    """The guarded block raises the caught type itself (`raise IntegrityError()` to abort a
    transaction): catching it is the block's own control flow, not a failure."""
    if caught is None:
        return False
    members = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    names = {resolve(member) or ast.dump(member) for member in members}
    for node in block_nodes(guarded):
        if isinstance(node, ast.Raise) and node.exc is not None:
            raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if (resolve(raised) or ast.dump(raised)) in names:
                return True
    return False


def only_uses_cache(guarded: list[ast.stmt]) -> bool:
    """The block reads or fills a cache (`cache.get(key)`, `cache.set(key, value)`), and invalidates nothing.

    A cache that is down is a miss: the code computes the value from its source, and a value
    not stored is computed again next time. A failed `cache.delete(...)` is different: the
    stale value stays, so an invalidation is not best effort.
    """
    uses = False
    for node in block_nodes(guarded):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        receiver = node.func.value
        named = receiver.attr if isinstance(receiver, ast.Attribute) else receiver.id if isinstance(receiver, ast.Name) else ""
        if "cache" not in named.lower():
            continue
        if node.func.attr in _CACHE_INVALIDATIONS:
            return False
        if node.func.attr in _CACHE_USES:
            uses = True
    return uses


# --- a fallback that is a path the code takes anyway ----------------------------------------------


def falls_back_to_a_normal_path(
    handler: ast.ExceptHandler, function: ast.AST | None, in_a_handler: Callable[[ast.AST], bool]
) -> bool:
    """The handler answers what the function answers on a path where nothing failed.

    `except Exception: return f(*args, **kwargs)` in a caching wrapper whose uncached path
    returns `f(*args, **kwargs)` too; `except Exception: return None` in a function that returns
    `None` when there is nothing to add. The failure only chooses which of the function's own
    answers it gives; a call in that answer runs again and reports its own errors. The answer
    must be such a call or nothing (`None`, `False`, an empty collection): returning the success
    value (`return value` of a validator) turns the failure into a success instead.
    """
    statements = [statement for statement in handler.body if not is_comment(statement)]
    if function is None or len(statements) != 1 or not isinstance(statements[0], ast.Return):
        return False
    value = statements[0].value
    if value is not None and not isinstance(value, ast.Call) and not is_empty(value):
        return False
    # The function's own answers: a function or lambda defined in it answers its own callers.
    nodes = block_nodes(function.body) if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) else ast.walk(function)
    returns = [node for node in nodes if isinstance(node, ast.Return)]
    if is_nothing(value) and all(is_nothing(node.value) for node in returns):
        # In a procedure, `return` abandons the work: only where the function answers values is
        # `None` one of its answers.
        return False
    answer = ast.dump(statements[0].value) if statements[0].value is not None else None
    for node in returns:
        if node is statements[0] or in_a_handler(node):
            continue
        if (ast.dump(node.value) if node.value is not None else None) == answer:
            return True
    return False


def is_nothing(value: ast.expr | None) -> bool:
    return value is None or isinstance(value, ast.Constant) and value.value is None


def leaves_the_value_as_it_was(guarded: list[ast.stmt], body: list[ast.stmt]) -> bool:
    """The block only rewrites a value from itself (`df[col] = df[col].apply(fmt)`), and the handler
    passes: when the rewrite fails the value stays as it was ("send as is")."""
    if any(not is_comment(statement) and not isinstance(statement, ast.Pass) for statement in body):
        return False
    meaningful = [statement for statement in guarded if not is_comment(statement)]
    if len(meaningful) != 1 or not isinstance(meaningful[0], ast.Assign) or len(meaningful[0].targets) != 1:
        return False
    target = ast.unparse(meaningful[0].targets[0])
    return any(
        isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)) and ast.unparse(node) == target
        for node in ast.walk(meaningful[0].value)
    )


def is_comment(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) and isinstance(
        statement.value.value, str
    )


# --- an ignore the author explained -------------------------------------------------------------


def explained(handler: ast.ExceptHandler, lines: list[str]) -> bool:
    """The handler says why the error does not matter, in a comment or a string.

    `except OSError:  # Not a git repo or git is not installed.` or a body of
    a string "Non fatal: the table does not exist before the first migration.": the decision is
    written down for the next reader. Linter directives (`# noqa`, `# pylint: disable=...`)
    and `# TODO` are not explanations.
    """
    for statement in handler.body:
        if (
            isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
            and _is_explanation(statement.value.value)
        ):
            return True
    end = handler.end_lineno or handler.lineno
    # Comments right after the last statement, still indented under the `except`, belong to it.
    while end < len(lines) and (not lines[end].strip() or lines[end].lstrip().startswith("#")):
        if lines[end].strip() and len(lines[end]) - len(lines[end].lstrip()) <= handler.col_offset:
            break
        end += 1
    text = textwrap.dedent("\n".join(lines[handler.lineno - 1 : end]))
    return any(_is_explanation(comment) for comment in _comments(text))


def _comments(text: str) -> Iterator[str]:
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                yield token.string.lstrip("#")
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return


def _is_explanation(text: str) -> bool:
    if _DIRECTIVE.match(text) or _PLACEHOLDER.match(text):
        return False
    return len(re.findall(r"[A-Za-z][A-Za-z'-]*", text)) >= _EXPLANATION_WORDS


# --- a task cancelled, then reaped --------------------------------------------------------------------


def reaps_a_cancelled_task(guarded: list[ast.stmt], preceding: ast.stmt | None) -> bool:
    """`task.cancel()` then `try: await task / except Exception: pass` (or `with suppress(...): await
    task`): the code stopped the task itself and only waits for it to finish; the cancellation it
    asked for is the expected outcome, and the task's own work is reviewed where it is written."""
    statements = [statement for statement in guarded if not isinstance(statement, ast.Pass)]
    if len(statements) != 1 or preceding is None:
        return False
    awaited = statements[0]
    if not (isinstance(awaited, ast.Expr) and isinstance(awaited.value, ast.Await)):
        return False
    task = awaited.value.value
    if not isinstance(task, (ast.Name, ast.Attribute)):
        return False
    call = preceding.value if isinstance(preceding, ast.Expr) else None
    return (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "cancel"
        and ast.dump(call.func.value) == ast.dump(task)
    )
