// The header search box: "/" focuses it (unless one is typing in a field); on the results page
// the arrow keys move between results and Enter opens one (plain links: Tab works as well).
(function () {
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function hits() { return Array.prototype.slice.call(document.querySelectorAll("a.search-hit")); }
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typing(event.target)) {
      var box = document.getElementById("portal-search");
      if (box) { event.preventDefault(); box.focus(); box.select(); }
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") { return; }
    var list = hits();
    if (!list.length) { return; }
    var at = list.indexOf(document.activeElement);
    var inBox = document.activeElement && document.activeElement.type === "search";
    if (at < 0 && !inBox) { return; }
    event.preventDefault();
    if (event.key === "ArrowDown") { list[Math.min(at + 1, list.length - 1)].focus(); }
    else if (at > 0) { list[at - 1].focus(); }
    else { (document.getElementById("portal-search") || list[0]).focus(); }
  });
})();
