// Site-wide behaviour, kept out of the HTML (no inline script).
(function () {
  "use strict";
  // Cards of running jobs poll for their state; a hidden tab has nobody to show it to.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (document.hidden && event.detail.elt.matches("[data-poll]")) event.preventDefault();
  });
})();
