"""Accessibility checks shared by the browser tests: axe-core (WCAG 2.1 AA, run offline —
axe-playwright-python ships it) and a scan for focusable controls nobody can see."""

from axe_playwright_python.sync_playwright import Axe

WCAG_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}

# Keyboard-reachable elements (tabIndex >= 0, enabled, rendered) that cannot be seen: inside
# aria-hidden, or too small, clipped, transparent or off the page even when focused (a skip
# link that shows on focus is fine), unless a visible label shows their focus (a checkbox or
# radio styled through its label, as Bootstrap's .btn-check).
_FOCUSABLE_HIDDEN = """() => {
  const candidates = document.querySelectorAll(
    "a[href], area[href], button, input, select, textarea, iframe, summary, [tabindex], [contenteditable]");
  const big = (element) => {
    const box = element.getBoundingClientRect();
    return box.width > 2 && box.height > 2;
  };
  const unseen = (element) => {
    const style = getComputedStyle(element), box = element.getBoundingClientRect();
    return !big(element) ? "too small to see"
      : style.clip === "rect(0px, 0px, 0px, 0px)" || style.clipPath === "inset(50%)" ? "clipped"
      : parseFloat(style.opacity) === 0 ? "transparent"
      : box.right + window.scrollX < 0 || box.bottom + window.scrollY < 0 ? "off the page"
      : "";
  };
  const focused = document.activeElement;
  const found = [];
  for (const element of candidates) {
    if (element.tabIndex < 0 || element.disabled || element.type === "hidden") continue;
    if (element.closest("[inert]") || !element.getClientRects().length) continue;
    if (getComputedStyle(element).visibility === "hidden") continue;
    let why = element.closest("[aria-hidden=true]") ? "inside aria-hidden" : unseen(element);
    if (why && why !== "inside aria-hidden") {
      if (["checkbox", "radio"].includes(element.type) && [...element.labels].some(big)) continue;
      element.focus({preventScroll: true});
      why = unseen(element);
    }
    if (why) found.push(element.outerHTML.slice(0, 120) + " (" + why + ")");
  }
  if (focused && focused.focus) focused.focus({preventScroll: true});
  return found;
}"""


# Resolves when the page's finite animations and transitions have ended (at most 1 s).
_SETTLED = """() => Promise.race([
  Promise.all(document.getAnimations()
    .filter((animation) => animation.effect && animation.effect.getTiming().iterations !== Infinity)
    .map((animation) => animation.finished.catch(() => null))),
  new Promise((resolve) => setTimeout(resolve, 1000)),
])"""


def at_rest(page) -> None:
    """Colours as the page shows them at rest: the pointer off every control and no
    transition half-way (a hover fading in, htmx settling content it swapped in after
    20 ms), which axe would otherwise measure mid-way."""
    page.mouse.move(0, 0)
    page.wait_for_timeout(50)
    page.evaluate(_SETTLED)


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical WCAG 2.1 AA violations on the page at rest, one
    line each with the first three offending elements."""
    at_rest(page)
    results = Axe().run(page, options=WCAG_AA)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + "; ".join(
            " ".join(node["target"]) + " " + node.get("failureSummary", "")[-90:]
            for node in violation["nodes"][:3]
        )
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


def focusable_hidden_controls(page) -> list[str]:
    """Controls the keyboard reaches but the eye cannot see (or a screen reader is told to skip)."""
    return page.evaluate(_FOCUSABLE_HIDDEN)
