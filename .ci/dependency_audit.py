"""``make lint``'s dependency check: pip-audit on the installed environment.

Fails on any known vulnerability. When pip-audit cannot reach its vulnerability
service (no network, or a PyPI mirror that does not serve the per-version advisory
data, so *no* package could be audited), it prints a clear warning and does not fail:
that is the only case let through, and it is detected explicitly.
"""

import json
import subprocess  # noqa: S404 - runs pip-audit with fixed arguments
import sys

NETWORK_ERRORS = (
    "ConnectionError",
    "Max retries exceeded",
    "Name or service not known",
    "Temporary failure in name resolution",
    "timed out",
    "Network is unreachable",
)


def warn(message: str) -> None:
    print(f"WARNING: dependency audit skipped: {message}", file=sys.stderr)


def main() -> int:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pip_audit", "--format", "json", "--progress-spinner", "off"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        if any(marker in result.stderr for marker in NETWORK_ERRORS):
            warn("pip-audit could not reach its vulnerability service (network error).")
            print(result.stderr.strip().splitlines()[-1], file=sys.stderr)
            return 0
        print(result.stdout + result.stderr, file=sys.stderr)
        return result.returncode or 1
    dependencies = report.get("dependencies", [])
    vulnerable = [dep for dep in dependencies if dep.get("vulns")]
    audited = [dep for dep in dependencies if "skip_reason" not in dep]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            print(
                f"VULNERABLE: {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})",
                file=sys.stderr,
            )
    if vulnerable:
        return 1
    if dependencies and not audited:
        warn(
            f"pip-audit's vulnerability service answered for none of the {len(dependencies)} installed "
            f"packages ({dependencies[0]['skip_reason']}); they were NOT checked. Run `make lint` where "
            "pypi.org's JSON API is reachable."
        )
        return 0
    skipped = [dep["name"] for dep in dependencies if "skip_reason" in dep]
    print(
        f"pip-audit: {len(audited)} packages audited, no known vulnerabilities"
        + (f" ({len(skipped)} not on PyPI, not audited: {', '.join(skipped)})" if skipped else "")
        + "."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
