// Writing guidelines beside the composer: a hashtag set's button adds its hashtags to the
// text last written in (or the first text shown), and says so aloud. No inline script (CSP).
(() => {
  "use strict";

  const format = (template, values) =>
    (template || "").replace(/%\((\w+)\)s/g, (_match, key) => String(values[key] ?? ""));

  let lastText = null;

  function isText(el) {
    return el && el.tagName === "TEXTAREA" && el.closest("fieldset.variant");
  }

  function currentText() {
    if (lastText && document.body.contains(lastText) && !lastText.closest("[hidden]")) return lastText;
    return Array.from(document.querySelectorAll("fieldset.variant textarea")).find(
      (el) => !el.closest("[hidden]")
    ) || null;
  }

  function targetName(textarea) {
    const fieldset = textarea.closest("fieldset.variant");
    const legend = fieldset ? fieldset.querySelector("legend") : null;
    return legend ? legend.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function hasTag(text, tag) {
    const escaped = tag.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return new RegExp("(^|[^\\p{L}\\p{N}_#])" + escaped + "(?![\\p{L}\\p{N}_])", "iu").test(text);
  }

  function insert(button) {
    const panel = button.closest("[data-guidelines]");
    const status = panel.querySelector("[data-hashtag-status]");
    const textarea = currentText();
    if (!textarea) {
      status.textContent = panel.dataset.msgNoText;
      return;
    }
    const tags = button.dataset.hashtags.split(/\s+/).filter((tag) => tag && !hasTag(textarea.value, tag));
    if (tags.length) {
      const value = textarea.value.replace(/\s+$/, "");
      textarea.value = value + (value ? " " : "") + tags.join(" ");
      // The live count and checks follow the text (htmx listens for input).
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
    status.textContent = format(panel.dataset.msgAdded, {
      tags: button.dataset.hashtags,
      target: targetName(textarea),
    });
  }

  function showButtons() {
    document.querySelectorAll("[data-guidelines] [data-js-shown]").forEach((el) => { el.hidden = false; });
  }

  document.addEventListener("focusin", (event) => {
    if (isText(event.target)) lastText = event.target;
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("[data-hashtags]");
    if (button) insert(button);
  });
  // The side column is redrawn when accounts, languages or images change.
  document.addEventListener("htmx:afterSettle", showButtons);
  document.addEventListener("DOMContentLoaded", showButtons);
})();
