/* Search takes an error message as the terminal prints it.

   Material's search worker reads a query with Lunr's syntax: text in double quotes
   becomes terms that every result must contain, and + - ~ ^ * : are operators. A
   pasted message is full of them ("conv1.weight", torch.Size([1000, 512]), paths,
   line numbers) and of names that are the visitor's own, so it found nothing, or the
   wrong entry. Each query is rewritten here, between the search box and the worker,
   into plain words; what the visitor sees in the box is left as it was.

   Material 9 posts {type: 2 (QUERY), data: text} to its worker. */
(() => {
  const QUERY = 2;

  function plainWords(text) {
    return (
      text
        // 1. A quoted state_dict key ("conv1.weight", 'module.encoder.0.bias'): its
        //    first part says where the weights come from (module, _orig_mod, epoch);
        //    the rest names the visitor's own layers, which no page knows.
        .replace(/(["'])([a-z_][a-z0-9_]*)(?:\.[a-z0-9_]+)+\1/g, " $2 ")
        //    The same for a key printed without quotes after "state_dict:"
        //    (DCP: "Missing key in checkpoint state_dict: model.fc3.weight.").
        .replace(/(state_dict:\s*)([a-z_][a-z0-9_]*)(?:\.[a-z0-9_]+)+\.?/gi, "$1$2 ")
        //    Other quotes and backticks mark names, not phrases: drop them.
        .replace(/["`\u201c\u201d]/g, " ")
        // 2. Lunr's operators: + - (presence), ~ (fuzzy), ^ (boost), * (wildcard),
        //    : (field). Inside a word (model-00002-of-00003, cuda:0) they separate.
        .replace(/[+~^*:]/g, " ")
        .replace(/(^|\s)-+/g, " ")
        // 3. Numbers are the visitor's own (shapes, line numbers, versions, counts).
        .replace(/(^|[\s([,=])-?\d+(?:\.\d+)*(?=[\s)\],.;!?]|$)/g, "$1 ")
        .replace(/\s+/g, " ")
        .trim()
    );
  }

  const post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (message, ...rest) {
    if (message && message.type === QUERY && typeof message.data === "string")
      message = { ...message, data: plainWords(message.data) };
    return post.call(this, message, ...rest);
  };

  // Material searches on a key press: a paste with the mouse (no key) searches too.
  document.addEventListener("input", event => {
    const box = event.target;
    if (box.matches?.("[data-md-component=search-query]") && event.inputType === "insertFromPaste")
      box.dispatchEvent(new KeyboardEvent("keyup"));
  });

  window.searchPlainWords = plainWords; // for the tests

  // The search index (about 0.5 MB) is fetched when the visitor goes to the search,
  // not with every page: Material asks for it as it starts, and gets it once the
  // pointer is over the search box or the box has the focus (a click, or the s, f or
  // / keys), or at once on a page opened from a search result, whose words Material
  // then highlights (?h=).
  let opened;
  const searchOpened = new Promise(resolve => (opened = resolve));
  if (/[?&][hq]=/.test(location.search)) opened();
  document.addEventListener("focusin", event => {
    if (event.target.matches?.("[data-md-component=search-query]")) opened();
  });
  document.addEventListener("pointerover", event => {
    if (event.target.closest?.(".md-search, label[for=__search]")) opened(); // a head start
  });
  const { open, send } = XMLHttpRequest.prototype; // Material's requests
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    this.searchIndex = String(url).endsWith("/search/search_index.json");
    return open.call(this, method, url, ...rest);
  };
  XMLHttpRequest.prototype.send = function (...args) {
    if (!this.searchIndex) return send.apply(this, args);
    searchOpened.then(() => send.apply(this, args));
  };
})();
