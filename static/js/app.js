// Small progressive enhancements; the app works without them. No inline script (CSP).
document.addEventListener("click", function (event) {
  var target = event.target.closest("[data-print]");
  if (target) { window.print(); }
});
