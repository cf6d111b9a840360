"""Runs the real Claude Code interactively (in a pseudo-terminal, as a person would) in a project
whose .claude/settings.json sends its hooks to a dashboard, against the model stand-in started
with STANDIN_TOOL=write: the model asks to write a file, and Claude Code stops at its permission
prompt until this script is told to answer.

Usage: claude_interactive.py PROJECT STANDIN_PORT
Prints `PROMPT` once the permission prompt is on screen. Then reads a line from standard input:
`yes` presses Enter (allow), anything else presses Esc (refuse); then it waits for the turn to
end, types /exit, and prints `ENDED` once Claude Code has exited. The terminal's output goes to
PROJECT/../claude-pty.log. Environment: EXECDASH_CLAUDE (the claude binary), PATH.
"""
import fcntl
import json
import os
import pty
import select
import signal
import struct
import sys
import tempfile
import termios
import time

PROJECT, STANDIN_PORT = sys.argv[1], sys.argv[2]
CLAUDE = os.environ["EXECDASH_CLAUDE"]
HOME = tempfile.mkdtemp(prefix="claude-home-")
# A person who has used Claude Code before: onboarding done, the project trusted, the key approved.
with open(os.path.join(HOME, ".claude.json"), "w") as f:
    json.dump({
        "hasCompletedOnboarding": True, "theme": "dark", "numStartups": 5,
        "customApiKeyResponses": {"approved": ["sk-ant-standin"], "rejected": []},
        "projects": {PROJECT: {"hasTrustDialogAccepted": True,
                               "hasCompletedProjectOnboarding": True, "allowedTools": []}},
    }, f)
ENV = {
    "PATH": os.environ["PATH"], "HOME": HOME, "TERM": "xterm-256color",
    "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{STANDIN_PORT}", "ANTHROPIC_API_KEY": "sk-ant-standin",
    "DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
}
log = open(os.path.join(os.path.dirname(PROJECT.rstrip("/")), "claude-pty.log"), "wb")
screen = bytearray()

pid, fd = pty.fork()
if pid == 0:
    os.chdir(PROJECT)
    os.execve(CLAUDE, [CLAUDE, "write a file", "--model", "claude-sonnet-4-5"], ENV)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))


def pump(seconds):
    """Reads the terminal for `seconds` (answering its queries); False once Claude Code exited."""
    end = time.time() + seconds
    while time.time() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:
            return False
        if not data:
            return False
        log.write(data)
        log.flush()
        screen.extend(data)
        if b"\x1b[6n" in data:
            os.write(fd, b"\x1b[1;1R")
        if b"\x1b[c" in data:
            os.write(fd, b"\x1b[?1;2c")
    return True


def wait_for(text, seconds):
    end = time.time() + seconds
    start = len(screen)
    while time.time() < end:
        if not pump(0.2):
            return False
        if text in screen[start:] or text in screen:
            return True
    return False


def finish(code):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    sys.exit(code)


# The prompt names the file to create ("Do you want to create new.txt?").
if not wait_for(b"new.txt", 60):
    print("NO-PROMPT", flush=True)
    finish(1)
print("PROMPT", flush=True)
# Keep the terminal read while the test looks at the page.
answer = None
while answer is None:
    ready, _, _ = select.select([sys.stdin, fd], [], [], 0.2)
    if sys.stdin in ready:
        answer = sys.stdin.readline().strip()
    elif fd in ready and not pump(0.05):
        print("EXITED", flush=True)
        finish(1)
os.write(fd, b"\r" if answer == "yes" else b"\x1b")
pump(3)
for ch in "/exit":
    os.write(fd, ch.encode())
    pump(0.1)
pump(0.5)
os.write(fd, b"\r")
end = time.time() + 20
while time.time() < end and pump(0.2):
    pass
print("ENDED", flush=True)
finish(0)
