// Parses every ```mermaid block of the Markdown under the given paths (files
// or folders, walked for *.md; default golden/) with the real Mermaid parser,
// as GitHub and GitLab run it before drawing. Prints FILE:LINE and the
// parser's message for each diagram that fails and exits 1. Also fails:
//   - a flowchart node that is only referenced, never declared with a label
//     (Mermaid accepts it and draws a stray box titled with the id: a
//     template that links to a node it did not emit);
//   - a ```mermaid fence that is never closed;
//   - a golden tree with sites/ whose README.md has no diagram (the topology
//     must be there), or no diagram at all under golden/.
// Before that, a self-test: known-broken diagrams must fail and a known-good
// one must pass, so this check cannot pass everything silently.
//
// Mermaid imports DOMPurify, which needs a `window` when it loads; happy-dom
// gives it one (no browser). Parsing needs no layout, so none is done.
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { Window } from "happy-dom";

const window = new Window();
globalThis.window = window;
globalThis.document = window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

const mermaidVersion = JSON.parse(
  readFileSync(new URL("./node_modules/mermaid/package.json", import.meta.url), "utf8"),
).version;

// Parses one diagram; returns null when it is fine, else { line, message }
// (line within the diagram, 1-based, when the parser says).
async function check(text) {
  let diagram;
  try {
    await mermaid.parse(text);
    diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
  } catch (e) {
    const message = String(e?.message ?? e).trim();
    const line = e?.hash?.loc?.first_line ?? Number(message.match(/on line (\d+)/)?.[1]) ?? null;
    return { line: Number.isFinite(line) ? line : null, message };
  }
  const db = diagram.db;
  if (typeof db.getVertices === "function") {
    // Flowchart: a vertex with no shape was created by a reference alone.
    const vertices = db.getVertices(); // a Map since Mermaid 11, an object before
    const list = vertices instanceof Map ? [...vertices.values()] : Object.values(vertices);
    const undeclared = list.filter((v) => v.type == null).map((v) => v.id);
    if (undeclared.length) {
      return {
        line: null,
        message: `node(s) used but never declared with a label (Mermaid draws them as a bare box): ${undeclared.join(", ")}`,
      };
    }
  }
  return null;
}

// Every ```mermaid (or ~~~mermaid) block: { line (of the opening fence), text }.
function blocks(file, source) {
  const lines = source.split("\n");
  const found = [];
  const problems = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(/^(\s*)(`{3,}|~{3,})\s*mermaid\s*$/);
    if (!open) continue;
    const [, indent, fence] = open;
    const close = new RegExp(`^\\s*${fence[0] === "`" ? "`" : "~"}{${fence.length},}\\s*$`);
    let j = i + 1;
    while (j < lines.length && !close.test(lines[j])) j++;
    if (j >= lines.length) {
      problems.push(`${file}:${i + 1}: a mermaid fence that is never closed`);
      break;
    }
    const body = lines.slice(i + 1, j).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l));
    found.push({ line: i + 1, end: j + 1, text: body.join("\n") + "\n" });
    i = j;
  }
  return { found, problems };
}

function markdownFiles(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? markdownFiles(join(path, e.name)) : e.name.endsWith(".md") ? [join(path, e.name)] : []));
}

let failures = 0;
const fail = (msg) => {
  console.log(`FAIL ${msg}`);
  failures++;
};

// Self-test. Each bad one is a mistake a template can make.
const selfTest = {
  good: [
    "the topology's shape",
    `flowchart LR
  users(["users"])
  subgraph primary["primary: gcp us-east1, cluster c"]
    entry["coderd's load balancer<br/>coder.example.com"]
  end
  subgraph site_end["site end: onprem, cluster lab"]
    end_proxy["workspace proxy x2<br/>end.coder.example.com"]
  end
  users -->|"apps, terminal 443"| end_proxy
  end_proxy -->|"register 443"| entry
`,
  ],
  bad: [
    [
      "a subgraph without its end",
      `flowchart LR
  subgraph site_eu["site eu"]
    eu_proxy["workspace proxy"]
  eu_proxy -->|"register 443"| entry
`,
    ],
    [
      "an unescaped quote in an edge label",
      `flowchart LR
  a["a"] -->|"the "primary" cluster"| b["b"]
`,
    ],
    [
      "parentheses in an unquoted label",
      `flowchart LR
  a[coderd (primary)] --> b["b"]
`,
    ],
    [
      "an edge to a node never declared",
      `flowchart LR
  a["a"] -->|"443"| eu_proxy
`,
    ],
  ],
};
{
  const [name, text] = selfTest.good;
  const err = await check(text);
  if (err) fail(`self-test: the known-good diagram (${name}) did not parse: ${err.message}`);
  for (const [name, text] of selfTest.bad) {
    const err = await check(text);
    if (!err) fail(`self-test: the known-broken diagram (${name}) passed: this check cannot fail`);
    else console.log(`self-test: ${name}: refused (${err.message.split("\n")[0]})`);
  }
}

const args = process.argv.slice(2);
const roots = args.length ? args : ["golden"];
let total = 0;
const perFile = new Map();
for (const root of roots) {
  if (!existsSync(root)) {
    fail(`${root} does not exist`);
    continue;
  }
  for (const file of markdownFiles(root)) {
    const { found, problems } = blocks(file, readFileSync(file, "utf8"));
    problems.forEach((p) => fail(p));
    perFile.set(file, found.length);
    for (const b of found) {
      total++;
      const err = await check(b.text);
      if (!err) continue;
      // The fence is line b.line; the diagram's line n is file line b.line + n
      // (an error at the end of input points at the closing fence).
      const at = err.line ? Math.min(b.line + err.line, b.end) : b.line;
      fail(`${file}:${at}: the mermaid block opened at line ${b.line} does not parse (Mermaid ${mermaidVersion}):\n${err.message.replace(/^/gm, "    ")}`);
    }
  }
}

// With the default root: every golden tree with sites/ shows its topology.
if (!args.length) {
  const trees = readdirSync("golden").filter((t) => existsSync(join("golden", t, "sites")));
  if (!trees.some((t) => t.startsWith("sites-"))) fail("no golden/sites-* tree has sites/: nothing would show the topology diagram");
  for (const t of trees) {
    if (!perFile.get(join("golden", t, "README.md"))) fail(`golden/${t} has sites/ but its README.md has no mermaid diagram`);
  }
}
if (total === 0) fail(`no mermaid diagram under ${roots.join(", ")}`);

const files = [...perFile.values()].filter((n) => n > 0).length;
await window.happyDOM.close();
if (failures) {
  console.log(`check-mermaid: FAILED (${failures} problem(s); ${total} diagram(s) in ${files} file(s), Mermaid ${mermaidVersion})`);
  process.exit(1);
}
console.log(`check-mermaid: ok (${total} diagram(s) in ${files} file(s) parsed by Mermaid ${mermaidVersion}; self-test: ${selfTest.bad.length} broken diagrams refused)`);
