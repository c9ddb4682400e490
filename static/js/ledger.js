// Ledger: "select all" for bulk actions (the page works without it: tick rows one by one).
document.addEventListener("DOMContentLoaded", function () {
  var all = document.getElementById("ledger-select-all");
  if (!all) return;
  all.hidden = false;
  all.addEventListener("change", function () {
    document.querySelectorAll("table.ledger input[name=ids]").forEach(function (box) { box.checked = all.checked; });
  });
});
