// The review page's keys: a subcategory's key toggles it, Enter saves the answer and goes on,
// arrows move, u undoes. Toggles not saved yet are kept in localStorage, so that a reload or a
// closed tab loses nothing; a saved answer clears them.
(() => {
  const state = JSON.parse(document.getElementById("state").textContent);
  const byKey = Object.fromEntries(Object.entries(state.keys).map(([sub, key]) => [key, sub]));
  const draftKey = `smcat:${state.coder}:${state.post}`;
  const boxes = Object.fromEntries(
    [...document.querySelectorAll("input[data-sub]")].map((box) => [box.dataset.sub, box]));
  const message = document.getElementById("message");
  const undo = [];
  let saving = false;

  function values() {
    return Object.fromEntries(Object.entries(boxes).map(([sub, box]) => [sub, box.checked ? 1 : 0]));
  }
  function keepDraft() {
    localStorage.setItem(draftKey, JSON.stringify({ based_on: state.based_on, values: values() }));
  }
  function say(text, error) {
    message.textContent = text;
    message.className = error ? "error" : "";
    message.hidden = false;
  }
  function toggle(sub) {
    boxes[sub].checked = !boxes[sub].checked;
    undo.push(sub);
    keepDraft();
  }
  function go(n) {
    if (n >= 1 && n <= state.total) window.location.assign(`/post/${n}`);
  }
  async function save() {
    if (saving) return;
    saving = true;
    const response = await fetch(`/post/${state.n + 1}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ post: state.post, values: values(), based_on: state.based_on }),
    });
    const body = await response.json();
    saving = false;
    if (!response.ok) {
      say(body.error, true);
      return;
    }
    localStorage.removeItem(draftKey);
    state.based_on = body.coded_at;
    document.getElementById("progress").value = body.coded;
    document.getElementById("coded").textContent = body.coded;
    document.getElementById("saved").textContent = "answered just now";
    if (state.n + 1 < state.total) go(state.n + 2);
    else say(`saved; that was the last post of the batch (${body.coded} of ${state.total} answered)`);
  }

  const draft = JSON.parse(localStorage.getItem(draftKey) || "null");
  if (draft && draft.based_on === state.based_on) {
    for (const [sub, value] of Object.entries(draft.values)) if (boxes[sub]) boxes[sub].checked = !!value;
    say("restored changes not saved yet: press Enter to save them");
  }
  for (const box of Object.values(boxes)) {
    box.addEventListener("change", () => { undo.push(box.dataset.sub); keepDraft(); });
  }
  for (const row of document.querySelectorAll("tr[data-sub]")) {
    const marks = document.querySelectorAll("mark");
    row.addEventListener("mouseenter", () => marks.forEach((m) =>
      m.classList.toggle("focus", m.dataset.subs.split(" ").includes(row.dataset.sub))));
  }
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    if (key === "Enter") save();
    else if (key === "ArrowRight") go(state.n + 2);
    else if (key === "ArrowLeft") go(state.n);
    else if (key === "u") {
      if (undo.length) { const sub = undo.pop(); boxes[sub].checked = !boxes[sub].checked; keepDraft(); }
      else go(state.n);
    } else if (key === "?") {
      const panel = document.getElementById("codebook");
      panel.open = !panel.open;
    } else if (byKey[key.toLowerCase()]) toggle(byKey[key.toLowerCase()]);
    else return;
    event.preventDefault();
  });
})();
