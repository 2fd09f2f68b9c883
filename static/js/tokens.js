// The token page's Copy button: shown only where a script may copy; selecting the text works without it.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy-from]").forEach(function (button) {
      var field = document.getElementById(button.getAttribute("data-copy-from"));
      if (!field || !navigator.clipboard) {
        return;
      }
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(field.value).then(function () {
          button.textContent = button.getAttribute("data-copied-text") || "Copied";
        }, function () {
          field.focus();
          field.select();
        });
      });
    });
    // Clicking the token selects all of it, ready to copy.
    document.querySelectorAll(".token-new__value").forEach(function (field) {
      field.addEventListener("focus", function () { field.select(); });
    });
  });
})();
