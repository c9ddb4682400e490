// Co-review score sheet: a running total while scoring and as many comment rows as needed.
// The page works without it (the server validates every score and computes the real total).
(function () {
  "use strict";

  // A score as hundredths (integers: no floating-point drift), or null when it is not a number
  // from 0 to the criterion's maximum with at most two decimals (operations.parse_score).
  function hundredths(raw, max) {
    if (!/^\d+(\.\d{1,2})?$/.test(raw)) { return null; }
    var value = Math.round(parseFloat(raw) * 100);
    return value <= max * 100 ? value : null;
  }

  function format(cents) {
    var text = (cents / 100).toFixed(2);
    return text.replace(/\.?0+$/, "");
  }

  function fill(node, n, of) {
    node.textContent = node.getAttribute("data-template").replace("{n}", n).replace("{of}", of);
  }

  function recompute() {
    var table = document.getElementById("rubric");
    if (!table) { return; }
    var inputs = table.querySelectorAll("input.score-input");
    var total = 0, scored = 0, bad = 0;
    Array.prototype.forEach.call(inputs, function (input) {
      var raw = input.value.trim();
      var hint = document.getElementById(input.getAttribute("aria-describedby"));
      var row = input.closest("tr");
      var value = raw === "" ? null : hundredths(raw, parseFloat(input.getAttribute("data-max")));
      var wrong = raw !== "" && value === null;
      if (wrong) { bad += 1; } else if (value !== null) { total += value; scored += 1; }
      row.classList.toggle("out-of-range", wrong);
      if (wrong) { input.setAttribute("aria-invalid", "true"); } else if (!row.classList.contains("has-error")) {
        input.removeAttribute("aria-invalid");
      }
      if (hint) { hint.textContent = hint.getAttribute(wrong ? "data-bad" : "data-ok"); }
    });
    document.getElementById("score-total").textContent = scored ? format(total) : "—";
    fill(document.getElementById("score-count"), scored, inputs.length);
    var problems = document.getElementById("score-problems");
    if (bad) { fill(problems, bad, inputs.length); } else { problems.textContent = ""; }
  }

  // Comment rows are numbered 0, 1, 2… in page order (the server reads comment_*_<n>).
  function renumber() {
    var rows = document.querySelectorAll("#comment-rows tr.comment-row");
    Array.prototype.forEach.call(rows, function (row, index) {
      Array.prototype.forEach.call(row.querySelectorAll("[name]"), function (field) {
        field.name = field.name.replace(/_(\d+|N)$/, "_" + index);
      });
    });
    var add = document.getElementById("add-comment");
    if (add) { add.disabled = rows.length >= 50; }
  }

  function addRow() {
    var template = document.getElementById("comment-row-template");
    var row = template.content.firstElementChild.cloneNode(true);
    Array.prototype.forEach.call(row.querySelectorAll(".remove-comment"), function (b) { b.hidden = false; });
    document.getElementById("comment-rows").appendChild(row);
    renumber();
    row.querySelector("textarea").focus();
  }

  function removeRow(button) {
    var rows = document.querySelectorAll("#comment-rows tr.comment-row");
    var row = button.closest("tr");
    if (rows.length > 1) {
      var next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      renumber();
      next.querySelector("textarea").focus();
    } else {
      Array.prototype.forEach.call(row.querySelectorAll("input, textarea"), function (f) { f.value = ""; });
      row.querySelector("select[name^='comment_criterion_']").value = "";
    }
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("#rubric input.score-input")) { recompute(); }
  });
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.id === "add-comment") { addRow(); }
    else if (target.classList && target.classList.contains("remove-comment")) { removeRow(target); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    if (!document.getElementById("rubric")) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("#add-comment, #comment-rows .remove-comment"),
                                 function (b) { b.hidden = false; });
    recompute();
    renumber();
  });
}());
