// Validate ExternalSecret objects (a JSON array on stdin) against the External
// Secrets Operator CRD's OpenAPI schema (@kubernetes-models/external-secrets,
// pinned in package.json), and reject fields the schema does not have: the
// package's validators accept unknown fields, so every key is looked up in
// the package's type declarations, following nested types. Exit 1 on any
// problem.
import { readFileSync } from "node:fs";
import { ExternalSecret } from "@kubernetes-models/external-secrets/external-secrets.io/v1";

const dir = new URL("./node_modules/@kubernetes-models/external-secrets/external-secrets.io/v1/", import.meta.url);

function declaration(file) {
  const text = readFileSync(new URL(file, dir), "utf8");
  const imports = Object.fromEntries(
    [...text.matchAll(/import \{ (\w+) \} from "\.\/([\w.]+)\.js";/g)].map((m) => [m[1], `${m[2]}.d.ts`]),
  );
  const body = text.match(/export interface \w+(?: extends [\w, ]+)? \{([^}]*)\}/);
  // A type alias (an enum, a free-form map): nothing to look up below it.
  if (!body) return { imports, props: null };
  const props = Object.fromEntries([...body[1].matchAll(/"(\w+)"\??: ([^;]+);/g)].map((m) => [m[1], m[2]]));
  return { imports, props };
}

function unknownFields(obj, file, path, out) {
  const { imports, props } = declaration(file);
  if (!props) return;
  for (const [key, value] of Object.entries(obj)) {
    if (!(key in props)) {
      out.push(`${path}.${key}`);
      continue;
    }
    const array = props[key].match(/^Array<(\w+)>$/);
    const next = imports[array ? array[1] : props[key]];
    if (!next || typeof value !== "object" || value === null) continue;
    for (const item of array ? value : [value]) unknownFields(item, next, `${path}.${key}${array ? "[]" : ""}`, out);
  }
}

const docs = JSON.parse(readFileSync(0, "utf8"));
let bad = 0;
for (const doc of docs) {
  const name = `${doc.kind}/${doc.metadata?.namespace}/${doc.metadata?.name}`;
  const problems = [];
  try {
    new ExternalSecret(doc).validate();
  } catch (e) {
    problems.push(String(e.message ?? e));
  }
  const unknown = [];
  unknownFields(doc, "ExternalSecret.d.ts", "", unknown);
  for (const u of unknown.filter((u) => !u.startsWith(".metadata."))) problems.push(`unknown field ${u.slice(1)}`);
  for (const p of problems) console.log(`FAIL ${name}: ${p}`);
  bad += problems.length;
}
console.log(`${docs.length} ExternalSecrets, ${bad} problems`);
process.exit(bad || docs.length === 0 ? 1 : 0);
