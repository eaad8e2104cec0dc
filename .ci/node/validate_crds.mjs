// Validates CRD objects against the CRDs' OpenAPI schemas from the pinned
// @kubernetes-models packages (required properties, types, enums), and
// rejects fields a schema does not have: the packages' validators accept
// unknown fields, so every key is looked up in the package's type
// declarations, following nested types. Input: JSON files given as arguments
// (one object each; check_charts.py), or, with no arguments, a JSON array on
// stdin (check-observability.sh; an empty array is a failure). Exit 1 on any
// problem.
import { readFileSync } from "node:fs";
import { Certificate, ClusterIssuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1";
import { ExternalSecret } from "@kubernetes-models/external-secrets/external-secrets.io/v1";
import { Gateway, HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1";

const pkg = (path) => new URL(`./node_modules/@kubernetes-models/${path}/`, import.meta.url);
const KINDS = {
  "cert-manager.io/v1 Certificate": { model: Certificate, dir: pkg("cert-manager/cert-manager.io/v1"), root: "Certificate.d.ts" },
  // The CA ClusterIssuer of network.ca.issuer_secret.
  "cert-manager.io/v1 ClusterIssuer": { model: ClusterIssuer, dir: pkg("cert-manager/cert-manager.io/v1"), root: "ClusterIssuer.d.ts" },
  "external-secrets.io/v1 ExternalSecret": {
    model: ExternalSecret,
    dir: pkg("external-secrets/external-secrets.io/v1"),
    root: "ExternalSecret.d.ts",
  },
  "gateway.networking.k8s.io/v1 Gateway": { model: Gateway, dir: pkg("gateway-api/gateway.networking.k8s.io/v1"), root: "Gateway.d.ts" },
  "gateway.networking.k8s.io/v1 HTTPRoute": {
    model: HTTPRoute,
    dir: pkg("gateway-api/gateway.networking.k8s.io/v1"),
    root: "HTTPRoute.d.ts",
  },
};

function declaration(dir, file) {
  const text = readFileSync(new URL(file, dir), "utf8");
  const imports = Object.fromEntries(
    [...text.matchAll(/import \{ (\w+) \} from "\.\/([\w.]+)\.js";/g)].map((m) => [m[1], `${m[2]}.d.ts`]),
  );
  const head = text.match(/export interface \w+(?: extends ([\w, ]+))? \{/);
  // A type alias (an enum, a free-form map): nothing to look up below it.
  if (!head) return { imports, props: null };
  // The interface's body up to its own closing brace: a property's type may
  // itself be braced (a map, `{ [key: string]: string; }`).
  let depth = 1;
  let end = head.index + head[0].length;
  for (; end < text.length && depth > 0; end++) {
    if (text[end] === "{") depth++;
    else if (text[end] === "}") depth--;
  }
  const body = [head[0], head[1], text.slice(head.index + head[0].length, end - 1)];
  // Properties at the body's top level only (a map's `[key: string]` is not one).
  let props = {};
  let level = 0;
  for (const line of body[2].split("\n")) {
    const m = level === 0 && line.match(/^\s*"([\w-]+)"\??: ([^;]+);?$/);
    if (m) props[m[1]] = m[2].trim();
    level += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
  }
  // Inherited properties (e.g. HTTPBackendRef extends BackendRef): from the
  // interfaces it extends that this package declares.
  for (const base of (body[1] ?? "").split(",").map((b) => b.trim())) {
    if (!imports[base]) continue;
    const inherited = declaration(dir, imports[base]);
    props = { ...(inherited.props ?? {}), ...props };
    Object.assign(imports, inherited.imports, imports);
  }
  return { imports, props };
}

function unknownFields(obj, dir, file, path, out) {
  const { imports, props } = declaration(dir, file);
  if (!props) return;
  for (const [key, value] of Object.entries(obj)) {
    if (!(key in props)) {
      out.push(`${path}.${key}`);
      continue;
    }
    const array = props[key].match(/^Array<(\w+)>$/);
    const next = imports[array ? array[1] : props[key]];
    if (!next || typeof value !== "object" || value === null) continue;
    for (const item of array ? value : [value]) unknownFields(item, dir, next, `${path}.${key}${array ? "[]" : ""}`, out);
  }
}

const files = process.argv.slice(2);
const docs = files.length
  ? files.map((f) => ({ where: f, obj: JSON.parse(readFileSync(f, "utf8")) }))
  : JSON.parse(readFileSync(0, "utf8")).map((obj) => ({ where: `${obj.kind}/${obj.metadata?.namespace}/${obj.metadata?.name}`, obj }));
let bad = 0;
for (const { where, obj } of docs) {
  const k = KINDS[`${obj.apiVersion} ${obj.kind}`];
  if (!k) {
    console.log(`FAIL ${where}: no schema for ${obj.apiVersion} ${obj.kind}`);
    bad++;
    continue;
  }
  const problems = [];
  try {
    new k.model(obj).validate();
  } catch (e) {
    problems.push(String(e.message ?? e));
  }
  const unknown = [];
  unknownFields(obj, k.dir, k.root, "", unknown);
  for (const u of unknown.filter((u) => !u.startsWith(".metadata."))) problems.push(`unknown field ${u.slice(1)}`);
  for (const p of problems) console.log(`FAIL ${where}: ${p}`);
  bad += problems.length;
}
console.log(`${docs.length} CRD objects, ${bad} problems`);
process.exit(bad || docs.length === 0 ? 1 : 0);
