// Character counter for long text: "120 / 4000" under each field marked data-maxlength, marked when over.
// The server refuses over-long text with a message by the field; without this script nothing is cut either.
(function () {
  var length = function (value) { return value.replace(/\r\n/g, "\n").length; };
  document.querySelectorAll("textarea[data-maxlength], input[data-maxlength]").forEach(function (field) {
    var max = parseInt(field.getAttribute("data-maxlength"), 10);
    if (!max) { return; }
    var counter = document.createElement("span");
    counter.className = "counter hint";
    counter.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", counter);
    var update = function () {
      var used = length(field.value);
      counter.textContent = used + " / " + max;
      counter.classList.toggle("over", used > max);
    };
    field.addEventListener("input", update);
    update();
  });
})();
