// One-key labelling: c correct, x incorrect, 1-5 score, f failure category, n notes, s skip, Esc leaves a field.
// The form is swapped by htmx after each label, so elements are looked up on every key press.
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" && target.type !== "radio" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  // htmx wires swapped-in elements when the swap settles, a moment after they appear; a key pressed in
  // between would submit the plain way (a full page load). Wiring them first is harmless when already done.
  function wired(element) {
    if (element && window.htmx) window.htmx.process(element);
    return element;
  }

  function submitWith(key) {
    var form = wired(document.getElementById("label-form"));
    if (!form) return;
    var button = form.querySelector('button[data-key="' + key + '"]');
    // A real click, so htmx sends the button's name and value (correct=true|false) with the form.
    if (button && !button.disabled) button.click();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var form = document.getElementById("label-form");
    if (event.key === "Escape") {
      if (typing(event.target)) event.target.blur();
      return;
    }
    if (typing(event.target)) return;
    var key = event.key.toLowerCase();
    if (key === "c" || key === "x") {
      event.preventDefault();
      submitWith(key);
    } else if (form && key >= "1" && key <= "5") {
      var radio = form.querySelector('input[name="score"][value="' + key + '"]');
      if (radio) { radio.checked = true; event.preventDefault(); }
    } else if (form && key === "f") {
      var select = document.getElementById("label-category");
      if (select) { event.preventDefault(); select.focus(); }
    } else if (form && key === "n") {
      var notes = document.getElementById("label-notes");
      if (notes) { event.preventDefault(); notes.focus(); }
    } else if (key === "s") {
      var skip = wired(document.getElementById("skip-link"));
      if (skip) { event.preventDefault(); skip.click(); }
    }
  });
})();
