/* The public site works without this file. On a phone, the search and browse filters fold
   behind their button above the results (the page is served with them open). */
(function () {
  "use strict";
  var narrow = window.matchMedia("(max-width: 760px)");
  function fold() {
    var details = document.querySelectorAll("details.facet-fold");
    for (var i = 0; i < details.length; i++) { details[i].open = !narrow.matches; }
  }
  document.addEventListener("DOMContentLoaded", fold);
  if (narrow.addEventListener) { narrow.addEventListener("change", fold); }
})();
