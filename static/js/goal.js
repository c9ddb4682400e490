// The goal editor: a row's 二级指标 choices follow its chosen 一级指标; the server answers them
// (/indicators/level2-options). Listened for on the document, so rows that htmx swaps in need
// no setup and a change made the moment a table arrives is not missed. Without JavaScript the
// server refuses a pair that does not belong together and the row then offers the right ones.
document.addEventListener("change", function (event) {
  var level1 = event.target;
  var url = level1.getAttribute && level1.getAttribute("data-level2-options");
  if (!url || !window.htmx) { return; }
  var level2 = level1.closest("tr").querySelector("select[name=level2]");
  if (!level2 || level2.getAttribute("data-level1") === level1.value) { return; }  // already its children
  level2.setAttribute("data-level1", level1.value);
  htmx.ajax("GET", url + "?level1=" + encodeURIComponent(level1.value), {target: level2, swap: "innerHTML"});
});
