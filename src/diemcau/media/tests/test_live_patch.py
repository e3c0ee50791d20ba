"""The live pages patch their lists instead of rebuilding them (DiemcauLive.patch): a console
gets a new state every second or two while lines report telemetry, and a button rebuilt
between press and release loses the host's click. Run in Debian's Chromium on the operator's
duty panel, the lightest page that loads the live scripts."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from diemcau.core.roles import Role
from diemcau.testing.browser import CHROMIUM, CHROMIUM_ARGS, sign_in
from diemcau.testing.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="Debian's chromium (/usr/bin/chromium) is not installed"),
]

# Two rows, each with a text that changes and a button with its handler; the handler records
# which row it acted for, as the console's do.
SCRIPT = """
() => {
  const L = window.DiemcauLive;
  const clicks = [];
  const row = (id, text, action) => L.el("li", { "data-participation": String(id) }, [
    L.el("span", { class: "facts", text: text }),
    L.el("button", { type: "button", "data-do": action,
                     onclick: () => clicks.push(action + ":" + id) }, [action]),
  ]);
  const list = document.createElement("ul");
  document.body.appendChild(list);
  L.patch(list, [row(1, "20 ms", "give_floor"), row(2, "30 ms", "give_floor")]);
  const first = list.children[0], firstButton = first.querySelector("button");
  const second = list.children[1], secondButton = second.querySelector("button");

  // A telemetry state: new figures, the same controls.
  L.patch(list, [row(1, "25 ms", "give_floor"), row(2, "31 ms", "give_floor")]);
  const telemetry = {
    rowsKept: list.children[0] === first && list.children[1] === second,
    buttonsKept: first.querySelector("button") === firstButton
      && second.querySelector("button") === secondButton,
    texts: Array.from(list.querySelectorAll(".facts")).map(n => n.textContent),
  };
  firstButton.click();

  // Row 1 got the floor: its control is another one, with its own handler.
  L.patch(list, [row(1, "25 ms", "mute"), row(2, "31 ms", "give_floor")]);
  const changed = {
    rowKept: list.children[0] === first,
    buttonReplaced: first.querySelector("button") !== firstButton,
    action: first.querySelector("button").getAttribute("data-do"),
  };
  first.querySelector("button").click();

  // Row 1 left and a third came: row 2 keeps its element and its handler acts for row 2.
  L.patch(list, [row(2, "31 ms", "give_floor"), row(3, "40 ms", "give_floor")]);
  const moved = {
    ids: Array.from(list.children).map(n => n.getAttribute("data-participation")),
    secondKept: list.children[0] === second && second.querySelector("button") === secondButton,
    firstGone: !first.isConnected,
  };
  list.children[0].querySelector("button").click();
  list.children[1].querySelector("button").click();

  // Empty: the placeholder row, then rows again.
  L.patch(list, [L.el("li", { class: "empty", text: "none" })]);
  const empty = list.children.length === 1 && list.children[0].className === "empty";
  return { telemetry, changed, moved, empty, clicks };
}
"""


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch, live_server: Any, kh_tree: Any) -> Any:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    UserFactory(role=Role.OPERATOR, agency=kh_tree.department, username="truc.ca")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            sign_in(page, live_server.url, "truc.ca")
            page.goto(f"{live_server.url}/live/")
            page.wait_for_selector("#meetings")
            yield page
        finally:
            browser.close()


def test_a_new_state_keeps_the_rows_and_the_buttons_under_the_pointer(page: Any) -> None:
    result = page.evaluate(SCRIPT)
    assert result["telemetry"] == {"rowsKept": True, "buttonsKept": True,
                                   "texts": ["25 ms", "31 ms"]}
    assert result["changed"] == {"rowKept": True, "buttonReplaced": True, "action": "mute"}
    assert result["moved"] == {"ids": ["2", "3"], "secondKept": True, "firstGone": True}
    assert result["empty"] is True
    # Every click acted for the row it was shown in, with the control it showed.
    assert result["clicks"] == ["give_floor:1", "mute:1", "give_floor:2", "give_floor:3"]
