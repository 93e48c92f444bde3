/* Search takes an error message as the terminal prints it.

   Material's search worker reads a query with Lunr's syntax: text in double quotes
   becomes terms that every result must contain, and + - ~ ^ * : are operators. A
   pasted message is full of them ("conv1.weight", torch.Size([1000, 512]), paths,
   line numbers) and of names that are the visitor's own, so it found nothing, or the
   wrong entry. Material also makes every word a prefix ("dict" finds "DictConfig",
   "a" finds every word that starts with an a) and weighs a heading's word a thousand
   times a word of the text. Each query is rewritten here, between the search box and
   the worker, into the words the index holds, each once; what the visitor sees in the
   box is left as it was.

   Material 9 posts {type: 2 (QUERY), data: text} to its worker. */
(() => {
  const QUERY = 2;

  // The words the index leaves out (lunr's English stop words, as Material's search
  // index is built with "stopWordFilter"). Left in a query, each would become a
  // prefix ("a*", "in*") that matches every title word it starts.
  const STOP_WORDS = new Set(
    ("a able about across after all almost also am among an and any are as at be because " +
      "been but by can cannot could dear did do does either else ever every for from get got " +
      "had has have he her hers him his how however i if in into is it its just least let " +
      "like likely may me might most must my neither no nor not of off often on only or " +
      "other our own rather said say says she should since so some than that the their " +
      "them then there these they this tis to too twas us wants was we were what when " +
      "where which while who whom why will with would yet you your").split(" ")
  );
  // How the index splits text into words: mkdocs.yml's search separator.
  const SEPARATOR = /[\s\-,:;!?=\[\]()"`'/<>]+|\.(?!\d)/;

  function plainWords(text) {
    const words = text
      // 1. A quoted state_dict key ("conv1.weight", 'module.encoder.0.bias'): its
      //    first part says where the weights come from (module, _orig_mod, epoch);
      //    the rest names the visitor's own layers, which no page knows.
      .replace(/(["'])([a-z_][a-z0-9_]*)(?:\.[a-z0-9_]+)+\1/g, " $2 ")
      //    The same for a key printed without quotes after "state_dict:"
      //    (DCP: "Missing key in checkpoint state_dict: model.fc3.weight.").
      .replace(/(state_dict:\s*)([a-z_][a-z0-9_]*)(?:\.[a-z0-9_]+)+\.?/gi, "$1$2 ")
      // 2. Lunr's operators: + - (presence), ~ (fuzzy), ^ (boost), * (wildcard),
      //    : (field), \ (escape), and quotes (required phrases) separate words here.
      .replace(/[+~^*:"`\\\u201c\u201d]/g, " ")
      .split(SEPARATOR)
      .map(word => word.replace(/^[^\p{L}\p{N}_]+|[^\p{L}\p{N}_]+$/gu, ""))
      .filter(word => word);
    const typing = words[words.length - 1] || ""; // the word a visitor may still type
    // Stop words, and the letters left of "key(s)" or "doesn't", are in no index.
    const meaningful = words.filter(
      word => (word.length > 1 || /\d/.test(word)) && !STOP_WORDS.has(word.toLowerCase())
    );
    const pasted = PASTED.test(text) || meaningful.length > TYPED_WORDS;
    // 3. In a message, numbers are the visitor's own (shapes, line numbers, counts).
    const kept = meaningful.filter(word => !(pasted && /^\d+(?:\.\d+)*$/.test(word)));
    // 4. Each word once: a list of the visitor's keys repeats the same few.
    const unique = [...new Map(kept.map(w => [w.toLowerCase(), w])).values()];
    // 5. A pasted message holds whole words, and the visitor's own names are in the
    //    entry's quoted output rather than in its heading: each word is matched whole,
    //    in the text only. A question a visitor types is matched by whole words too,
    //    headings included, and the word typed last also as a prefix (at a quarter of
    //    the weight, and even if it is a stop word: "to" may be the start of "torch").
    if (pasted) return unique.map(word => `text:${word}^1`).join(" ");
    return [...unique.map(word => `${word}^4`), typing].join(" ").trim();
  }
  // What a terminal prints: an error's class name, the quotes and angle brackets of
  // a message ("fc.weight", <class 'str'>), or more words than a question has.
  const PASTED = /\w(?:Error|Exception|Warning|Keys)\b|["<>\n]/;
  const TYPED_WORDS = 6;

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
