// The review page's keys: a subcategory's key toggles it, Enter saves the answer and goes on,
// arrows move, u undoes, ! flags the post for discussion, / writes a memo. Toggles not saved
// yet, and their undo history, are kept in localStorage, so that a reload or a closed tab
// loses nothing; a saved answer clears them.
// When adjudicating, a disputed subcategory starts undecided (an indeterminate box) and the
// post cannot be saved until each one is decided: its key gives 1, a second press 0.
(() => {
  const state = JSON.parse(document.getElementById("state").textContent);
  const token = document.querySelector("meta[name=smcat-token]").content;
  const byKey = Object.fromEntries(Object.entries(state.keys).map(([sub, key]) => [key, sub]));
  const draftKey = `smcat:${state.coder}:${state.post}`;
  const boxes = Object.fromEntries(
    [...document.querySelectorAll("input[data-sub]")].map((box) => [box.dataset.sub, box]));
  const message = document.getElementById("message");
  const current = {};  // each subcategory's value: 1, 0 or null (undecided)
  let undo = [];  // [subcategory, value before] pairs, the last toggle last
  let saving = false;

  function valueOf(sub) {
    return current[sub];
  }
  function setValue(sub, value) {
    current[sub] = value;
    boxes[sub].indeterminate = value === null;
    boxes[sub].checked = value === 1;
    boxes[sub].closest("tr").classList.toggle("undecided", value === null);
  }
  function values() {
    return Object.fromEntries(Object.keys(boxes).map((sub) => [sub, valueOf(sub)]));
  }
  function keepDraft() {
    localStorage.setItem(draftKey, JSON.stringify({ based_on: state.based_on, values: values(), undo }));
  }
  function say(text, error) {
    message.textContent = text;
    message.className = error ? "error" : "";
    message.hidden = false;
  }
  function sayWithLink(text, href, label) {
    say(text);
    const link = document.createElement("a");
    link.href = href;
    link.textContent = label;
    message.append(" ", link);
  }
  function define(sub) {
    for (const entry of document.querySelectorAll("#definition [data-def], #definition .hint")) {
      entry.hidden = entry.dataset.def !== sub;
    }
    for (const row of document.querySelectorAll("tr[data-sub]")) {
      row.classList.toggle("current", row.dataset.sub === sub);
    }
  }
  async function keepNote(what) {
    const flagged = document.getElementById("flagged").checked;
    const kept = await send(`/post/${state.n + 1}/note`, { memo: memo.value, flagged });
    if (kept && what === "memo") say("memo kept");
    else if (kept) say(flagged ? "flagged for discussion" : "flag taken off");
  }
  function toggle(sub) {
    define(sub);
    const before = valueOf(sub);
    undo.push([sub, before]);
    setValue(sub, before === 1 ? 0 : 1);
    keepDraft();
  }
  function go(n) {
    if (n >= 1 && n <= state.total) window.location.assign(`/post/${n}`);
  }
  // POST JSON to the screen: its reply, or null once the failure is shown (what was sent is
  // still on the page and in the draft, so pressing Enter again retries).
  async function send(path, payload) {
    try {
      const response = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Smcat-Token": token },
        body: JSON.stringify({ post: state.post, ...payload }),
      });
      const body = await response.json();
      if (response.ok) return body;
      say(`not saved: ${body.error}`, true);
    } catch (error) {
      say(`not saved: the review screen does not answer (${error.message}); your answer is kept ` +
          "here: start it again and press Enter to retry", true);
    }
    return null;
  }
  async function save() {
    if (saving) return;
    const undecided = Object.keys(boxes).filter((sub) => valueOf(sub) === null);
    if (undecided.length) {
      say(`decide disputed subcategory ${undecided.join(", ")} (its key: 1, again: 0) before saving`, true);
      return;
    }
    saving = true;
    const body = await send(`/post/${state.n + 1}`, { values: values(), based_on: state.based_on });
    saving = false;
    if (!body) return;
    localStorage.removeItem(draftKey);
    undo = [];
    state.based_on = body.coded_at;
    document.getElementById("progress").value = body.coded;
    document.getElementById("coded").textContent = body.coded;
    document.getElementById("saved").textContent = "answered just now";
    if (state.n + 1 < state.total) go(state.n + 2);
    else if (body.open) {
      sayWithLink(`saved; that was the last post of the batch, but ${state.total - body.coded} ` +
                  "posts are still unanswered:", `/post/${body.open}`, `go to post ${body.open}`);
    } else say(`saved; that was the last post of the batch (${body.coded} of ${state.total} answered)`);
  }
  // A Chinese input method reports letter keys as "Process": the physical key tells which.
  function keyOf(event) {
    if (event.key !== "Process" && event.key !== "Unidentified") return event.key;
    const code = event.code || "";
    if (event.shiftKey && code === "Digit1") return "!";
    if (code === "Slash") return event.shiftKey ? "?" : "/";
    if (/^Key[A-Z]$/.test(code)) return code.slice(3).toLowerCase();
    if (/^Digit[0-9]$/.test(code)) return code.slice(5);
    if (code === "Enter" || event.keyCode === 13) return "Enter";
    if (event.keyCode >= 65 && event.keyCode <= 90) return String.fromCharCode(event.keyCode + 32);
    if (event.keyCode >= 48 && event.keyCode <= 57) return String.fromCharCode(event.keyCode);
    return event.key;
  }

  for (const [sub, value] of Object.entries(state.values)) setValue(sub, value);
  const draft = JSON.parse(localStorage.getItem(draftKey) || "null");
  if (draft && draft.based_on === state.based_on) {
    for (const [sub, value] of Object.entries(draft.values)) if (boxes[sub]) setValue(sub, value);
    undo = draft.undo || [];
    say("restored changes not saved yet: press Enter to save them");
  }
  for (const box of Object.values(boxes)) {
    box.addEventListener("change", () => toggle(box.dataset.sub));  // redrawn from `current`
  }
  for (const row of document.querySelectorAll("tr[data-sub]")) {
    const marks = document.querySelectorAll("mark");
    row.addEventListener("mouseenter", () => {
      define(row.dataset.sub);
      marks.forEach((m) => m.classList.toggle("focus", m.dataset.subs.split(" ").includes(row.dataset.sub)));
    });
  }
  const memo = document.getElementById("memo");
  memo.addEventListener("change", () => keepNote("memo"));
  memo.addEventListener("keydown", (event) => { if (event.key === "Escape") memo.blur(); });
  document.getElementById("flagged").addEventListener("change", () => keepNote("flag"));
  const showPictures = document.getElementById("show-pictures");
  if (showPictures) {
    showPictures.addEventListener("click", () => {  // only now do the pictures leave the machine
      for (const img of document.querySelectorAll("#pictures img[data-src]")) img.src = img.dataset.src;
      showPictures.hidden = true;
    });
  }
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest && event.target.closest("textarea")) return;
    const key = keyOf(event);
    if (key === "Enter") save();
    else if (key === "ArrowRight") go(state.n + 2);
    else if (key === "ArrowLeft") go(state.n);
    else if (key === "u") {
      if (undo.length) { const [sub, before] = undo.pop(); setValue(sub, before); keepDraft(); }
      else go(state.n);
    } else if (key === "!") {
      const flag = document.getElementById("flagged");
      flag.checked = !flag.checked;
      keepNote("flag");
    } else if (key === "/") memo.focus();
    else if (key === "?") {
      const panel = document.getElementById("codebook");
      panel.open = !panel.open;
    } else if (byKey[key.toLowerCase()]) toggle(byKey[key.toLowerCase()]);
    else return;
    event.preventDefault();
  });
})();
