"""The per-submission sandbox: bubblewrap around the kernel that runs a student's cells.

What the sandboxed kernel sees (``bwrap`` mount, PID, network, IPC, UTS and user
namespaces; see :func:`bwrap_command`):

* the system's ``/usr``, ``/bin``, ``/lib*`` and ``/etc``, the Python installation
  and the virtual environment, all read-only;
* a *library view* (:func:`library_view`): a read-only copy of the parts of
  ``lime_core`` the assignment allows, with the modules and functions the
  assignment asks students to write removed, plus the kernel's two files;
  reference libraries the exercise replaces (lime, shap, captum; scikit-learn's
  ``Ridge`` in hw1) are emptied;
* an empty home folder on a size-limited tmpfs (the only writable place) and an
  empty ``/tmp``; a private ``/proc`` (its own processes only) and ``/dev``.

It does not see the repository (``solutions/``, ``grading/``, tests), the
grader's temporary folders, other submissions, the grader's processes or its
environment variables, and has no network. Limits: address space
(``memory`` bytes), number of processes (when the grader runs as root, the
kernel runs under a user id of its own so the limit applies), CPU seconds, file size;
and, where the grader may make control groups (root), a group of its own for all its
processes (:mod:`grading._cgroup`: one core of CPU, memory with shared memory counted,
processes), removed with everything in it when the kernel stops.
When its grading ends the sandbox's PID namespace is torn down, which kills
every process the submission started.
"""

from __future__ import annotations

import ast
import atexit
import functools
import os
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grading._cgroup import SandboxGroup, cgroup_problem
from grading.course import REPO_ROOT

BWRAP = shutil.which("bwrap") or "/usr/bin/bwrap"
SETPRIV = shutil.which("setpriv") or "/usr/bin/setpriv"
SANDBOX_UID_BASE = 100000
HOME = "/home/student"
VIEW_MOUNT = "/opt/limelab"
GB = 1024**3

#: Per assignment: the lime_core modules a submission may import (all others are
#: absent) and, inside those, functions removed because the exercise is to write them.
#: ``None`` means the whole library. Third-party references hidden everywhere:
#: lime, shap, captum (no homework needs them). hw1 also loses scikit-learn's Ridge.
LIBRARY_POLICY: dict[str, dict] = {
    "hw1_lime_from_scratch": {
        "modules": ["_validation", "_deprecation", "perturbation", "zoo"],
        "remove": {}, "sklearn_ridge": False,
    },
    "hw2_integrated_gradients": {
        "modules": ["_validation", "_deprecation", "sampling", "segmentation", "perturbation", "zoo",
                    "theory"],
        "remove": {}, "sklearn_ridge": True,
    },
    "hw3_shapley": {
        "modules": ["_validation", "_deprecation", "sampling", "perturbation", "zoo", "shapley"],
        # every function that computes a Shapley value or a KernelSHAP fit (lime_core/shapley/
        # exact.py and kernel.py); the games (games.py) stay
        "remove": {"shapley": ["shapley_exact", "shapley_permutation", "shapley_kernel_weight",
                               "kernel_shap", "kernel_shap_game", "shapley_sampling",
                               "shapley_values", "shapley_weight", "all_coalitions",
                               "_choose_coalitions", "_reduced_problem", "_solve_normal_equations",
                               "_constrained_wls", "_size_masses", "_subsets_of_size",
                               "_fit", "_fit_underdetermined", "_normal_equations",
                               "_pair_statistics", "_pseudo_solve", "_complete", "_log_binom"]},
        "sklearn_ridge": True,
    },
    "hw4_axioms": {"modules": None, "remove": {}, "sklearn_ridge": True},
    "hw5_sanity_checks": {
        "modules": ["_validation", "_deprecation", "sampling", "segmentation", "perturbation", "zoo",
                    "theory", "gradients"],
        "remove": {}, "sklearn_ridge": True,
    },
    "hw6_evaluation": {
        "modules": ["_validation", "_deprecation", "perturbation", "zoo", "theory", "kernels", "sampling",
                    "segmentation"],
        "remove": {}, "sklearn_ridge": True,
    },
    "hw7_explain_your_model": {"modules": None, "remove": {}, "sklearn_ridge": True},
}
HIDDEN_PACKAGES = ("lime", "shap", "captum")
#: what scikit-learn's ``linear_model/_ridge.py`` is in a sandbox where the ridge is the exercise
RIDGE_STUB = '''"""scikit-learn's ridge is the exercise in this assignment: write it with numpy."""

_WHY = "scikit-learn's ridge is the exercise here: write it with numpy"


class _NotInThisAssignment:
    def __init__(self, *args, **kwargs):
        raise ImportError(_WHY)


Ridge = RidgeCV = RidgeClassifier = RidgeClassifierCV = _NotInThisAssignment


def ridge_regression(*args, **kwargs):
    raise ImportError(_WHY)


_solve_cholesky_kernel = ridge_regression


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise ImportError(_WHY + f" ({name} is not available)")
'''
_KERNEL_FILES = ("_kernel.py", "_wire.py")


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot start on this machine (the message is one sentence)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed kernel."""

    memory: int = 4 * GB          # address space, bytes
    processes: int = 256          # processes/threads of the sandbox user
    cell_timeout: int = 60        # seconds per cell or per call of a student function
    total_timeout: int = 1800     # seconds for the whole submission
    file_size: int = GB // 2      # largest file it may write
    scratch_size: int = GB // 2   # size of its writable home folder

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _strip_functions(source: str, names: list[str]) -> str:
    """``source`` without the top-level ``def``/``class`` statements called ``names``."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    drop: list[tuple[int, int]] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in names:
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            drop.append((start, node.end_lineno))
    for start, end in sorted(drop, reverse=True):
        name = next(n.name for n in tree.body
                    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                    and min([n.lineno] + [d.lineno for d in n.decorator_list]) == start)
        # a stand-in keeps the package's own imports working, and has no reference code in it
        lines[start - 1:end] = [
            "# removed in this assignment's sandbox\n",
            f"def {name}(*args, **kwargs):\n",
            f"    raise NotImplementedError('{name} is the exercise in this assignment: "
            "write it yourself')\n",
        ]
    return "".join(lines)


_VIEWS: dict[str, Path] = {}
_VIEW_ROOT: list[Path] = []


def _cleanup_views() -> None:
    for root in _VIEW_ROOT:
        shutil.rmtree(root, ignore_errors=True)
    _VIEW_ROOT.clear()
    _VIEWS.clear()


def library_view(assignment: str) -> Path:
    """A world-readable folder with what the sandbox of ``assignment`` may import.

    ``<view>/lib/lime_core`` (the allowed modules, an empty package ``__init__``),
    ``<view>/kernel/`` (the kernel's files) and ``<view>/stubs/`` (replacement files
    bound over reference implementations). Built once per process.
    """
    if assignment in _VIEWS:
        return _VIEWS[assignment]
    if not _VIEW_ROOT:
        root = Path(tempfile.mkdtemp(prefix="limelab-view-"))
        os.chmod(root, 0o755)
        _VIEW_ROOT.append(root)
        atexit.register(_cleanup_views)
    view = _VIEW_ROOT[0] / assignment
    policy = LIBRARY_POLICY.get(assignment, {"modules": None, "remove": {}, "sklearn_ridge": True})
    src = REPO_ROOT / "lime_core"
    lib = view / "lib" / "lime_core"
    lib.mkdir(parents=True)
    allowed = policy["modules"]
    for path in sorted(src.iterdir()):
        if path.name == "__pycache__":
            continue
        stem = path.stem if path.is_file() else path.name
        if path.name == "__init__.py":
            if allowed is None:
                shutil.copy2(path, lib / path.name)
            else:
                (lib / "__init__.py").write_text(
                    '"""lime_core, as this assignment allows it (some modules are absent)."""\n')
            continue
        if allowed is not None and stem not in allowed:
            continue
        if path.is_dir():
            shutil.copytree(path, lib / path.name, ignore=shutil.ignore_patterns("__pycache__"))
            if stem in policy["remove"]:          # a package (e.g. shapley/): strip in every file
                for module in (lib / path.name).rglob("*.py"):
                    module.write_text(_strip_functions(module.read_text(), policy["remove"][stem]))
        elif path.suffix == ".py":
            text = path.read_text()
            if stem in policy["remove"]:
                text = _strip_functions(text, policy["remove"][stem])
            (lib / path.name).write_text(text)
    kernel = view / "kernel"
    kernel.mkdir()
    for name in _KERNEL_FILES:
        shutil.copy2(Path(__file__).with_name(name), kernel / name)
    stubs = view / "stubs"
    stubs.mkdir()
    if not policy["sklearn_ridge"]:
        # the whole of scikit-learn's ridge module is replaced (none of its code is kept, so no
        # private solver such as _ridge_regression or _solve_cholesky is reachable): the names
        # other scikit-learn modules import from it exist and raise when used (KernelRidge, a
        # ridge too, uses _solve_cholesky_kernel); any other name fails to import
        text = RIDGE_STUB
        (stubs / "_ridge.py").write_text(text)
    for dirpath, _dirnames, filenames in os.walk(view):
        os.chmod(dirpath, 0o755)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), 0o644)
    _VIEWS[assignment] = view
    return view


def _site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def _python_home() -> Path:
    return Path(os.path.realpath(sys.executable)).parent.parent


def sandbox_env(view: Path | None = None) -> dict[str, str]:
    """The whole environment of the sandboxed kernel (nothing is inherited).

    ``view`` is where the library view is seen (``/opt/limelab`` in the sandbox).
    """
    view = VIEW_MOUNT if view is None else view
    return {
        "HOME": HOME, "USER": "student", "LANG": "C.UTF-8",
        "PATH": f"{Path(sys.prefix) / 'bin'}:/usr/bin:/bin",
        "PYTHONPATH": f"{view}/lib:{view}/kernel",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib",
        "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }


@functools.lru_cache(maxsize=1)
def _bwrap_can_disable_userns() -> bool:
    """Whether this bubblewrap has ``--disable-userns`` (0.8.0 and later)."""
    try:
        out = subprocess.run([BWRAP, "--version"], capture_output=True, text=True, timeout=10).stdout
        major, minor = (int(x) for x in out.split()[-1].split(".")[:2])
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return False
    return (major, minor) >= (0, 8)


def bwrap_command(assignment: str, limits: Limits, argv: list[str]) -> list[str]:
    """The ``bwrap`` command line running ``argv`` in the sandbox of ``assignment``.

    Run by root (CI, a grading server), bubblewrap sets the sandbox up with its
    own privileges and ``setpriv`` then runs the kernel under an unused user id with
    no capabilities, so the process limit applies. Run by an ordinary user, it
    uses an unprivileged user namespace and the kernel runs as that user inside
    it.
    """
    view = library_view(assignment)
    privileged = os.geteuid() == 0
    cmd = [BWRAP, "--die-with-parent", "--new-session", "--clearenv",
           "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    if not privileged:
        cmd.append("--unshare-user")
        if _bwrap_can_disable_userns():  # no user namespace of its own inside (bubblewrap >= 0.8)
            cmd.append("--disable-userns")
    # an empty /tmp first: binds made later may lie under /tmp (a checkout or venv in /tmp,
    # as in a CI clone) and must stay visible on top of it
    cmd += ["--size", str(64 * 1024**2), "--tmpfs", "/tmp"]

    def ro(src: Path | str, dest: Path | str | None = None) -> None:
        if Path(src).exists():
            cmd.extend(["--ro-bind", str(src), str(dest or src)])

    for system in ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin", "/etc"):
        if os.path.islink(system):
            cmd.extend(["--symlink", os.readlink(system), system])
        else:
            ro(system)
    home = _python_home()
    if not str(home).startswith("/usr/"):
        ro(home)
    venv = Path(sys.prefix)
    if venv != home:
        ro(venv)
    site = _site_packages()
    for name in HIDDEN_PACKAGES:
        if (site / name).is_dir():
            cmd.extend(["--tmpfs", str(site / name)])
    if (view / "stubs" / "_ridge.py").is_file():
        import sklearn

        linear_model = Path(sklearn.__file__).parent / "linear_model"
        ro(view / "stubs" / "_ridge.py", linear_model / "_ridge.py")
        # the compiled original stays next to it (__pycache__/_ridge.cpython-3XX.pyc) and runs
        # with importlib's SourcelessFileLoader: /dev/null is bound over it (it cannot be read
        # there; importing the stub skips an unreadable cache and compiles the stub)
        for pyc in sorted((linear_model / "__pycache__").glob("_ridge.*.pyc")):
            ro("/dev/null", pyc)
    ro(view, VIEW_MOUNT)
    # folders bwrap made to hold the binds: traversable, not listable
    made = set()
    for i, arg in enumerate(cmd):
        if arg == "--ro-bind":
            for parent in Path(cmd[i + 2]).parents:
                if str(parent) not in ("/", "/usr", "/etc") and not str(parent).startswith(str(venv)) \
                        and not str(parent).startswith(str(home) + "/"):
                    made.add(str(parent))
    for folder in sorted(made, key=len):
        cmd += ["--chmod", "0711", folder]
    cmd += ["--proc", "/proc", "--dev", "/dev",
            "--size", str(limits.scratch_size), "--tmpfs", HOME]
    if privileged:
        cmd += ["--chmod", "0777", HOME, "--chmod", "1777", "/tmp"]
    cmd += ["--chdir", HOME]
    for key, value in sandbox_env().items():
        cmd += ["--setenv", key, value]
    # in a user namespace the kernel sets its own process limit (counted in that namespace)
    cmd += ["--setenv", "LIMELAB_NPROC", str(limits.processes)]
    cmd.append("--")
    if privileged:
        # a user id of its own (no other process on the machine has it): the process
        # limit then counts this sandbox's processes only, and nothing outside is its own
        uid = SANDBOX_UID_BASE + os.getpid()
        cmd += [SETPRIV, f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    return cmd + list(argv)


def _limit_resources(limits: Limits, processes: bool = True, group: SandboxGroup | None = None):
    """Resource limits set in the child before it starts bubblewrap (or the plain kernel).

    The process limit counts every process of the user: it is set only when the
    kernel gets a user of its own (the sandbox), never on the grader's own user.
    """
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory, limits.memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size, limits.file_size))
        cpu = limits.total_timeout + 60
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if processes:
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
        if group is not None:
            group.join()  # before exec: bubblewrap and all it starts are in the group

    return apply


def kernel_argv(assignment: str, sandbox: bool, rfd: int, wfd: int) -> list[str]:
    kernel = f"{VIEW_MOUNT}/kernel/_kernel.py" if sandbox else str(library_view(assignment) / "kernel" / "_kernel.py")
    python = str(Path(sys.prefix) / "bin" / "python")
    return [python, "-s", kernel, str(rfd), str(wfd)]


def start_kernel(assignment: str, limits: Limits, sandbox: bool, stderr_path: Path) -> tuple[subprocess.Popen, int, int]:
    """Start a kernel for ``assignment``; return the process and the (read, write) fds to it.

    With ``sandbox=False`` the kernel is an ordinary child process (same user,
    same file system) with a cleared environment and an empty working folder:
    only the library view and the resource limits still apply.
    """
    to_k_r, to_k_w = os.pipe()
    from_k_r, from_k_w = os.pipe()
    argv = kernel_argv(assignment, sandbox, to_k_r, from_k_w)
    view = library_view(assignment)
    # a control group of its own (CPU quota, memory with shmem, processes) when this machine allows
    group = SandboxGroup.create(limits.memory, limits.processes) if cgroup_problem() is None else None
    err = open(stderr_path, "wb")
    try:
        if sandbox:
            cmd = bwrap_command(assignment, limits, argv)
            cwd = "/"
            env = {"PATH": "/usr/bin:/bin"}
        else:
            cmd = argv
            cwd = tempfile.mkdtemp(prefix="limelab-nosandbox-")
            env = sandbox_env(view)
            env["HOME"] = cwd
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
            pass_fds=[to_k_r, from_k_w], cwd=cwd, env=env,
            preexec_fn=_limit_resources(limits, processes=sandbox and os.geteuid() == 0, group=group),
            close_fds=True,
        )
        proc.scratch = None if sandbox else cwd  # type: ignore[attr-defined]
        proc.cgroup = group  # type: ignore[attr-defined]
    except BaseException:
        if group is not None:
            group.remove()
        raise
    finally:
        err.close()
        for fd in (to_k_r, from_k_w):
            os.close(fd)
    return proc, from_k_r, to_k_w


def stop_kernel(proc: subprocess.Popen, fds: tuple[int, ...] = ()) -> None:
    """Kill the kernel (and, through its PID namespace, everything it started)."""
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    group = getattr(proc, "cgroup", None)
    if group is not None:
        proc.oom_kills = group.oom_kills()  # type: ignore[attr-defined]
        group.remove()  # whatever the submission left behind (a process in a session of its own)
    scratch = getattr(proc, "scratch", None)
    if scratch:
        shutil.rmtree(scratch, ignore_errors=True)


_CHECKED: dict[str, str | None] = {}


def sandbox_problem() -> str | None:
    """None when the sandbox starts here, else one sentence saying why not."""
    if "result" in _CHECKED:
        return _CHECKED["result"]
    problem = None
    if not os.path.exists(BWRAP):
        problem = ("the sandbox cannot start: bubblewrap (bwrap) is not installed "
                   "(apt-get install bubblewrap), or pass --no-sandbox to grade without isolation")
    else:
        try:
            cmd = bwrap_command("hw7_explain_your_model", Limits(),
                                [str(Path(sys.prefix) / "bin" / "python"), "-c", "print(6 * 7)"])
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                                 preexec_fn=_limit_resources(Limits()))
            if out.stdout.strip() != "42":
                why = (out.stderr.strip().splitlines() or ["no output"])[-1]
                problem = (f"the sandbox cannot start: bubblewrap failed ({why}); user namespaces may be "
                           "disabled (on Ubuntu, AppArmor restricts them), or pass --no-sandbox to grade "
                           "without isolation")
        except (OSError, subprocess.SubprocessError) as err:
            problem = f"the sandbox cannot start: {err}; or pass --no-sandbox to grade without isolation"
    _CHECKED["result"] = problem
    return problem
