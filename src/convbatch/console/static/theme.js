// Runs before the page paints, so a chosen theme never flashes the other one.
(function () {
  var chosen = null;
  try { chosen = localStorage.getItem("cb-theme"); } catch (e) { /* storage off */ }
  if (chosen === "light" || chosen === "dark") {
    document.documentElement.setAttribute("data-theme", chosen);
  }
})();
