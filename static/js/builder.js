// The prompt builder's small helpers: insert a helpful term into its element, and offer
// library entries when "@" is typed. No inline script: this file is loaded with defer.
(function () {
  "use strict";

  function insertAtCaret(textarea, text) {
    const start = textarea.selectionStart ?? textarea.value.length;
    const end = textarea.selectionEnd ?? textarea.value.length;
    const before = textarea.value.slice(0, start);
    const spacer = before && !/\s$/.test(before) ? " " : "";
    textarea.value = before + spacer + text + textarea.value.slice(end);
    const caret = (before + spacer + text).length;
    textarea.setSelectionRange(caret, caret);
    textarea.focus();
    // Let htmx recompose the preview, as if the person had typed it.
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    const chip = event.target.closest("button.chip[data-insert]");
    if (!chip) return;
    const target = document.getElementById(chip.dataset.target);
    if (target) insertAtCaret(target, chip.dataset.insert.toLowerCase());
  });

  const form = document.getElementById("prompt-form");
  if (!form || !form.dataset.libraryUrl) return;
  const menu = document.createElement("ul");
  menu.className = "mention-menu";
  menu.setAttribute("role", "listbox");
  menu.hidden = true;
  document.body.appendChild(menu);
  let active = null;

  function closeMenu() {
    menu.hidden = true;
    menu.replaceChildren();
  }

  function pick(name) {
    if (!active) return;
    const caret = active.selectionStart;
    const before = active.value.slice(0, caret).replace(/@[\w-]*$/, "@" + name + " ");
    active.value = before + active.value.slice(caret);
    active.setSelectionRange(before.length, before.length);
    active.dispatchEvent(new Event("input", { bubbles: true }));
    closeMenu();
    active.focus();
  }

  form.addEventListener("input", async function (event) {
    const textarea = event.target;
    if (!textarea.classList || !textarea.classList.contains("element")) return;
    const match = textarea.value.slice(0, textarea.selectionStart).match(/@([\w-]*)$/);
    if (!match) return closeMenu();
    active = textarea;
    const url = form.dataset.libraryUrl + "?q=" + encodeURIComponent(match[1]);
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) return closeMenu();
    const { entries } = await response.json();
    if (!entries.length) return closeMenu();
    menu.replaceChildren(
      ...entries.map(function (entry) {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = "@" + entry.name + " (" + entry.kind + ")";
        button.title = entry.description;
        button.addEventListener("click", function () { pick(entry.name); });
        item.appendChild(button);
        return item;
      })
    );
    const box = textarea.getBoundingClientRect();
    menu.style.top = window.scrollY + box.bottom + "px";
    menu.style.left = window.scrollX + box.left + "px";
    menu.hidden = false;
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeMenu();
  });
})();
