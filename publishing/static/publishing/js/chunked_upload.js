// Chunked, resumable video upload for the media library (publishing/views/video_upload.py).
// Attached through data- attributes (no inline script: CSP):
//   form[data-chunked-upload]  the video form; the attribute is the address that opens an
//                              upload session; data-progress names the progress box
//   [data-msg-*]               on the progress box: the page's translated messages, with
//                              {sent} {total} {percent} {seconds} filled in here
//   [data-progress-text]       "12 of 200 MB sent (6 %)", beside the <progress>
//   [data-progress-status]     a live region (role=status): start, every 10 %, resume, done
//   [data-progress-error]      role=alert: what went wrong
//   [data-upload-cancel]       the cancel button
// The file is sent a chunk at a time (PUT with Content-Range); each answer says how many
// bytes the server holds, and the next chunk starts there. A broken connection is retried
// after asking the server for its offset; after a page reload, choosing the same file
// resumes the session remembered in localStorage. Without JavaScript (or without
// Blob.slice) the form posts the whole file as before.
(() => {
  "use strict";

  const RETRIES = 5;
  const MB = 1024 * 1024;

  function storageKey(file) {
    return `govsocial-upload:${file.name}:${file.size}:${file.lastModified}`;
  }

  function remember(file, url) {
    try {
      if (url) window.localStorage.setItem(storageKey(file), url);
      else window.localStorage.removeItem(storageKey(file));
    } catch (_error) {
      // Private windows may refuse storage: the upload still works, only not across reloads.
    }
  }

  function remembered(file) {
    try {
      return window.localStorage.getItem(storageKey(file));
    } catch (_error) {
      return null;
    }
  }

  function fill(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, (whole, name) =>
      name in values ? String(values[name]) : whole,
    );
  }

  function setUp(form) {
    const box = document.getElementById(form.dataset.progress);
    const input = form.querySelector("input[type=file]");
    if (!box || !input || !window.Blob || !Blob.prototype.slice || !window.fetch) return;
    const bar = box.querySelector("progress");
    const text = box.querySelector("[data-progress-text]");
    const status = box.querySelector("[data-progress-status]");
    const errorBox = box.querySelector("[data-progress-error]");
    const cancel = box.querySelector("[data-upload-cancel]");
    const submit = form.querySelector("button[type=submit]");
    const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    const msg = (name, values) => fill(box.dataset[`msg${name}`], values || {});

    let current = null; // {url, size, xhr, cancelled}
    let announced = -1;

    function show(sent, total) {
      const percent = total ? Math.floor((sent / total) * 100) : 0;
      bar.value = percent;
      bar.textContent = `${percent} %`;
      text.textContent = msg("Progress", {
        sent: (sent / MB).toFixed(1),
        total: (total / MB).toFixed(1),
        percent,
      });
      // The live region speaks every tenth, not every progress event.
      const tenth = Math.floor(percent / 10);
      if (tenth !== announced && percent < 100) {
        announced = tenth;
        status.textContent = msg("Announce", { percent });
      }
    }

    function finish(message, isError) {
      if (isError) {
        errorBox.textContent = message;
        status.textContent = "";
      } else {
        status.textContent = message;
      }
      cancel.hidden = true;
      submit.disabled = false;
      box.removeAttribute("aria-busy");
      current = null;
    }

    function json(response) {
      return response.json().catch(() => ({ error: msg("Failed") }));
    }

    async function open(file) {
      const saved = remembered(file);
      if (saved) {
        const response = await fetch(saved, { credentials: "same-origin" });
        if (response.ok) {
          const state = await response.json();
          if (state.status === "open" && state.size === file.size) return state;
        }
        remember(file, null);
      }
      const body = new FormData(form);
      body.delete(input.name);
      body.set("video-name", file.name);
      body.set("video-size", String(file.size));
      const response = await fetch(form.dataset.chunkedUpload, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf },
        body,
      });
      const state = await json(response);
      if (response.status !== 201) throw new Error(state.error || msg("Failed"));
      remember(file, state.url);
      return state;
    }

    // One chunk with XMLHttpRequest (fetch cannot report upload progress).
    function put(job, url, file, offset, end) {
      return new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        job.xhr = xhr;
        xhr.open("PUT", url);
        xhr.setRequestHeader("X-CSRFToken", csrf);
        xhr.setRequestHeader("Content-Type", "application/octet-stream");
        xhr.setRequestHeader("Content-Range", `bytes ${offset}-${end - 1}/${file.size}`);
        xhr.upload.addEventListener("progress", (event) => show(offset + event.loaded, file.size));
        xhr.addEventListener("load", () => {
          let state;
          try {
            state = JSON.parse(xhr.responseText);
          } catch (_error) {
            state = { error: msg("Failed") };
          }
          resolve({ status: xhr.status, state });
        });
        xhr.addEventListener("error", () => reject(new Error("network")));
        xhr.addEventListener("abort", () => reject(new Error("abort")));
        xhr.send(file.slice(offset, end));
      });
    }

    const wait = (seconds) => new Promise((resolve) => window.setTimeout(resolve, seconds * 1000));

    async function offsetNow(url) {
      const response = await fetch(url, { credentials: "same-origin" });
      const state = await json(response);
      if (!response.ok || state.status !== "open") throw new Error(state.error || msg("Failed"));
      return state.offset;
    }

    async function upload(file, job) {
      box.hidden = false;
      box.setAttribute("aria-busy", "true");
      errorBox.textContent = "";
      submit.disabled = true;
      cancel.hidden = false;
      announced = -1;
      status.textContent = msg("Starting");
      const state = await open(file);
      job.url = state.url;
      if (job.cancelled) {
        // Cancelled while the session was being opened: it goes too.
        remember(file, null);
        await discard(state.url);
        return;
      }
      let offset = state.offset;
      if (offset > 0) {
        announced = Math.floor((offset / file.size) * 10);
        status.textContent = msg("Resuming", { percent: Math.floor((offset / file.size) * 100) });
      }
      show(offset, file.size);
      let failures = 0;
      while (!job.cancelled) {
        const end = Math.min(offset + state.chunk_bytes, file.size);
        let answer;
        try {
          answer = await put(job, state.url, file, offset, end);
        } catch (error) {
          if (job.cancelled) return;
          failures += 1;
          if (failures > RETRIES) throw new Error(msg("Lost"));
          const seconds = 2 ** (failures - 1);
          status.textContent = msg("Retrying", { seconds });
          await wait(seconds);
          try {
            offset = await offsetNow(state.url);
          } catch (_offsetError) {
            // Still no connection: the next round tries again.
          }
          continue;
        }
        failures = 0;
        if (answer.status === 409 && typeof answer.state.offset === "number") {
          offset = answer.state.offset; // the server holds more (or less): go on from there
          continue;
        }
        if (answer.status !== 200) {
          remember(file, null);
          throw new Error(answer.state.error || msg("Failed"));
        }
        offset = answer.state.offset;
        show(offset, file.size);
        if (answer.state.location) {
          remember(file, null);
          bar.value = 100;
          status.textContent = msg("Checking");
          window.location.assign(answer.state.location);
          return;
        }
      }
    }

    function discard(url) {
      return fetch(url, {
        method: "DELETE",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf },
      }).catch(() => null);
    }

    cancel.addEventListener("click", async () => {
      if (!current) return;
      current.cancelled = true;
      if (current.xhr) current.xhr.abort();
      const url = current.url;
      const file = input.files[0];
      if (file) remember(file, null);
      if (url) await discard(url);
      bar.value = 0;
      finish(msg("Cancelled"), false);
    });

    form.addEventListener("submit", (event) => {
      const file = input.files && input.files[0];
      if (!file) return; // the server says the file is missing, as without JavaScript
      event.preventDefault();
      if (current) return;
      const job = { url: null, cancelled: false, xhr: null };
      current = job;
      upload(file, job).catch((error) => {
        if (!job.cancelled) finish(error.message, true);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const form of document.querySelectorAll("form[data-chunked-upload]")) setUp(form);
  });
})();
