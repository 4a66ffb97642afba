"""The kernel a run executes in: private, isolated from the working folder, optionally confined.

Every notebook hepml-nb executes (``hepml-nb run``, sweeps, the book, student builds, grading)
runs in a kernel started here:

- **The Python running hepml-nb**, ``sys.executable -P -m ipykernel_launcher``: ``-P`` keeps the
  working folder off ``sys.path`` (a planted ``ipykernel_launcher.py``, ``hepml_nb.py`` or
  ``numpy.py`` there is never imported), ``--IPKernelApp.ignore_cwd=True`` keeps IPython from
  adding it back, and ``PYTHONSAFEPATH=1`` in the kernel's environment does the same for any
  Python the notebook starts. IPython history stays in memory.
- **No kernelspec file** is read or written: the kernel manager is given its spec directly, so no
  file in a shared location can choose the kernel.
- **A fresh private folder** (:func:`tempfile.mkdtemp`: mode 0700, unpredictable name, named after
  the runner's process id) holds the connection file and the IPC sockets the kernel talks over (no
  TCP port); it is removed afterwards, and folders of runners that died (killed with SIGKILL) are
  removed by the next sandbox (:func:`remove_stale_kernel_folders`).
- **Limits** (:class:`KernelLimits`, used by grading): another user for the kernel (when the runner
  is root), a memory limit (``RLIMIT_DATA`` of the kernel and every process it starts), a wall-time
  limit for the whole execution, and a clean environment (an allow-list: no tokens or keys of the
  caller). At the end the kernel's process group and every process that still carries the
  sandbox's token in its environment are killed.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from hepml_nb.core.errors import ParameterError
from hepml_nb.core.results import RUN_DIR_ENV, process_alive
from hepml_nb.course.memory import MemorySampler, MemoryTrace

__all__ = [
    "KERNEL_FOLDER_PREFIX",
    "KernelLimits",
    "KernelSandbox",
    "kernel_argv",
    "kernel_sandbox",
    "remove_stale_kernel_folders",
]

KERNEL_FOLDER_PREFIX = "hepml-nb-kernel-"
KERNEL_NAME = "hepml-nb-python"
TOKEN_ENV = "HEPML_NB_KERNEL_TOKEN"
#: what a clean environment keeps from the caller's (names, or prefixes ending in ``_``)
CLEAN_ENV_KEEP = ("PATH", "LANG", "LANGUAGE", "TZ", "LC_", "OMP_", "MKL_", "OPENBLAS_", "HEPML_NB_CACHE")


@dataclass(frozen=True)
class KernelLimits:
    """Confinement of a kernel (all off by default, as for the user's own runs).

    Attributes
    ----------
    user
        Run the kernel as this user (name or uid); needs a root runner. The kernel cannot read
        the runner's files then (answer keys, other submissions) unless they are readable by all.
    memory_mib
        Memory of the kernel and every process it starts, together [MiB]: their resident memory is
        sampled five times a second and the kernel is stopped when the sum goes above it, as the
        memory limit of a JupyterHub or Binder session would. Each process also gets an address-space
        backstop (``RLIMIT_DATA`` of four times the limit, at least the limit plus 4 GiB) against an
        allocation too fast to sample.
    wall_seconds
        The whole execution is stopped (the kernel killed) after this many seconds.
    clean_environment
        Start the kernel with an allow-list of the caller's environment variables only
        (``CLEAN_ENV_KEEP``), with ``HOME`` and the temporary folder inside the sandbox.
    """

    user: str | int | None = None
    memory_mib: int | None = None
    wall_seconds: float | None = None
    clean_environment: bool = False


def kernel_argv() -> list[str]:
    """The kernel command: this Python, with the working folder kept off ``sys.path``."""
    return [
        sys.executable,
        "-P",
        "-m",
        "ipykernel_launcher",
        "--IPKernelApp.ignore_cwd=True",
        "--HistoryManager.hist_file=:memory:",
        "-f",
        "{connection_file}",
    ]


def _user_ids(user: str | int) -> tuple[int, int]:
    try:
        entry = pwd.getpwuid(user) if isinstance(user, int) else pwd.getpwnam(str(user))
    except KeyError:
        raise ParameterError(f"unknown user {user!r} for the kernel; give an existing account, e.g. nobody") from None
    if os.geteuid() != 0 and entry.pw_uid != os.geteuid():
        raise ParameterError(
            f"cannot run the kernel as {entry.pw_name!r}: switching users needs root (this process runs as uid "
            f"{os.geteuid()}); run as root, or leave the user out"
        )
    return entry.pw_uid, entry.pw_gid


class KernelSandbox:
    """A private folder, an environment and a kernel manager class for one kernel; see the module doc.

    Made by :func:`kernel_sandbox`. ``work`` is a folder the kernel may write to (its ``HOME`` and
    temporary folder in a clean environment); ``timed_out`` tells whether the wall-time limit
    stopped the kernel.
    """

    def __init__(self, folder: Path, limits: KernelLimits, env: Mapping[str, str]):
        self.folder, self.limits = folder, limits
        self.ids = _user_ids(limits.user) if limits.user is not None else None
        self.private = folder / "kernel"
        self.work = self.private / "work"
        self.token = secrets.token_hex(16)
        self.created = time.time()
        self.timed_out = False
        self.pgid: int | None = None
        self.out_of_memory = 0  # the tree's resident memory [bytes] when it went above the memory limit
        limit = None if limits.memory_mib is None else int(limits.memory_mib) * 2**20
        self._memory = MemorySampler(limit=limit, on_exceed=self._exceeded)
        self._extra_env = dict(env)
        self._timer: threading.Timer | None = None
        for path in (self.private, self.work, self.work / "tmp", self.work / "run"):
            path.mkdir(mode=0o700)
        if self.ids is not None:  # the kernel user owns the inner folder; the outer one is only traversable
            os.chmod(folder, 0o711)
            for path in (self.private, self.work, self.work / "tmp", self.work / "run"):
                os.chown(path, *self.ids)

    def set_environment(self, **values: str) -> None:
        """Add variables to the kernel's environment (before it starts)."""
        self._extra_env.update(values)

    @property
    def kernel_name(self) -> str:
        return KERNEL_NAME

    def environment(self, inherited: Mapping[str, str] | None) -> dict[str, str]:
        """The kernel's environment: the caller's (or its allow-list) plus the run's variables."""
        base = dict(os.environ if inherited is None else inherited)
        if self.limits.clean_environment:
            keep = {k: v for k, v in base.items() if k in CLEAN_ENV_KEEP or k.startswith(_prefixes())}
            home = str(self.work)
            base = {**keep, "HOME": home, "TMPDIR": str(self.work / "tmp"), "MPLCONFIGDIR": str(self.work)}
            base.update({"IPYTHONDIR": str(self.work / ".ipython"), "JUPYTER_RUNTIME_DIR": str(self.work)})
        base.update(self._extra_env)
        base.update({TOKEN_ENV: self.token, "PYTHONSAFEPATH": "1"})
        if self.ids is not None:  # another user cannot write the caller's run folder: results stay in the sandbox
            base[RUN_DIR_ENV] = str(self.work / "run")
        return base

    def popen_options(self) -> dict[str, Any]:
        """Extra :class:`subprocess.Popen` options: the kernel user and the memory limit."""
        options: dict[str, Any] = {}
        if self.limits.clean_environment:  # nor does it start in the caller's working folder
            options["cwd"] = str(self.work)
        if self.ids is not None:
            options.update(user=self.ids[0], group=self.ids[1], extra_groups=[])
        if self.limits.memory_mib is not None:
            limit = int(self.limits.memory_mib) * 2**20
            options["preexec_fn"] = _memory_limit(max(4 * limit, limit + 4 * 2**30))
        return options

    def manager_class(self) -> type:
        """A jupyter_client ``KernelManager`` class bound to this sandbox."""
        return _manager_class(self)

    def started(self, pid: int) -> None:
        """Record the kernel's process (its own session) and start the wall-time clock."""
        with contextlib.suppress(OSError):
            self.pgid = os.getpgid(pid)
        self._memory.start(pid)
        if self.limits.wall_seconds is not None and self._timer is None:
            self._timer = threading.Timer(float(self.limits.wall_seconds), self._expire)
            self._timer.daemon = True
            self._timer.start()

    def _exceeded(self, tree: int) -> None:
        self.out_of_memory = tree
        self.kill_leftovers()

    def _expire(self) -> None:
        self.timed_out = True
        self.kill_leftovers()

    def kill_leftovers(self) -> list[int]:
        """Kill what the kernel started; return the pids.

        That is the kernel's process group, every process carrying this sandbox's token in its
        environment, and (for a kernel run as another user) every process of that user started
        since the sandbox was made.
        """
        killed: list[int] = []
        if self.pgid is not None:
            with contextlib.suppress(OSError):
                os.killpg(self.pgid, signal.SIGKILL)
                killed.append(self.pgid)
        for proc in psutil.process_iter(["pid", "uids", "create_time"]):
            try:
                mine = proc.info["uids"] is not None and self.ids is not None and proc.info["uids"].real == self.ids[0]
                late = mine and proc.info["create_time"] >= self.created - 1.0
                if proc.pid != os.getpid() and (late or proc.environ().get(TOKEN_ENV) == self.token):
                    proc.kill()
                    killed.append(proc.pid)
            except (psutil.Error, OSError):
                continue
        return killed

    def memory(self) -> MemoryTrace:
        """The resident memory of the kernel's process tree sampled so far (:mod:`hepml_nb.course.memory`)."""
        return self._memory.trace()

    def close(self) -> None:
        self._memory.stop()
        if self._timer is not None:
            self._timer.cancel()
        self.kill_leftovers()
        shutil.rmtree(self.folder, ignore_errors=True)


def _prefixes() -> tuple[str, ...]:
    return tuple(k for k in CLEAN_ENV_KEEP if k.endswith("_"))


def _memory_limit(limit: int):
    def apply() -> None:  # runs in the child, after the user switch: lowering a limit needs no privilege
        import resource

        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _manager_class(sandbox: KernelSandbox) -> type:
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class SandboxKernelManager(AsyncKernelManager):  # async: a dead kernel is noticed while a cell waits
        """IPC sockets and the connection file in the sandbox; the spec given, never looked up."""

        def __init__(self, **kwargs: Any):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = str(sandbox.private / "kernel")
            self.connection_file = str(sandbox.private / "connection.json")
            self._kernel_spec = KernelSpec(
                argv=kernel_argv(), display_name=f"Python ({sys.executable})", language="python"
            )

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            kw["env"] = sandbox.environment(kw.get("env"))
            kw.update(sandbox.popen_options())
            if sandbox.ids is not None:
                os.chown(self.connection_file, *sandbox.ids)
            await super()._async_launch_kernel(kernel_cmd, **kw)
            sandbox.started(self.provisioner.pid)  # type: ignore[union-attr]  # set by the launch above

    return SandboxKernelManager


def _folder_pid(path: Path) -> int | None:
    match = re.fullmatch(rf"{KERNEL_FOLDER_PREFIX}(?P<host>.+)-(?P<pid>\d+)-[^-]+", path.name)
    if not match or match["host"] != _host():
        return None
    return int(match["pid"])


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())


def remove_stale_kernel_folders(root: Path | str | None = None) -> list[Path]:
    """Remove this user's kernel folders (under ``root``, default the temporary folder) whose runner is dead.

    A folder is judged only when it is a real folder (not a link) owned by this user and made on
    this host; the runner's process id is in its name. Returns the removed folders.
    """
    removed = []
    for path in Path(root or tempfile.gettempdir()).glob(f"{KERNEL_FOLDER_PREFIX}*"):
        try:
            info = path.lstat()
        except OSError:
            continue
        pid = _folder_pid(path)
        if pid is None or not path.is_dir() or path.is_symlink() or info.st_uid != os.geteuid():
            continue
        if not process_alive(pid):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


@contextlib.contextmanager
def kernel_sandbox(limits: KernelLimits | None = None, env: Mapping[str, str] | None = None) -> Iterator[KernelSandbox]:
    """A :class:`KernelSandbox` for one kernel; on exit its processes are killed and its folder removed.

    ``env`` adds variables to the kernel's environment (the run folder, headless mode, ...).
    """
    remove_stale_kernel_folders()
    folder = Path(tempfile.mkdtemp(prefix=f"{KERNEL_FOLDER_PREFIX}{_host()}-{os.getpid()}-"))
    sandbox = None
    try:
        sandbox = KernelSandbox(folder, limits or KernelLimits(), env or {})
        yield sandbox
    finally:
        if sandbox is not None:
            sandbox.close()
        else:
            shutil.rmtree(folder, ignore_errors=True)
