// The sequence board: drag a shot to a new place, or move the focused shot with Alt+Arrow.
// Each move is one POST to the shot's move URL (htmx.ajax), answered with the board redrawn,
// so the order on screen is always the server's. Without script the ↑ ↓ buttons do it.
(function () {
  "use strict";
  var dragged = null;

  function move(shot, values) {
    var board = shot.closest("[data-board]");
    var id = shot.id;
    htmx.ajax("POST", shot.dataset.moveUrl, { target: "#board", swap: "outerHTML", values: values })
      .then(function () {
        var again = document.getElementById(id);  // keep the keyboard where it was
        if (again && board) again.focus();
      });
  }

  function shotOf(node) {
    return node && node.closest ? node.closest("[data-board] [data-shot]") : null;
  }

  document.addEventListener("dragstart", function (event) {
    dragged = shotOf(event.target);
    if (!dragged) return;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.id);
    dragged.classList.add("dragging");
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    document.querySelectorAll(".drop-target").forEach(function (n) { n.classList.remove("drop-target"); });
  });
  document.addEventListener("dragover", function (event) {
    var over = shotOf(event.target);
    if (!dragged || !over || over === dragged) return;
    event.preventDefault();  // allows the drop
    document.querySelectorAll(".drop-target").forEach(function (n) { n.classList.remove("drop-target"); });
    over.classList.add("drop-target");
  });
  document.addEventListener("drop", function (event) {
    var over = shotOf(event.target);
    if (!dragged || !over || over === dragged) return;
    event.preventDefault();
    var shots = Array.prototype.slice.call(over.parentNode.querySelectorAll("[data-shot]"));
    // Positions are 1-based on the wire: the dragged shot takes the place of the one it is dropped on.
    move(dragged, { to: shots.indexOf(over) + 1 });
  });
  document.addEventListener("keydown", function (event) {
    var shot = shotOf(event.target);
    if (!shot || event.target !== shot || !event.altKey) return;
    if (event.key === "ArrowUp" || event.key === "ArrowLeft") move(shot, { step: -1 });
    else if (event.key === "ArrowDown" || event.key === "ArrowRight") move(shot, { step: 1 });
    else return;
    event.preventDefault();
  });

  // A shot added (htmx redraws the board beside the form) empties the form for the next one:
  // left filled, it read as not added and a second press added it twice. A refused one keeps
  // what was typed.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    // The status, not htmx's `successful`: the page's htmx-config counts a refusal (422) as
    // a success to swap it.
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (!form.matches || !form.matches("form[data-add-shot]") || status < 200 || status > 299) {
      return;
    }
    form.reset();
    var title = form.querySelector("input[name=title]");
    if (title) title.focus();
  });
})();
