// Auto-refresh for the podpaths dashboard. The page works without this file:
// the script only reveals a checkbox that reloads the page every 5 seconds.
// The choice is kept in sessionStorage, so it survives the reload and stays in
// this tab.
(function () {
  "use strict";

  var key = "podpaths.autoRefresh";
  var periodMS = 5000;
  var box = document.getElementById("auto-refresh");
  if (!box) {
    return;
  }
  var timer = null;

  function schedule() {
    timer = window.setTimeout(function () {
      window.location.reload();
    }, periodMS);
  }

  box.closest("label").hidden = false;
  box.checked = window.sessionStorage.getItem(key) === "on";
  if (box.checked) {
    schedule();
  }
  box.addEventListener("change", function () {
    window.sessionStorage.setItem(key, box.checked ? "on" : "off");
    window.clearTimeout(timer);
    if (box.checked) {
      schedule();
    }
  });
})();
