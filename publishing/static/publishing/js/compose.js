// The composer: images by drag and drop or the file button (uploaded at once, progress
// said aloud), accounts and languages switched in place without losing a word, and the
// error summary's links that take the focus to the field to fix. No inline script (CSP).
(() => {
  "use strict";

  const format = (template, values) =>
    (template || "").replace(/%\((\w+)\)s/g, (_match, key) => String(values[key] ?? ""));

  function csrfToken(form) {
    const input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function chosenLanguages(form) {
    return Array.from(form.querySelectorAll("input[name=languages]:checked")).map((i) => i.value);
  }

  function imagesChanged() {
    document.body.dispatchEvent(new CustomEvent("images-changed", { bubbles: true }));
  }

  function setUpImages(section) {
    const form = section.closest("form");
    const status = section.querySelector("[data-upload-status]");
    const errors = section.querySelector("[data-upload-errors]");
    const input = section.querySelector("input[type=file]");
    const zone = section.querySelector("[data-drop-zone]");
    const list = () => document.getElementById("compose-images-list");
    const say = (message) => { status.textContent = message; };
    section.querySelectorAll("[data-js-shown]").forEach((el) => { el.hidden = false; });

    function showError(html) {
      errors.insertAdjacentHTML("beforeend", html);
      input.setAttribute("aria-invalid", "true");
    }

    function upload(file) {
      const name = file.name;
      if (file.type && !file.type.startsWith("image/")) {
        const li = document.createElement("li");
        li.textContent = format(section.dataset.msgNotImage, { name });
        const ul = document.createElement("ul");
        ul.className = "errorlist";
        ul.appendChild(li);
        errors.appendChild(ul);
        say(li.textContent);
        return;
      }
      const data = new FormData();
      data.append("file", file);
      chosenLanguages(form).forEach((code) => data.append("languages", code));
      const request = new XMLHttpRequest();
      request.open("POST", section.dataset.uploadUrl);
      request.setRequestHeader("X-CSRFToken", csrfToken(form));
      request.setRequestHeader("HX-Request", "true");
      let said = -1;
      request.upload.addEventListener("progress", (event) => {
        if (!event.lengthComputable) return;
        const percent = Math.floor((event.loaded / event.total) * 100);
        // Every quarter is enough for a screen reader; more would drown other speech.
        if (percent - said >= 25 || percent === 100) {
          said = percent;
          say(format(section.dataset.msgUploading, { name, percent }));
        }
      });
      request.addEventListener("load", () => {
        if (request.status === 201) {
          const holder = document.createElement("ul");
          holder.innerHTML = request.responseText;
          const row = holder.querySelector("li");
          if (row) {
            list().appendChild(row);
            if (window.htmx) window.htmx.process(row);
          }
          say(format(section.dataset.msgAdded, { name }));
          imagesChanged();
        } else if (request.status === 400) {
          showError(request.responseText);
          say(format(section.dataset.msgFailed, { name }) + " " + errors.lastElementChild.textContent);
        } else {
          say(format(section.dataset.msgFailed, { name }));
        }
      });
      request.addEventListener("error", () => say(section.dataset.msgOffline));
      request.send(data);
    }

    function uploadAll(files) {
      errors.textContent = "";
      input.removeAttribute("aria-invalid");
      Array.from(files).forEach(upload);
    }

    input.addEventListener("change", () => {
      uploadAll(input.files);
      input.value = ""; // uploaded already: the form must not send them again
    });
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("is-dragover");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("is-dragover"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("is-dragover");
      if (event.dataTransfer && event.dataTransfer.files.length) uploadAll(event.dataTransfer.files);
    });

    section.addEventListener("click", (event) => {
      const button = event.target.closest("[data-remove-image]");
      if (!button) return;
      const row = button.closest("[data-image]");
      const name = row.dataset.imageName;
      row.remove();
      say(format(section.dataset.msgRemoved, { name }));
      input.focus();
      imagesChanged();
    });

    // An image already on the list is not added twice from the library.
    document.body.addEventListener("htmx:beforeRequest", (event) => {
      const pick = event.detail.elt.closest && event.detail.elt.closest("[data-library-pick]");
      if (pick && document.getElementById("image-" + pick.dataset.libraryPick)) {
        event.preventDefault();
      }
    });
  }

  // Text typed for a version that was switched off comes back when it is switched on again.
  const parked = new Map();
  function fieldValues(root) {
    const values = new Map();
    if (!root) return values;
    root.querySelectorAll("textarea[name], input[type=text][name]").forEach((el) => {
      values.set(el.name, el.value);
    });
    return values;
  }
  let before = new Map();
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "compose-editors") {
      before = fieldValues(document.getElementById("compose-editors"));
      const images = document.getElementById("compose-images-list");
      fieldValues(images).forEach((value, name) => before.set(name, value));
    }
  });
  document.addEventListener("htmx:afterSettle", (event) => {
    if (!event.detail.target || event.detail.target.id !== "compose-editors") return;
    const after = new Map();
    ["compose-editors", "compose-images-list"].forEach((id) => {
      const root = document.getElementById(id);
      if (!root) return;
      root.querySelectorAll("textarea[name], input[type=text][name]").forEach((el) => after.set(el.name, el));
    });
    before.forEach((value, name) => {
      if (!after.has(name) && value) parked.set(name, value);
    });
    // The server can only guess the text of a version switched on again (the same
    // language's text elsewhere); what the person typed for it wins.
    after.forEach((el, name) => {
      if (parked.has(name)) {
        el.value = parked.get(name);
        parked.delete(name);
        el.dispatchEvent(new Event("input", { bubbles: true }));
      }
    });
  });

  // With several accounts, their texts are tabs (WAI-ARIA tabs pattern), so the composer
  // fits one screen; without JavaScript every account's texts show one below the other.
  let chosenAccount = "";
  let knownAccounts = [];
  function selectAccount(tablist, account, focus) {
    tablist.querySelectorAll("[role=tab]").forEach((tab) => {
      const on = tab.dataset.account === account;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      const panel = document.getElementById(tab.getAttribute("aria-controls"));
      if (panel) panel.hidden = !on;
      if (on && focus) tab.focus();
    });
    chosenAccount = account;
  }
  function setUpTabs() {
    const tablist = document.querySelector("[data-account-tabs]");
    const accounts = tablist
      ? Array.from(tablist.querySelectorAll("[role=tab]")).map((tab) => tab.dataset.account)
      : [];
    const added = accounts.filter((account) => !knownAccounts.includes(account));
    knownAccounts = accounts;
    if (!tablist) return;
    tablist.hidden = false;
    tablist.querySelectorAll("[role=tab]").forEach((tab) => {
      const panel = document.getElementById(tab.getAttribute("aria-controls"));
      if (panel) {
        panel.setAttribute("role", "tabpanel");
        panel.setAttribute("aria-labelledby", tab.id);
        panel.tabIndex = -1;
      }
    });
    let account = accounts.includes(chosenAccount) ? chosenAccount : accounts[0];
    if (added.length === 1 && accounts.length > 1 && chosenAccount) account = added[0];
    selectAccount(tablist, account, false);
    tablist.addEventListener("click", (event) => {
      const tab = event.target.closest("[role=tab]");
      if (tab) selectAccount(tablist, tab.dataset.account, true);
    });
    tablist.addEventListener("keydown", (event) => {
      const tabs = Array.from(tablist.querySelectorAll("[role=tab]"));
      const index = tabs.findIndex((tab) => tab.dataset.account === chosenAccount);
      let next = -1;
      if (event.key === "ArrowRight") next = (index + 1) % tabs.length;
      else if (event.key === "ArrowLeft") next = (index - 1 + tabs.length) % tabs.length;
      else if (event.key === "Home") next = 0;
      else if (event.key === "End") next = tabs.length - 1;
      if (next < 0) return;
      event.preventDefault();
      selectAccount(tablist, tabs[next].dataset.account, true);
    });
  }
  function revealPanelOf(element) {
    const panel = element.closest("[data-account-panel]");
    const tablist = document.querySelector("[data-account-tabs]");
    if (panel && panel.hidden && tablist) selectAccount(tablist, panel.dataset.accountPanel, false);
  }
  document.addEventListener("htmx:afterSettle", (event) => {
    if (event.detail.target && event.detail.target.id === "compose-editors") setUpTabs();
  });

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-js-hidden]").forEach((el) => { el.hidden = true; });
    setUpTabs();
    const section = document.querySelector("[data-image-upload]");
    if (section) setUpImages(section);
    // A link of the error summary puts the focus in the field it names (WCAG 3.3.1, 2.4.3).
    document.addEventListener("click", (event) => {
      const link = event.target.closest("a[data-error-link]");
      if (!link) return;
      const target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) return;
      event.preventDefault();
      revealPanelOf(target);
      for (let el = target.parentElement; el; el = el.parentElement) {
        if (el.tagName === "DETAILS") el.open = true;
      }
      target.focus();
      target.scrollIntoView({ block: "center" });
    });
  });
})();
