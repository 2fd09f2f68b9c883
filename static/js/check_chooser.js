// Wagtail's page editor: steps that share a check say so at once, each naming the other step.
// Saving refuses it too (ArticleBodyBlock.clean, with the same sentence); this only tells the editor sooner.
// Each chooser shows the checks of the page's check set only (and the chosen one, whatever its set:
// saving refuses a check of another set, and the editor must see what to change).
(() => {
  "use strict";

  const visible = (chooser) => !chooser.closest('[aria-hidden="true"]'); // deleted blocks stay, hidden

  const showSetOnly = () => {
    const field = document.querySelector('[name="check_set"]');
    const set = field ? field.value : "";
    document.querySelectorAll(".check-chooser__card[data-check-sets]").forEach((card) => {
      const chosen = card.querySelector(".check-chooser__radio:checked");
      const hide = Boolean(set) && !chosen && !card.dataset.checkSets.split(" ").includes(set);
      if (card.hidden !== hide) card.hidden = hide;
    });
  };

  const update = () => {
    showSetOnly();
    const choosers = Array.from(document.querySelectorAll(".check-chooser")).filter(visible);
    const chosen = choosers.map((chooser) => chooser.querySelector(".check-chooser__radio:checked"));
    const stepsOf = new Map(); // check key: step numbers (every step block has one chooser, in order)
    chosen.forEach((radio, index) => {
      if (radio && radio.value) stepsOf.set(radio.value, [...(stepsOf.get(radio.value) || []), index + 1]);
    });
    choosers.forEach((chooser, index) => {
      const warning = chooser.querySelector(".check-chooser__twice");
      if (!warning) return;
      const radio = chosen[index];
      const other = radio && radio.value ? (stepsOf.get(radio.value) || []).find((n) => n !== index + 1) : undefined;
      let message = "";
      if (other !== undefined) {
        const label = chooser.querySelector(`label[for="${CSS.escape(radio.id)}"]`);
        message = (chooser.dataset.onTwoSteps || "")
          .replace("{title}", label ? label.textContent.trim() : radio.value)
          .replace("{step}", String(other));
      }
      if (warning.textContent !== message) warning.textContent = message;
      warning.hidden = !message;
    });
  };

  let queued = false;
  const later = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      update();
    });
  };

  document.addEventListener("change", (event) => {
    if (event.target.matches && event.target.matches('.check-chooser__radio, [name="check_set"]')) later();
  });
  const start = () => {
    update();
    // Steps added, moved or deleted change the numbers and the pairs.
    new MutationObserver(later).observe(document.body, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ["aria-hidden"],
    });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
