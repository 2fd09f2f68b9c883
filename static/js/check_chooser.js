// Wagtail's page editor: each step block's header carries its number ("Step 3"), as readers will see it,
// and steps that share a check say so at once, each naming the other step.
// Saving refuses that too (ArticleBodyBlock.clean, with the same sentence); this only tells the editor sooner.
(() => {
  "use strict";

  const visible = (chooser) => !chooser.closest('[aria-hidden="true"]'); // deleted blocks stay, hidden

  // The warnings name steps by number, and so do the preview and the published page; the editor's blocks say
  // only "Step" unless numbered here. Only step blocks have a chooser, so the n-th chooser is Step n.
  const number = (choosers) => {
    choosers.forEach((chooser, index) => {
      const block = chooser.closest("[data-streamfield-child]");
      const type = block && block.querySelector(".c-sf-block__type");
      if (!type) return;
      if (!type.dataset.blockLabel) type.dataset.blockLabel = type.textContent.trim();
      const label = `${type.dataset.blockLabel} ${index + 1}`;
      if (type.textContent !== label) type.textContent = label;
    });
  };

  // The article's check set decides which checks its steps may carry: the others' cards are hidden (the chosen
  // one stays shown, so a check of another set can be seen and changed; saving refuses it, naming the step).
  const offer = (choosers) => {
    const set = document.querySelector('select[name="check_set"]');
    choosers.forEach((chooser) => {
      chooser.querySelectorAll(".check-chooser__card[data-check-sets]").forEach((card) => {
        const radio = card.querySelector(".check-chooser__radio");
        const listed = !set || card.dataset.checkSets.split(" ").includes(set.value);
        const hidden = !listed && !(radio && radio.checked);
        if (card.hidden !== hidden) card.hidden = hidden;
      });
    });
  };

  const update = () => {
    const choosers = Array.from(document.querySelectorAll(".check-chooser")).filter(visible);
    number(choosers);
    offer(choosers);
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
    if (event.target.matches && event.target.matches('.check-chooser__radio, select[name="check_set"]')) later();
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
