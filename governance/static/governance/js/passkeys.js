// After a passkey is added, show it in the list (where it can be named).
document.addEventListener("otp_webauthn.register_complete", () => {
  window.setTimeout(() => window.location.reload(), 600);
});
