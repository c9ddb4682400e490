// Lists (macros/listing.html): a "select all" box for bulk actions (without it: tick rows one by one).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    var table = all.closest("table");
    all.hidden = false;
    all.addEventListener("change", function () {
      table.querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = all.checked; });
    });
  });
});
