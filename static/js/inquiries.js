// Requested items: add and remove rows without a round trip (the form works without it).
document.addEventListener("click", function (event) {
  var target = event.target;
  if (target.id === "add-item") {
    var list = document.getElementById("item-rows");
    var row = list.querySelector("li").cloneNode(true);
    row.querySelector("input").value = "";
    list.appendChild(row);
    row.querySelector("input").focus();
  } else if (target.classList.contains("remove-item")) {
    var rows = document.querySelectorAll("#item-rows li");
    if (rows.length > 1) { target.closest("li").remove(); } else { rows[0].querySelector("input").value = ""; }
  }
});

// Related projects: typing a code or name hides the options that do not match (selected ones stay).
document.addEventListener("input", function (event) {
  var box = event.target;
  if (!box.matches("[data-filters]")) { return; }
  var select = document.getElementById(box.getAttribute("data-filters"));
  var needle = box.value.trim().toLowerCase();
  Array.prototype.forEach.call(select.options, function (option) {
    option.hidden = needle !== "" && !option.selected && option.text.toLowerCase().indexOf(needle) === -1;
  });
});
