// GovSocial behaviour, attached through data- attributes (no inline script: CSP).
document.addEventListener("DOMContentLoaded", () => {
  // An error summary takes the focus when the page loads (before any autofocus field),
  // so a screen reader reads the problems first and Tab leads to their links.
  const summary = document.querySelector("[data-focus-on-load]");
  if (summary) summary.focus();
  // A language <select> submits its form on change; the button stays for keyboard and no-JS users.
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("click", (event) => {
      if (!window.confirm(el.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
});
