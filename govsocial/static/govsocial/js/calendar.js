// Calendar: drag a scheduled post to another day (month, list) or hour (week) to move it.
// Attached through data- attributes (no inline script: CSP):
//   [data-calendar]          the calendar; data-csrf-token holds the CSRF token
//   [data-calendar-post]     a post that may move; data-move-url, data-time ("HH:MM")
//   [data-calendar-drop]     a day cell (ISO date); data-calendar-hour on a week view's hour cell
//   #calendar-status         where results are announced; data-error-text is the fallback error
//   [data-calendar-focus]    posts that htmx just showed in place of "N more": focus moves there
// Dragging posts to the same endpoint as each post's Move form, which is the keyboard
// and no-JavaScript way to do the same thing.
(() => {
  "use strict";

  function pad(number) {
    return String(number).padStart(2, "0");
  }

  function announce(text, isError) {
    const status = document.getElementById("calendar-status");
    if (!status) return;
    status.classList.toggle("calendar-status-error", Boolean(isError));
    status.textContent = text;
  }

  function fallbackError() {
    const status = document.getElementById("calendar-status");
    return (status && status.dataset.errorText) || "The post could not be moved.";
  }

  function move(post, cell, csrfToken) {
    const time = post.dataset.time || "09:00";
    const hour = cell.dataset.calendarHour;
    const body = new URLSearchParams({
      date: cell.dataset.calendarDrop,
      time: hour === undefined ? time : `${pad(hour)}:${time.slice(3, 5)}`,
    });
    post.setAttribute("aria-busy", "true");
    fetch(post.dataset.moveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "X-CSRFToken": csrfToken,
        Accept: "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body,
    })
      .then((response) => response.json().catch(() => ({ ok: false })))
      .then((data) => {
        if (data.ok) {
          announce(data.message, false);
          // The page shows the post in its new place, with the message, after a reload.
          window.location.reload();
          return;
        }
        const errors = data.errors || (data.detail ? [data.detail] : []);
        announce(errors.length ? errors.join(" ") : fallbackError(), true);
      })
      .catch(() => announce(fallbackError(), true))
      .finally(() => post.removeAttribute("aria-busy"));
  }

  function setUp(calendar) {
    const csrfToken = calendar.dataset.csrfToken || "";
    let dragged = null;

    const clearTargets = () =>
      calendar
        .querySelectorAll(".cal-drop-target")
        .forEach((el) => el.classList.remove("cal-drop-target"));

    calendar.addEventListener("dragstart", (event) => {
      const post = event.target.closest && event.target.closest("[data-calendar-post]");
      if (!post) return;
      dragged = post;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", post.dataset.moveUrl);
      post.classList.add("cal-dragging");
    });

    calendar.addEventListener("dragend", () => {
      if (dragged) dragged.classList.remove("cal-dragging");
      dragged = null;
      clearTargets();
    });

    calendar.addEventListener("dragover", (event) => {
      const cell = dragged && event.target.closest && event.target.closest("[data-calendar-drop]");
      if (!cell) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      if (!cell.classList.contains("cal-drop-target")) {
        clearTargets();
        cell.classList.add("cal-drop-target");
      }
    });

    calendar.addEventListener("drop", (event) => {
      const cell = dragged && event.target.closest && event.target.closest("[data-calendar-drop]");
      if (!cell) return;
      event.preventDefault();
      clearTargets();
      const post = dragged;
      dragged = null;
      post.classList.remove("cal-dragging");
      if (post.closest("[data-calendar-drop]") === cell) return; // dropped where it was
      move(post, cell, csrfToken);
    });
  }

  // "N more" in a week view's hour is replaced by the hour's other posts (htmx): the
  // link that had focus is gone, so focus goes to the list that took its place.
  document.addEventListener("htmx:load", (event) => {
    const list = event.target;
    if (!list.matches || !list.matches("[data-calendar-focus]")) return;
    list.removeAttribute("data-calendar-focus");
    list.focus();
  });

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-calendar]").forEach(setUp);
    // The feed address is shown once: selecting it on focus makes copying it easy.
    document.querySelectorAll("[data-select-on-focus]").forEach((input) => {
      input.addEventListener("focus", () => input.select());
    });
  });
})();
