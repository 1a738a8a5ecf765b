// The thought-record page: sends the record to POST /v1/assess as server-sent events and shows
// the answer as cards while it is written. Nothing is stored: the record lives in this page
// until it is closed or downloaded. Text is always set with textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { record: null, result: null, partial: null, shown: null, controller: null,
                feelings: 0 };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

// -- start-up: the server listens at once; /healthz says when the models are ready ----------
async function poll() {
  let data = null;
  try {
    const response = await fetch("/healthz", { cache: "no-store" });
    data = await response.json();
  } catch (err) {
    setStatus("error", "The server cannot be reached. Is `cbt-infer serve` still running?");
    setTimeout(poll, 2000);
    return;
  }
  if (data.limits) $("situation").maxLength = data.limits.max_chars;
  if (data.status === "ok") {
    setStatus("ok", "Ready. Write what happened and press “Reflect on it”.");
  } else if (data.status === "loading") {
    setStatus("loading", "Loading the models… you can start writing meanwhile.");
    setTimeout(poll, 1000);
  } else {
    setStatus("error", `The models could not be loaded: ${data.error || "unknown error"}`);
  }
}

function setStatus(kind, text) {
  $("status").dataset.state = kind;
  $("status-text").textContent = text;
}

// -- the form ---------------------------------------------------------------------------------
function addFeeling(name = "", intensity = 50) {
  const n = ++state.feelings;
  const out = el("output", { for: `intensity-${n}` }, `${intensity}`);
  const range = el("input", { type: "range", id: `intensity-${n}`, min: "0", max: "100",
                              step: "5", value: `${intensity}` });
  range.addEventListener("input", () => { out.textContent = range.value; });
  const remove = el("button", { type: "button", class: "secondary",
                                "aria-label": `Remove feeling ${n}` }, "Remove");
  const row = el("div", { class: "feeling" },
    el("div", {}, el("label", { for: `feeling-${n}` }, "Feeling"),
       el("input", { type: "text", id: `feeling-${n}`, class: "feeling-name",
                     placeholder: "e.g. anxious", maxlength: "60" })),
    el("div", {}, el("label", { for: `intensity-${n}` }, "Intensity"),
       el("div", { class: "intensity" }, range, out)),
    remove);
  row.querySelector(".feeling-name").value = name;
  remove.addEventListener("click", () => { row.remove(); $("add-feeling").focus(); });
  $("feeling-rows").append(row);
  return row;
}

function readRecord() {
  const feelings = [...document.querySelectorAll(".feeling")].map((row) => ({
    name: row.querySelector(".feeling-name").value.trim(),
    intensity: Number(row.querySelector("input[type=range]").value),
  })).filter((f) => f.name);
  return {
    situation: $("situation").value.trim(),
    feelings,
    thoughts: $("thoughts").value.trim(),
    country: $("country").value || null,
    belief_before: Number($("belief-before").value),
  };
}

// -- the answer ---------------------------------------------------------------------------------
function showResources(text) {
  const box = $("resources");
  box.replaceChildren();
  let list = null;
  for (const line of text.split("\n")) {
    if (line.startsWith("- ")) {
      if (!list) box.append(list = el("ul"));
      list.append(el("li", {}, line.slice(2)));
    } else if (line.trim()) {
      list = null;
      box.append(el("p", {}, line));
    }
  }
  box.hidden = false;
}

function card(kind, title, ...body) {
  return el("article", { class: "card", "data-kind": kind }, el("h3", {}, title), ...body);
}

// shown: {acknowledgement, findings: [{title, thought, challenge, yours}], closing} or {raw}
function renderCards(shown, writing) {
  const cards = $("cards");
  cards.replaceChildren();
  if (shown.raw !== undefined) {
    cards.append(card("raw", "The answer", el("p", {}, shown.raw)));
    return;
  }
  if (shown.acknowledgement) {
    cards.append(card("acknowledgement", "What you are going through",
                      el("p", {}, shown.acknowledgement)));
  }
  shown.findings.forEach((f) => {
    const thought = el("blockquote", {}, `“${f.thought}”`);
    const parts = [thought];
    if (f.yours === false) {
      parts.push(el("p", { class: "guess" },
        "This thought is not in what you wrote: it is the model's guess, so take it only if it fits."));
    }
    parts.push(el("p", {}, el("span", { class: "label" }, "Another way to see it: "),
                  f.challenge));
    cards.append(card("distortion", f.title, ...parts));
  });
  if (shown.closing) cards.append(card("closing", "To finish", el("p", {}, shown.closing)));
  const last = cards.lastElementChild;
  if (writing && last) last.classList.add("writing");
}

// the final answer; one the parser could not read whole keeps the cards it could read
// (the last partial event), else it is shown as the raw text
function fromResult(result) {
  const a = result.assessment;
  const seen = state.partial;
  if (!a && seen && seen.findings.length) {
    return { acknowledgement: seen.acknowledgement, closing: seen.closing,
             findings: seen.findings.map((f) => ({ ...f, yours: undefined })) };
  }
  if (!a) return { raw: result.raw };
  return {
    acknowledgement: a.validation,
    closing: a.closing,
    findings: a.findings.map((f, i) => ({
      title: titleOf(f.distortion), thought: f.thought, challenge: f.challenge,
      yours: result.quote_found[i] !== false,
    })),
  };
}

const titles = {};
function titleOf(name) { return titles[name] || name.replace(/_/g, " "); }

function finish(result) {
  state.result = result;
  const answer = $("answer");
  answer.dataset.tier = result.tier;
  if (result.crisis) {
    showResources(result.message);
    $("cards").replaceChildren();
    state.shown = null;
  } else {
    state.shown = fromResult(result);
    renderCards(state.shown, false);
    $("answer-notice").textContent = result.notice;
    $("answer-notice").hidden = !result.notice;
    $("after").hidden = false;
  }
  answer.dataset.state = "done";
  $("answer-title").focus();
}

// -- the request: POST /v1/assess with "stream": true, read as server-sent events ------------
async function submit(event) {
  event.preventDefault();
  const record = readRecord();
  const error = $("situation-error");
  if (!record.situation) {
    error.textContent = "Write what happened first.";
    error.hidden = false;
    $("situation").setAttribute("aria-invalid", "true");
    $("situation").focus();
    return;
  }
  error.hidden = true;
  $("situation").removeAttribute("aria-invalid");
  state.record = record;
  state.result = null;
  state.partial = null;
  resetAnswer();
  const { belief_before: _, ...body } = record;
  state.controller = new AbortController();
  busy(true);
  try {
    const response = await fetch("/v1/assess", {
      method: "POST", signal: state.controller.signal,
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ ...body, stream: true }),
    });
    if (!response.ok) {
      const data = await response.json().catch(() => ({}));
      throw new Error((data.error && data.error.message) || `HTTP ${response.status}`);
    }
    await readEvents(response.body.getReader());
  } catch (err) {
    if (err.name !== "AbortError") showError(err.message);
    else showError("Stopped.");
  } finally {
    busy(false);
  }
}

async function readEvents(reader) {
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data) onEvent(name, JSON.parse(data));
    }
  }
}

function onEvent(name, data) {
  if (name === "screen") {
    $("answer").dataset.tier = data.tier;
    if (data.crisis_resources) showResources(data.crisis_resources);
  } else if (name === "partial") {
    state.partial = data;
    for (const f of data.findings) titles[f.distortion] = f.title;
    renderCards(data, true);
  } else if (name === "result") {
    finish(data);
  } else if (name === "error") {
    showError(data.error);
  }
}

function resetAnswer() {
  const answer = $("answer");
  answer.hidden = false;
  answer.dataset.state = "writing";
  answer.dataset.tier = "";
  $("resources").hidden = true;
  $("cards").replaceChildren();
  $("answer-error").hidden = true;
  $("answer-notice").hidden = true;
  $("after").hidden = true;
}

function showError(message) {
  $("answer-error").textContent = message;
  $("answer-error").hidden = false;
  $("answer").dataset.state = "error";
}

function busy(on) {
  $("submit").disabled = on;
  $("submit").textContent = on ? "Writing…" : "Reflect on it";
  $("stop").hidden = !on;
}

// -- wiring -------------------------------------------------------------------------------
function slider(id) {
  const input = $(id);
  const out = $(`${id}-out`);
  input.addEventListener("input", () => { out.textContent = `${input.value}%`; });
}

document.addEventListener("DOMContentLoaded", () => {
  addFeeling();
  $("add-feeling").addEventListener("click", () => {
    addFeeling().querySelector(".feeling-name").focus();
  });
  $("record").addEventListener("submit", submit);
  $("stop").addEventListener("click", () => state.controller && state.controller.abort());
  $("download-md").addEventListener("click", () => download("md"));
  $("download-json").addEventListener("click", () => download("json"));
  slider("belief-before");
  slider("belief-after");
  poll();
});
