// Behaviour the templates would otherwise need inline script (or htmx's eval) for;
// the Content-Security-Policy allows scripts from this site only.
(function () {
  "use strict";

  // Polls ("load delay:…, visibilitychange from:document") wait while the tab
  // is hidden and resume when it is shown again.
  document.addEventListener("htmx:confirm", function (event) {
    var trigger = event.detail.elt.getAttribute("hx-trigger") || "";
    if (document.hidden && trigger.indexOf("visibilitychange") !== -1) {
      event.preventDefault();
    }
  });

  // A form marked data-marks-edited remembers that the reader typed in it.
  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-marks-edited") && form.elements.edited) {
      form.elements.edited.value = "1";
    }
  });
})();
