"""Small helpers shared by the benchmark scripts."""
import os
import shutil
import subprocess
import time


def tree_commit(root):
    """The commit of the source tree at `root` ('git rev-parse --short HEAD'), with
    '-dirty' when the tree has changes (modified, staged or untracked files): then
    the binaries may hold code that is in no commit."""
    def git(*args):
        return subprocess.run(["git", "-C", root, *args], capture_output=True, text=True,
                              timeout=30, check=True).stdout.strip()
    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain")
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return commit + ("-dirty" if dirty else "")


def describe_binary(binary):
    """'PATH (built YYYY-mm-dd HH:MM:SS, VERSION)' for the header of a report."""
    path = binary if os.path.exists(binary) else (shutil.which(binary) or binary)
    try:
        built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(path)))
    except OSError:
        built = "?"
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
        version = (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        version = "?"
    return f"{path} (modified {built}; {version})"


def exit_status(failed):
    """Lists the failed runs under 'FAILED:' and gives the script's exit status:
    1 when a run failed (its figures were left out), 0 otherwise."""
    if not failed:
        return 0
    print("\nFAILED:")
    for f in failed:
        print("  " + f)
    return 1
