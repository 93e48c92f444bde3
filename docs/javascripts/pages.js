/* What the pages do beyond Material: two things.

   1. Material puts each code block's copy button in a <nav>, a landmark with no name:
   one per block, which screen readers list among the page's regions (axe-core's
   landmark-unique). A button bar is not a region of the page: its <nav> gets role="none". */
const codeButtonBars = "nav.md-code__nav:not([role])";
function unlandmark(root) {
  for (const nav of root.querySelectorAll(codeButtonBars)) nav.setAttribute("role", "none");
}
new MutationObserver(records => {
  for (const record of records)
    for (const node of record.addedNodes)
      if (node.nodeType === Node.ELEMENT_NODE)
        if (node.matches(codeButtonBars)) node.setAttribute("role", "none");
        else unlandmark(node);
}).observe(document.documentElement, {
  childList: true,
  subtree: true,
});
unlandmark(document);

/* 2. A folded whole script whose content lives in a file of its own (hooks/folded_scripts.py)
   loads when the visitor opens it; until then the block holds a link to the script. */
let loadedBlocks = 0;
document.addEventListener(
  "toggle",
  async event => {
    const details = event.target;
    if (!details.open || !details.dataset?.script || details.dataset.loaded) return;
    details.dataset.loaded = "loading";
    const response = await fetch(new URL(details.dataset.script, location.href));
    if (!response.ok) {
      delete details.dataset.loaded;
      return;
    }
    const summary = details.querySelector(":scope > summary");
    details.replaceChildren(summary);
    details.insertAdjacentHTML("beforeend", await response.text());
    // The copy button Material gives every code block when the page loads.
    for (const pre of details.querySelectorAll("pre")) {
      if (pre.querySelector(".md-code__nav")) continue;
      pre.id ||= `__script_${++loadedBlocks}`;
      const nav = document.createElement("nav");
      nav.className = "md-code__nav";
      nav.setAttribute("role", "none");
      const button = document.createElement("button");
      button.className = "md-code__button";
      button.title = "Copy to clipboard";
      button.dataset.clipboardTarget = `#${pre.id} > code`;
      button.dataset.mdType = "copy";
      nav.append(button);
      pre.querySelector("code")?.before(nav);
    }
    details.dataset.loaded = "yes";
  },
  true,
);
