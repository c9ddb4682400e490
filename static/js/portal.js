// Small progressive enhancements; every page works without them.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var message = form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) { event.preventDefault(); }
});

// The main menu's groups (<details>, macros/nav.html): one open at a time, Esc or a click elsewhere
// closes it. Without this script each group still opens and closes by itself.
(function () {
  function groups() { return document.querySelectorAll("details[data-navgroup]"); }
  document.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!opened.matches || !opened.matches("details[data-navgroup]") || !opened.open) { return; }
    groups().forEach(function (other) { if (other !== opened) { other.open = false; } });
  }, true);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    groups().forEach(function (group) {
      if (group.open) { group.open = false; group.querySelector("summary").focus(); }
    });
  });
  document.addEventListener("click", function (event) {
    groups().forEach(function (group) { if (group.open && !group.contains(event.target)) { group.open = false; } });
  });
})();
