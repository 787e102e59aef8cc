#!/usr/bin/python3
"""Checks of the `tearproof prove` report, run by ctest (tools/CMakeLists.txt).

  report_check.py schema SCHEMA REPORT        report.json is valid against docs/report.schema.json
  report_check.py schema-rejects SCHEMA REPORT
        broken copies of a valid report (a missing field, a wrong type, a verdict that contradicts
        its exit status, ...) are each rejected: the schema check can fail
  report_check.py markdown REPORT_MD REPORT   report.md exists and names the verdict
  report_check.py same-results A B            two reports of the same seed agree on every field
                                              of the phases both ran, but timings and versions
  report_check.py traces TEARPROOF REPORT_DIR
        every trace the report links (a control, a violation, a killed cell of the mutant kill
        matrix) exists under REPORT_DIR and `TEARPROOF replay` reproduces it (exit 1, "the
        trace expects X: reproduced"); a kill of a core mutant also passes on the real core
        (`--mutant none`, exit 0). A linked trace that is missing or does not reproduce fails.
  report_check.py traces-rejects TEARPROOF REPORT_DIR
        the traces check can fail: on copies of the report directory, a linked mutant trace
        rewritten to name no mutant (it then passes) and a linked trace deleted are each caught
  report_check.py browser HTML OUT_PNG [--expect-errors]
        headless Chromium (Debian's chromium, over the DevTools pipe) loads the page with
        JavaScript disabled: no console error, no exception, no failed load; #verdict is present
        and inside the first screen; the screenshot (OUT_PNG) shows the verdict's colour there.
        --expect-errors inverts the console check (the negative test: a page with errors must
        be caught). Exit 77 (ctest SKIP_RETURN_CODE) only when chromium is not installed.

Uses only Debian packages: python3-jsonschema, python3-pil, chromium.
"""
import base64
import copy
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def validator(schema_path):
    import jsonschema  # python3-jsonschema

    schema = load(schema_path)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def cmd_schema(schema_path, report_path):
    errors = sorted(validator(schema_path).iter_errors(load(report_path)), key=str)
    for e in errors[:20]:
        print("schema error at /%s: %s" % ("/".join(map(str, e.absolute_path)), e.message[:300]))
    if errors:
        fail("%s does not match %s (%d errors)" % (report_path, schema_path, len(errors)))
    print("ok: %s matches %s" % (report_path, schema_path))


def broken_variants(report):
    """(name, broken copy) pairs; each must be rejected by the schema."""

    def variant(name, edit):
        r = copy.deepcopy(report)
        edit(r)
        return name, r

    def first(items):
        if not items:
            fail("the report has no element to break (empty list)")
        return items[0]

    return [
        variant("no schema_version", lambda r: r.pop("schema_version")),
        variant("schema_version 1", lambda r: r.__setitem__("schema_version", 1)),
        variant("unknown top-level field", lambda r: r.__setitem__("surprise", 1)),
        variant("verdict holds with exit 1",
                lambda r: r["verdict"].update(status="holds", exit_code=1)),
        variant("verdict violation with exit 0",
                lambda r: r["verdict"].update(status="violation", exit_code=0)),
        variant("unknown verdict", lambda r: r["verdict"].update(status="probably")),
        variant("phase with an unknown status",
                lambda r: first(r["phases"]).update(status="fine")),
        variant("negative crash points",
                lambda r: r["explore"]["totals"].update(crash_points=-1)),
        variant("saturated eager count with a number",
                lambda r: first(r["explore"]["configurations"]).update(
                    eager_states_saturated=True, eager_states=5)),
        variant("kill without a check",
                lambda r: first(r["mutants"]["rows"])["z3"].update(status="killed", by=None)),
        variant("coverage mark without evidence",
                lambda r: first(r["coverage"]).update(evidence="")),
        variant("violation without a replay command",
                lambda r: r["violations"].append({"phase": "deep", "check": "ORACLE-ATOMIC"})),
        variant("Z3 version missing", lambda r: r["generator"].pop("z3_version")),
        variant("concurrent part without its error count",
                lambda r: r["concurrent"]["exhaustive"].pop("errors")),
        variant("held-on-runs claim from the explore phase",
                lambda r: r["verdict"]["held_on_runs"].append(
                    {"phase": "explore", "subject": "x", "runs": 1, "violations": 0})),
        variant("paths check that judged no crash state",
                lambda r: first(r["paths"]["checks"]).update(states=0)),
        variant("explore row of an unknown matrix part",
                lambda r: first(r["explore"]["configurations"]).update(part="parallel")),
        variant("explore part totals without the repeated crash points",
                lambda r: first(r["explore"]["parts"]).pop("crash_points_repeated")),
        variant("sector size 1000",
                lambda r: first(r["deep"]["configurations"]).update(sector_size=1000)),
    ]


def cmd_schema_rejects(schema_path, report_path):
    v = validator(schema_path)
    report = load(report_path)
    if list(v.iter_errors(report)):
        fail("the unbroken report must be valid first")
    accepted = [name for name, r in broken_variants(report) if not list(v.iter_errors(r))]
    if accepted:
        fail("the schema accepts broken reports: " + ", ".join(accepted))
    print("ok: the schema rejects all %d broken reports" % len(broken_variants(report)))


def cmd_markdown(md_path, report_path):
    report = load(report_path)
    with open(md_path, encoding="utf-8") as f:
        md = f.read()
    status = report["verdict"]["status"]
    if "tearproof prove" not in md or "(%s)" % status not in md:
        fail("%s does not name the verdict '%s'" % (md_path, status))
    if report["verdict"]["headline"] not in md:
        fail("%s lacks the verdict headline" % md_path)
    print("ok: %s names the verdict '%s'" % (md_path, status))


VARYING = {"seconds", "solve_seconds", "encode_seconds", "generator", "command", "headline"}


def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in VARYING}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


SECTIONS = ("medium", "explore", "deep", "concurrent", "paths", "control", "bmc", "mutants", "interop")


def relocate(value, directory):
    """The report's own directory, as it appears in replay commands, becomes '<out>'."""
    if isinstance(value, dict):
        return {k: relocate(v, directory) for k, v in value.items()}
    if isinstance(value, list):
        return [relocate(v, directory) for v in value]
    if isinstance(value, str):
        return value.replace(directory, "<out>")
    return value


def cmd_same_results(a_path, b_path):
    """Compares the phases both reports ran (the second run may select fewer phases)."""
    a = relocate(strip(load(a_path)), os.path.dirname(a_path))
    b = relocate(strip(load(b_path)), os.path.dirname(b_path))
    common = [s for s in SECTIONS if a.get(s) is not None and b.get(s) is not None]
    if not common:
        fail("the two reports have no phase in common")
    for section in common:
        if a[section] != b[section]:
            fail("the two runs differ in '%s'" % section)
        if [v for v in a["violations"] if v["phase"] == section] != \
                [v for v in b["violations"] if v["phase"] == section]:
            fail("the two runs found different violations in '%s'" % section)
    if a["campaign"]["seed"] != b["campaign"]["seed"]:
        fail("the two runs used different seeds")
    print("ok: the two runs agree on every deterministic field of %s" % ", ".join(common))


class DevTools:
    """Chrome DevTools Protocol over --remote-debugging-pipe (fd 3: commands, fd 4: replies)."""

    def __init__(self, chromium, profile_dir):
        self.to_chrome_r, self.to_chrome_w = os.pipe()
        self.from_chrome_r, self.from_chrome_w = os.pipe()

        def child_fds():
            # Copies first, so that a pipe end already at fd 3 or 4 is not overwritten.
            commands, replies = os.dup(self.to_chrome_r), os.dup(self.from_chrome_w)
            os.dup2(commands, 3)
            os.dup2(replies, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--user-data-dir=" + profile_dir,
                "--remote-debugging-pipe", "about:blank"]
        self.proc = subprocess.Popen(args, preexec_fn=child_fds, close_fds=False,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(self.to_chrome_r)
        os.close(self.from_chrome_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def _read_message(self, deadline):
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                fail("chromium did not answer in time")
            ready, _, _ = select.select([self.from_chrome_r], [], [], left)
            if ready:
                chunk = os.read(self.from_chrome_r, 1 << 16)
                if not chunk:
                    fail("chromium closed the DevTools pipe")
                self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method, params=None, session=None, timeout=30):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_chrome_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    fail("%s: %s" % (method, reply["error"]))
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method, timeout=30):
        deadline = time.monotonic() + timeout
        for e in self.events:
            if e.get("method") == method:
                return e
        while True:
            e = self._read_message(deadline)
            self.events.append(e)
            if e.get("method") == method:
                return e

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except SystemExit:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def page_errors(events):
    """Console errors, exceptions and failed loads among the DevTools events."""
    errors = []
    for e in events:
        method, p = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append("console.%s: %s" % (p["type"], [a.get("value") for a in p.get("args", [])]))
        elif method == "Runtime.exceptionThrown":
            errors.append("exception: %s" % p.get("exceptionDetails", {}).get("text"))
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            errors.append("log: %s" % p["entry"].get("text"))
        elif method == "Network.loadingFailed":
            errors.append("failed load: %s" % p.get("errorText"))
    return errors


def cmd_browser(html_path, png_path, expect_errors):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("SKIP: chromium is not installed (scripts/install-deps.sh installs it)")
        sys.exit(SKIP)
    from PIL import Image  # python3-pil

    width, height = 1200, 900
    with tempfile.TemporaryDirectory(prefix="tearproof-chromium-") as profile:
        dt = DevTools(chromium, profile)
        try:
            target = dt.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = dt.send("Target.attachToTarget",
                              {"targetId": target, "flatten": True})["sessionId"]
            for method in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
                dt.send(method, session=session)
            dt.send("Emulation.setDeviceMetricsOverride",
                    {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                    session=session)
            # The report must be readable without JavaScript: the page is judged with it off.
            dt.send("Emulation.setScriptExecutionDisabled", {"value": not expect_errors},
                    session=session)
            url = "file://" + os.path.abspath(html_path)
            dt.send("Page.navigate", {"url": url}, session=session)
            dt.wait_event("Page.loadEventFired")
            time.sleep(0.5)  # late console messages and resource failures
            shot = dt.send("Page.captureScreenshot", {"format": "png"}, session=session)
            probe = dt.send("Runtime.evaluate", {"returnByValue": True, "expression": """
                (() => { const v = document.getElementById('verdict');
                  if (!v) return null;
                  const r = v.getBoundingClientRect();
                  return {status: v.dataset.status, text: v.innerText,
                          bg: getComputedStyle(v).backgroundColor,
                          left: r.left, top: r.top, width: r.width, height: r.height}; })()"""},
                            session=session)["result"].get("value")
            dt.send("Runtime.evaluate", {"expression": "1"}, session=session)  # flush events
            errors = page_errors(dt.events)
        finally:
            dt.close()
    if expect_errors:
        if not errors:
            fail("the browser check saw no error on a page that has some")
        print("ok: the browser check catches %d page errors: %s" % (len(errors), errors[:3]))
        return
    if errors:
        fail("page errors in %s: %s" % (html_path, errors))
    if not probe:
        fail("no element #verdict in the rendered page")
    if not probe["text"].strip().startswith("Verdict:"):
        fail("#verdict does not start with 'Verdict:': %r" % probe["text"][:80])
    if probe["top"] < 0 or probe["top"] + 40 > height or probe["width"] < 200:
        fail("#verdict is not on the first screen: %s" % probe)
    with open(png_path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    image = Image.open(png_path).convert("RGB")
    if image.size != (width, height):
        fail("screenshot is %s, wanted %dx%d" % (image.size, width, height))
    colours = image.getcolors(maxcolors=1 << 20)
    if colours is None or len(colours) < 50:
        fail("the screenshot is nearly blank (%s colours)" % (len(colours) if colours else "?"))
    want = tuple(int(c) for c in probe["bg"][probe["bg"].index("(") + 1:-1].split(",")[:3])
    x, y = int(probe["left"]) + 4, int(probe["top"]) + 4  # the verdict box's padding corner
    got = image.getpixel((x, y))
    if max(abs(a - b) for a, b in zip(got, want)) > 8:
        fail("the screenshot shows %s at the verdict (%d, %d), wanted the verdict colour %s"
             % (got, x, y, want))
    print("ok: %s renders without JavaScript, no page errors, verdict '%s' on screen (%s at "
          "(%d, %d)); screenshot %s" % (html_path, probe["status"], want, x, y, png_path))


def linked_traces(report):
    """(where, trace path relative to the report, names a core mutant) for every linked trace."""
    out = []
    for c in report.get("control", {}).get("controls", []):
        if c.get("trace"):
            out.append(("control " + c["name"], c["trace"], False))
    for i, v in enumerate(report.get("violations", [])):
        if v.get("trace"):
            out.append(("violation %d" % i, v["trace"], False))
    for row in report.get("mutants", {}).get("rows", []):
        for family, cell in row.items():
            if isinstance(cell, dict) and cell.get("trace") and cell.get("status") == "killed":
                core = family in ("explorer", "concurrency")
                out.append(("%s kill of %s" % (family, cell.get("mutant")), cell["trace"], core))
    return out


def trace_problem(tearproof, report_dir):
    """The first linked trace that is missing or does not reproduce, or None; and the count."""
    report = load(os.path.join(report_dir, "report.json"))
    links = linked_traces(report)
    if not links:
        return "the report links no trace", 0
    for where, rel, core in links:
        path = os.path.join(report_dir, rel)
        if not os.path.isfile(path):
            return "%s: linked trace %s does not exist" % (where, path), len(links)
        run = subprocess.run([tearproof, "replay", path], capture_output=True, text=True)
        if run.returncode != 1 or ": reproduced" not in run.stdout:
            return ("%s: `tearproof replay %s` exit %d, not reproduced:\n%s%s"
                    % (where, path, run.returncode, run.stdout[-2000:], run.stderr[-2000:]),
                    len(links))
        if core:
            real = subprocess.run([tearproof, "replay", path, "--mutant", "none", "--quiet"],
                                  capture_output=True, text=True)
            if real.returncode != 0:
                return ("%s: the real core fails %s (exit %d): %s"
                        % (where, path, real.returncode, real.stderr[-2000:]), len(links))
    return None, len(links)


def cmd_traces(tearproof, report_dir):
    problem, count = trace_problem(tearproof, report_dir)
    if problem:
        fail(problem)
    print("ok: all %d traces the report links exist and reproduce" % count)


def cmd_traces_rejects(tearproof, report_dir):
    links = [l for l in linked_traces(load(os.path.join(report_dir, "report.json"))) if l[2]]
    if len(links) < 2:
        fail("the report links fewer than two core-mutant traces")
    with tempfile.TemporaryDirectory() as tmp:
        # A mutant's trace rewritten to name no mutant: the real core passes it.
        copy_dir = os.path.join(tmp, "renamed")
        shutil.copytree(report_dir, copy_dir)
        path = os.path.join(copy_dir, links[0][1])
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        header = json.loads(lines[0])
        header["mutant"] = "none"
        lines[0] = json.dumps(header, separators=(",", ":"))
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        if trace_problem(tearproof, copy_dir)[0] is None:
            fail("a linked trace that no longer fails was accepted (%s)" % links[0][1])
        # A linked trace deleted.
        copy_dir = os.path.join(tmp, "deleted")
        shutil.copytree(report_dir, copy_dir)
        os.remove(os.path.join(copy_dir, links[1][1]))
        if trace_problem(tearproof, copy_dir)[0] is None:
            fail("a missing linked trace was accepted (%s)" % links[1][1])
    print("ok: a trace that passes and a missing trace are each caught")


def main(argv):
    if len(argv) >= 3 and argv[0] == "schema":
        cmd_schema(argv[1], argv[2])
    elif len(argv) >= 3 and argv[0] == "schema-rejects":
        cmd_schema_rejects(argv[1], argv[2])
    elif len(argv) >= 3 and argv[0] == "markdown":
        cmd_markdown(argv[1], argv[2])
    elif len(argv) >= 3 and argv[0] == "same-results":
        cmd_same_results(argv[1], argv[2])
    elif len(argv) >= 3 and argv[0] == "traces":
        cmd_traces(argv[1], argv[2])
    elif len(argv) >= 3 and argv[0] == "traces-rejects":
        cmd_traces_rejects(argv[1], argv[2])
    elif len(argv) >= 3 and argv[0] == "browser":
        cmd_browser(argv[1], argv[2], "--expect-errors" in argv[3:])
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
