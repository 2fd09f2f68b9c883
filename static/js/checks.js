// The "Check this now" widgets: failures said inside the step, and focus kept where the person was.
// Works with htmx's events only; without JavaScript the widgets are plain forms and none of this runs.
(function () {
  "use strict";

  var WIDGET = ".check, #diagnosis-summary";
  // The widget whose button or fix was pressed: after its swaps, focus goes back into it.
  var focusWidgetId = null;

  function widgetOf(elt) {
    if (!elt || !elt.closest) return null;
    var widget = elt.closest(WIDGET);
    if (widget) return widget;
    // "Check every step" sits in the inputs form; its answer goes to the summary.
    return elt.closest("#check-inputs") ? document.getElementById("diagnosis-summary") : null;
  }

  function sayCouldNotReach(event) {
    var detail = event.detail || {};
    var widget = widgetOf(detail.target) || widgetOf(detail.elt);
    if (!widget) return;
    var note = widget.querySelector(".check__failure");
    if (!note) {
      note = document.createElement("p");
      note.className = "check__failure";
      note.setAttribute("role", "alert");
      widget.appendChild(note);
    }
    note.textContent = "Couldn't reach the help center. ";
    var retry = document.createElement("button");
    retry.type = "button";
    retry.className = "button";
    retry.textContent = "Try again";
    retry.addEventListener("click", function () {
      note.remove();
      var elt = detail.elt;
      var config = detail.requestConfig || {};
      if (elt && (elt.tagName === "BUTTON" || elt.tagName === "FORM") && document.body.contains(elt)) {
        if (elt.tagName === "FORM") elt.requestSubmit(); else elt.click();
      } else if (config.path) {
        htmx.ajax("GET", config.path, { target: widget, swap: "outerHTML" });
      }
    });
    note.appendChild(retry);
    retry.focus();
  }

  document.addEventListener("htmx:responseError", sayCouldNotReach);
  document.addEventListener("htmx:sendError", sayCouldNotReach);
  document.addEventListener("htmx:timeout", sayCouldNotReach);

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    var widget = elt && elt.closest ? elt.closest(".check") : null;
    if (widget && event.detail.requestConfig && event.detail.requestConfig.verb !== "get") {
      focusWidgetId = widget.id;
    }
  });

  function restoreFocus() {
    if (!focusWidgetId) return;
    var widget = document.getElementById(focusWidgetId);
    if (!widget) return;
    var active = document.activeElement;
    // htmx gives the focus back to the pressed button when the answer has one with the same id (a
    // check that ended at once): that is still this widget. Focus anywhere else: the person moved on.
    if (active && active !== document.body && document.body.contains(active) && !widget.contains(active)) return;
    var target = widget.querySelector(".check__result") ||
      widget.querySelector(".check__button:not([disabled])") ||
      widget.querySelector(".check__running");
    if (!target) return;
    if (!target.matches("button")) target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: true });
    if (widget.getAttribute("data-check-status") !== "running") focusWidgetId = null;
  }

  // A swap that replaces the step holding the focus (the summary's look sending again a step whose
  // own look already showed its result) gives the focus back to that step, not to the page.
  function keepFocusInSwappedStep(event) {
    var target = event.detail && event.detail.target;
    var active = document.activeElement;
    if (!target || !active || active === document.body || !target.contains(active)) return;
    var widget = active.closest(".check");
    if (widget && widget.id) focusWidgetId = widget.id;
  }

  document.addEventListener("htmx:beforeSwap", keepFocusInSwappedStep);
  document.addEventListener("htmx:oobBeforeSwap", keepFocusInSwappedStep);
  document.addEventListener("htmx:afterSettle", restoreFocus);
  document.addEventListener("htmx:oobAfterSwap", function () { setTimeout(restoreFocus, 0); });

  // Every Unicode decimal digit as its ASCII digit, as the server cleans an order number
  // (apps.commerce.order_inputs.clean_order_number). Unicode encodes each script's digits as one
  // run 0-9, so a digit's value is its distance from the start of its run, modulo 10.
  function foldDigits(text) {
    return text.replace(/\p{Nd}/gu, function (digit) {
      var code = digit.codePointAt(0);
      var start = code;
      while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
      return String((code - start) % 10);
    });
  }

  // Results belong to their inputs: changing the plugin or the order dims what was said about another.
  function markStale() {
    var form = document.getElementById("check-inputs");
    if (!form) return;
    var subject = form.elements.subject ? form.elements.subject.value : "";
    var typed = form.querySelector("[data-reference-input]");
    var number = typed ? typed.value.trim().replace(/^[#＃]/, "") : "";
    document.querySelectorAll("[data-result-subject]").forEach(function (result) {
      var same = result.getAttribute("data-result-subject") === subject &&
        result.getAttribute("data-result-reference") === foldDigits(number.normalize("NFKC"));
      result.classList.toggle("is-stale", !same);
      var note = result.querySelector(".check__stale");
      if (note) note.hidden = same;
    });
  }
  document.addEventListener("input", function (event) {
    if (event.target.closest && event.target.closest("#check-inputs")) markStale();
  });
  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest("#check-inputs")) markStale();
  });
  document.addEventListener("htmx:afterSettle", markStale);
})();
