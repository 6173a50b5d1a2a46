// The revealed vault secret: counts down, then removes the value from the page.
// Loaded only on the reveal page; behaviour through data- attributes (no inline script: CSP).
document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector("[data-vault-reveal]");
  if (!box) return;
  const valueArea = box.querySelector("[data-vault-value]");
  const remaining = box.querySelector("[data-vault-remaining]");
  const hiddenMessage = box.querySelector("[data-vault-hidden-message]");
  const hideButton = box.querySelector("[data-vault-hide]");
  let seconds = parseInt(box.getAttribute("data-seconds"), 10) || 60;
  let timer = null;

  const hide = () => {
    if (timer !== null) window.clearInterval(timer);
    timer = null;
    if (valueArea) valueArea.remove(); // gone from the DOM, not just out of sight
    // The status region was on the page from the start, so screen readers announce this.
    if (hiddenMessage) hiddenMessage.textContent = hiddenMessage.getAttribute("data-message");
  };

  const tick = () => {
    seconds -= 1;
    if (remaining) remaining.textContent = "(" + seconds + ")";
    if (seconds <= 0) hide();
  };

  if (remaining) remaining.textContent = "(" + seconds + ")";
  timer = window.setInterval(tick, 1000);
  if (hideButton) hideButton.addEventListener("click", hide);
  // Leaving the page (or the back-forward cache restoring it) must not keep the value.
  window.addEventListener("pagehide", hide);
});
