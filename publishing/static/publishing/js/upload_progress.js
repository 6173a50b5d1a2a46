// Upload with a progress bar: a form marked data-upload-progress="<id>" is sent with
// XMLHttpRequest so the <progress> inside the element <id> can show how much has gone.
// Without JavaScript the form posts as usual.
(function () {
  "use strict";
  function setUp(form) {
    var box = document.getElementById(form.getAttribute("data-upload-progress"));
    if (!box || !window.FormData) { return; }
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-progress-text]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      var button = form.querySelector("button[type=submit]");
      box.hidden = false;
      if (button) { button.disabled = true; }
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        var percent = Math.floor((e.loaded / e.total) * 100);
        bar.value = percent;
        bar.textContent = percent + " %";
        if (text) { text.textContent = percent + " %"; }
      });
      xhr.addEventListener("load", function () {
        var type = xhr.getResponseHeader("Content-Type") || "";
        if (xhr.status === 200 && type.indexOf("application/json") === 0) {
          window.location.assign(JSON.parse(xhr.responseText).location);
          return;
        }
        // The form again with its errors: show the page the server sent.
        document.open();
        document.write(xhr.responseText);
        document.close();
      });
      xhr.addEventListener("error", function () {
        if (button) { button.disabled = false; }
        box.hidden = true;
        form.submit();
      });
      xhr.open("POST", form.getAttribute("action") || window.location.href);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.send(new FormData(form));
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-upload-progress]");
    for (var i = 0; i < forms.length; i++) { setUp(forms[i]); }
  });
})();
