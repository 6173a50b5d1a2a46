// GovSocial behaviour, attached through data- attributes (no inline script: CSP).
document.addEventListener("DOMContentLoaded", () => {
  // A language <select> submits its form on change; the button stays for keyboard and no-JS users.
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("click", (event) => {
      if (!window.confirm(el.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
});
