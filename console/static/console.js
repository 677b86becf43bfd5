// The Ask page's stream: POST the question, show deltas as they come, then the answer the
// server rendered. Without JavaScript the form posts normally and the page shows the answer.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.id !== "ask-form") return;
  event.preventDefault();
  const draft = document.getElementById("draft");
  const result = document.getElementById("result");
  const status = document.getElementById("ask-status");
  draft.textContent = ""; result.innerHTML = ""; status.textContent = "Asking…";
  const body = new URLSearchParams(new FormData(form));
  const response = await fetch("/console/ask/stream", {
    method: "POST", body, headers: { "X-CSRF-Token": form.elements.csrf.value },
  });
  if (!response.ok) {
    // The error page, as the server rendered it: its message only.
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const message = doc.querySelector("main [role=alert]");
    result.innerHTML = message ? message.outerHTML : "";
    status.textContent = "The question was refused.";
    return;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
      const kind = (frame.match(/^event: (.*)$/m) || [])[1];
      const data = JSON.parse((frame.match(/^data: (.*)$/m) || [, "null"])[1]);
      if (kind === "delta") draft.textContent += data.text;
      else if (kind === "retract") { draft.textContent = ""; status.textContent = "A weaker tier's text was withdrawn: " + data.reason; }
      else if (kind === "answer") { draft.textContent = ""; result.innerHTML = data.html; status.textContent = "Answered."; if (window.htmx) htmx.process(result); }
      else if (kind === "error") { status.textContent = "Failed: " + data.message; }
    }
  }
});
