/* Feedback (GEN-07): on sending, attach the page's HTML as the user sees it, typed values included.
   No external library: the DOM is cloned and the current values of inputs are written into it. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("feedback-form")) return;
    form.elements.page_title.value = document.title;
    if (!form.elements.attach.checked) return;
    var clone = document.documentElement.cloneNode(true);
    var live = document.querySelectorAll("input, textarea, select");
    var copies = clone.querySelectorAll("input, textarea, select");
    for (var i = 0; i < live.length && i < copies.length; i++) {
      var el = live[i], copy = copies[i];
      if (el.type === "password" || el.name === "csrfmiddlewaretoken" || el.closest(".feedback-form")) {
        copy.removeAttribute("value");
        if (copy.tagName === "TEXTAREA") copy.textContent = "";
        continue;
      }
      if (el.tagName === "TEXTAREA") copy.textContent = el.value;
      else if (el.tagName === "SELECT") {
        for (var j = 0; j < el.options.length; j++) {
          if (el.options[j].selected) copy.options[j].setAttribute("selected", "");
          else copy.options[j].removeAttribute("selected");
        }
      } else if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) copy.setAttribute("checked", ""); else copy.removeAttribute("checked");
      } else copy.setAttribute("value", el.value);
    }
    clone.querySelectorAll("script").forEach(function (s) { s.remove(); });
    form.elements.snapshot.value = "<!DOCTYPE html>\n" + clone.outerHTML;
  });
}());
