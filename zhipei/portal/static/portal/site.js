/* Zhipei site script: only the phone menu toggle. Without JavaScript the menu stays open. */
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", function () {
  var toggle = document.querySelector("[data-menu-toggle]");
  if (!toggle) { return; }
  var menu = document.getElementById(toggle.getAttribute("aria-controls"));
  toggle.addEventListener("click", function () {
    var open = toggle.getAttribute("aria-expanded") === "true";
    toggle.setAttribute("aria-expanded", String(!open));
    menu.classList.toggle("is-open", !open);
  });
});
