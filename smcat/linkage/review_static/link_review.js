// The link review page's keys: m keeps "match", n keeps "non-match" (then the next pair),
// arrows or j/k move between pairs.
(() => {
  const token = document.querySelector("meta[name=smcat-token]").content;
  const n = Number(document.body.dataset.n);
  const total = Number(document.body.dataset.total);
  const message = document.getElementById("message");
  function go(to) {
    if (to >= 1 && to <= total) window.location.href = `/pair/${to}`;
  }
  async function decide(decision) {
    const reply = await fetch(`/pair/${n}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Smcat-Token": token },
      body: JSON.stringify({ decision }),
    });
    const body = await reply.json();
    message.hidden = false;
    if (!reply.ok) {
      message.textContent = body.error;
      message.className = "error";
      return;
    }
    message.textContent = `kept: ${decision} (${body.decided} of ${total} decided)`;
    if (n < total) go(n + 1);
  }
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "m") decide("match");
    else if (event.key === "n") decide("non-match");
    else if (event.key === "ArrowRight" || event.key === "j") go(n + 1);
    else if (event.key === "ArrowLeft" || event.key === "k") go(n - 1);
  });
})();
