// The thought record's downloads, Markdown or JSON: built in the page from what it shows
// (app.js's `state`); the server keeps nothing.
"use strict";

function exported() {
  const r = state.result;
  return {
    date: new Date().toISOString(),
    situation: state.record.situation,
    feelings: state.record.feelings,
    thoughts: state.record.thoughts,
    belief_before: state.record.belief_before,
    belief_after: Number($("belief-after").value),
    tier: r.tier,
    crisis_resources: r.crisis_resources,
    reflection: state.shown,
    notice: r.notice,
  };
}

function markdown(data) {
  const lines = ["# Thought record", "", `_${data.date}_`, "", "## Situation", "",
                 data.situation, ""];
  if (data.feelings.length) {
    lines.push("## Feelings", "", ...data.feelings.map((f) => `- ${f.name}: ${f.intensity}/100`), "");
  }
  if (data.thoughts) lines.push("## Automatic thoughts", "", data.thoughts, "");
  lines.push(`Belief in the thought: ${data.belief_before}% before, ${data.belief_after}% after.`, "");
  if (data.crisis_resources) lines.push("## Support", "", data.crisis_resources, "");
  lines.push("## Reflection", "");
  const s = data.reflection;
  if (s.raw !== undefined) {
    lines.push(s.raw, "");
  } else {
    lines.push(s.acknowledgement, "");
    for (const f of s.findings) {
      lines.push(`### ${f.title}`, "", `> “${f.thought}”`, "", `Another way to see it: ${f.challenge}`, "");
    }
    lines.push(s.closing, "");
  }
  lines.push(`_${data.notice}_`, "");
  return lines.join("\n");
}

function download(kind) {
  const data = exported();
  const text = kind === "json" ? JSON.stringify(data, null, 2) : markdown(data);
  const type = kind === "json" ? "application/json" : "text/markdown";
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = el("a", { href: url, download: `thought-record-${data.date.slice(0, 10)}.${kind === "json" ? "json" : "md"}` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
