// The llm-sessions inspector's script for every page: the copy buttons, and the mark of a page
// drawn on the server being ready. Small, so that a page drawn on the server is interactive as
// soon as it is parsed; a session's page also loads inspector.js.
"use strict";

(() => {
  function wireCopyButtons() {
    document.addEventListener("click", (event) => {
      const button = event.target.closest("button.copy");
      if (!button) return;
      if (!navigator.clipboard) {
        // Not a secure context (plain http off loopback): select the id for the reader to copy.
        const range = document.createRange();
        range.selectNodeContents(button.previousElementSibling);
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
        return;
      }
      navigator.clipboard.writeText(button.dataset.copy).then(() => {
        button.textContent = "copied";
        setTimeout(() => {
          button.textContent = "copy";
        }, 1500);
      }, () => {});
    });
  }

  /** Pages drawn on the server: the page marks when it responds (read by the benchmark). */
  function startServerPage(main) {
    main.dataset.readyMs = String(Math.round(performance.now()));
    main.dataset.ready = "true";
  }

  wireCopyButtons();
  const listed = document.getElementById("sessions") || document.getElementById("usage-page");
  if (listed) startServerPage(listed);
})();
