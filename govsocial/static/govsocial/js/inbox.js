// The inbox's keyboard navigation, new-row announcements, saved replies and the
// "is replying" mark. Everything hangs on data- attributes (no inline script: CSP);
// without JavaScript every page still works through its links and forms.
(() => {
  "use strict";

  const REPLYING_EVERY_MS = 10000;

  function typingInField(event) {
    const target = event.target;
    if (!(target instanceof HTMLElement)) return false;
    return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
  }

  function csrfToken() {
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  // --- the list: j/k and arrow keys move between items -----------------------------

  function itemLinks() {
    return Array.from(document.querySelectorAll("[data-inbox-list] [data-inbox-item-link]"));
  }

  function moveFocus(step) {
    const links = itemLinks();
    if (!links.length) return;
    const current = links.indexOf(document.activeElement);
    let next = current === -1 ? (step > 0 ? 0 : links.length - 1) : current + step;
    next = Math.max(0, Math.min(links.length - 1, next));
    links[next].focus();
    links[next].closest("tr")?.scrollIntoView({ block: "nearest" });
  }

  function toggleSelection() {
    const row = document.activeElement?.closest("tr[data-item-id]");
    const box = row?.querySelector("[data-inbox-select]");
    if (box) box.checked = !box.checked;
  }

  function onListKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typingInField(event)) return;
    if (event.key === "j" || event.key === "ArrowDown") {
      event.preventDefault();
      moveFocus(1);
    } else if (event.key === "k" || event.key === "ArrowUp") {
      event.preventDefault();
      moveFocus(-1);
    } else if (event.key === "x") {
      event.preventDefault();
      toggleSelection();
    }
  }

  // --- the item page: j/k to older/newer, r to reply, u back --------------------------

  function follow(selector) {
    const link = document.querySelector(selector);
    // A click, so an item link opens beside the list where there is room for it.
    if (link) link.click();
  }

  function onItemKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typingInField(event)) return;
    if (event.key === "j") follow("[data-inbox-next]");
    else if (event.key === "k") follow("[data-inbox-prev]");
    else if (event.key === "u") follow("[data-inbox-back]");
    else if (event.key === "r") {
      const box = document.querySelector("[data-inbox-reply-box]");
      if (box) {
        event.preventDefault();
        box.focus();
      }
    }
  }

  // --- new rows: the poll asks for rows newer than the newest shown ------------------

  function newestId() {
    let newest = 0;
    document.querySelectorAll("#inbox-rows [data-item-id]").forEach((row) => {
      newest = Math.max(newest, Number(row.getAttribute("data-item-id")) || 0);
    });
    return newest;
  }

  function setUpPolling() {
    const poller = document.querySelector("[data-inbox-poll]");
    if (!poller) return;
    poller.addEventListener("htmx:configRequest", (event) => {
      event.detail.parameters.after = String(newestId());
    });
    document.body.addEventListener("inboxNewItems", (event) => {
      const announcer = document.getElementById("inbox-announcer");
      if (announcer && event.detail && event.detail.message) {
        announcer.textContent = event.detail.message;
      }
    });
  }

  // --- saved replies fill the reply box ------------------------------------------------

  function setUpSavedReplies() {
    const picker = document.querySelector(".inbox-pick select");
    const form = document.querySelector("[data-inbox-reply-form]");
    if (!picker || !form) return;
    picker.addEventListener("change", () => {
      const template = document.querySelector(`template[data-saved-reply="${picker.value}"]`);
      if (!template) return;
      const box = form.querySelector("[data-inbox-reply-box]");
      const hidden = form.querySelector("input[name=saved_reply]");
      box.value = template.content.textContent;
      if (hidden) hidden.value = picker.value;
      box.focus();
    });
  }

  // --- "Bertta is replying…": renew the mark while the reply box is in use ------------

  function setUpReplyingMark() {
    const form = document.querySelector("[data-inbox-reply-form]");
    if (!form) return;
    const url = form.getAttribute("data-replying-url");
    const box = form.querySelector("[data-inbox-reply-box]");
    let timer = null;

    const send = (stop) => {
      const body = new URLSearchParams({ csrfmiddlewaretoken: csrfToken() });
      if (stop) body.set("stop", "1");
      fetch(url, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken() },
        keepalive: Boolean(stop),
      }).catch(() => {});
    };
    // A form replaced by another item's pane is no longer in use.
    const inUse = () =>
      document.contains(form) &&
      (form.contains(document.activeElement) || (box && box.value.trim() !== ""));
    const start = () => {
      if (timer) return;
      send(false);
      timer = window.setInterval(() => {
        if (inUse()) send(false);
        else stop();
      }, REPLYING_EVERY_MS);
    };
    const stop = () => {
      if (!timer) return;
      window.clearInterval(timer);
      timer = null;
      send(true);
    };
    form.addEventListener("focusin", start);
    form.addEventListener("submit", () => {
      if (timer) window.clearInterval(timer);
      timer = null;
    });
    window.addEventListener("pagehide", () => {
      if (timer) stop();
    });
  }

  // --- two panes: an item opens beside the list, with its own address ---------------

  const WIDE = "(min-width: 901px)";
  const PANE_ID = "inbox-pane";

  function pane() {
    return document.getElementById(PANE_ID);
  }

  function paneHasItem() {
    return Boolean(pane()?.querySelector("[data-inbox-item]"));
  }

  function markOpenRow(itemId) {
    document.querySelectorAll("#inbox-rows tr[data-item-id]").forEach((row) => {
      const open = row.getAttribute("data-item-id") === itemId;
      row.classList.toggle("inbox-row-open", open);
      const link = row.querySelector("[data-inbox-item-link]");
      if (!link) return;
      if (open) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    });
  }

  function afterPaneChange(moveFocus) {
    const item = pane()?.querySelector("[data-inbox-item]");
    markOpenRow(item ? item.getAttribute("data-item-id") : "");
    if (!item) return;
    const title = item.getAttribute("data-title");
    if (title) document.title = title;
    setUpSavedReplies();
    setUpReplyingMark();
    if (moveFocus) item.querySelector("#item-heading")?.focus();
  }

  let emptyPane = "";
  let emptyTitle = "";

  function loadPane(url, push) {
    const target = pane();
    if (!target) {
      window.location.assign(url);
      return;
    }
    fetch(url, {
      credentials: "same-origin",
      headers: { "HX-Request": "true", "HX-Target": PANE_ID },
    })
      .then((response) => {
        // Signed out, gone or failing: let the browser show the page itself.
        if (!response.ok || response.redirected) throw new Error(String(response.status));
        return response.text();
      })
      .then((html) => {
        target.innerHTML = html;
        if (window.htmx) window.htmx.process(target);
        target.scrollTop = 0;
        if (push) window.history.pushState({ inboxPane: url }, "", url);
        afterPaneChange(true);
      })
      .catch(() => window.location.assign(url));
  }

  function onPaneLinkClick(event) {
    const link = event.target instanceof Element ? event.target.closest("a") : null;
    if (!link || !link.matches("[data-inbox-item-link], [data-inbox-pane-link]")) return;
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (!pane() || !window.matchMedia(WIDE).matches) return;
    event.preventDefault();
    loadPane(link.href, true);
  }

  function setUpPanes() {
    const target = pane();
    if (!target) return;
    emptyPane = paneHasItem() ? "" : target.innerHTML;
    emptyTitle = document.title;
    window.history.replaceState({ inboxPane: window.location.href }, "", window.location.href);
    document.addEventListener("click", onPaneLinkClick);
    window.addEventListener("popstate", (event) => {
      if (!event.state || !event.state.inboxPane) return;
      if (/\/inbox\/\d+\/$/.test(new URL(event.state.inboxPane).pathname)) {
        loadPane(event.state.inboxPane, false);
      } else if (emptyPane) {
        target.innerHTML = emptyPane;
        document.title = emptyTitle;
        afterPaneChange(false);
      } else {
        window.location.assign(event.state.inboxPane);
      }
    });
  }

  // --- bulk actions show once something is selected ---------------------------------

  function setUpBulk() {
    const form = document.querySelector("[data-inbox-bulk]");
    if (!form) return;
    const update = () => {
      const any = document.querySelector("[data-inbox-select]:checked") !== null;
      const wasHidden = form.hidden;
      form.hidden = !any;
      const announcer = document.getElementById("inbox-announcer");
      if (any && wasHidden && announcer) {
        announcer.textContent = form.getAttribute("data-shown-message") || "";
      }
    };
    update();
    document.addEventListener("change", (event) => {
      if (event.target instanceof Element && event.target.matches("[data-inbox-select]")) update();
    });
    // "x" ticks a box without a change event.
    document.addEventListener("keyup", (event) => {
      if (event.key === "x") update();
    });
  }

  // One key handler for both panes. Single-key shortcuts act only while focus is in
  // the list (its scroll region included) or in the open item, never page-wide, so a
  // key pressed on a header button or by speech input does what it says (WCAG 2.1.4).
  function listRegion() {
    const list = document.querySelector("[data-inbox-list]");
    return list ? list.closest("[role=region]") || list : null;
  }

  function onKey(event) {
    const active = document.activeElement;
    const region = listRegion();
    const item = pane()?.querySelector("[data-inbox-item]");
    if (region && region.contains(active)) onListKey(event);
    else if (item && item.contains(active)) onItemKey(event);
  }

  // A person can turn the shortcuts off on their profile page: then none is bound.
  function shortcutsOn() {
    const holder = document.querySelector("[data-inbox-shortcuts]");
    return !holder || holder.getAttribute("data-inbox-shortcuts") !== "off";
  }

  document.addEventListener("DOMContentLoaded", () => {
    if ((document.querySelector("[data-inbox-list]") || paneHasItem()) && shortcutsOn()) {
      document.addEventListener("keydown", onKey);
    }
    if (document.querySelector("[data-inbox-list]")) {
      setUpPolling();
      setUpBulk();
    }
    if (paneHasItem()) {
      setUpSavedReplies();
      setUpReplyingMark();
    }
    setUpPanes();
  });
})();
