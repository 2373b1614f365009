// Small progressive enhancements; every page works without them. No inline script (CSP).
(function () {
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });

  // Forms marked data-guard-unsaved warn before the page is left with unsaved changes.
  var dirty = false;
  document.querySelectorAll("form[data-guard-unsaved]").forEach(function (form) {
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("submit", function () { dirty = false; });
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });

  // Forms marked data-draft-key keep what was typed in this browser until the server confirms a save,
  // so an expired session or a lost connection loses nothing: the draft is offered back on return.
  document.querySelectorAll("form[data-draft-key]").forEach(function (form) {
    var key = "draft:" + form.getAttribute("data-draft-key");
    var saved = document.querySelector(".flash-success");
    if (saved) { localStorage.removeItem(key); }
    var fields = function () { return form.querySelectorAll("input[name], textarea[name], select[name]"); };
    var stored = localStorage.getItem(key);
    if (stored && !saved) {
      var values = JSON.parse(stored);
      var differs = Array.prototype.some.call(fields(), function (f) {
        return f.type !== "hidden" && values[f.name] !== undefined && values[f.name] !== f.value;
      });
      if (differs) {
        var bar = document.createElement("p");
        bar.className = "flash flash-warning";
        bar.textContent = form.getAttribute("data-draft-message") || "저장되지 않은 입력이 이 브라우저에 남아 있습니다. ";
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = form.getAttribute("data-draft-restore") || "되살리기";
        button.addEventListener("click", function () {
          fields().forEach(function (f) {
            if (f.type !== "hidden" && values[f.name] !== undefined) { f.value = values[f.name]; }
          });
          dirty = true;
          bar.remove();
        });
        bar.appendChild(button);
        form.parentNode.insertBefore(bar, form);
      }
    }
    form.addEventListener("input", function () {
      var values = {};
      fields().forEach(function (f) { if (f.type !== "hidden") { values[f.name] = f.value; } });
      localStorage.setItem(key, JSON.stringify(values));
    });
  });
})();
