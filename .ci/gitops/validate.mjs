// Validates the GitOps objects of a `kubectl kustomize` build (stdin) against
// the Flux and Argo CD CRD schemas shipped by @kubernetes-models (pinned in
// package.json / package-lock.json):
//   1. each object's validate(): the CRD's OpenAPI schema (required fields,
//      types, enums, patterns);
//   2. TypeScript's excess-property check of the same object against the
//      package's typed interfaces: unknown fields at any depth fail (the
//      schemas in (1) allow them).
// Objects of other kinds (ConfigMaps) are written to stdout as YAML for
// .ci/k8s_validate.py. Exit 1 on any problem.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import ts from "typescript";
import { parseAllDocuments, stringify } from "yaml";
import { GitRepository, HelmRepository } from "@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1";
import { HelmRelease } from "@kubernetes-models/flux-cd/helm.toolkit.fluxcd.io/v2";
import { Kustomization } from "@kubernetes-models/flux-cd/kustomize.toolkit.fluxcd.io/v1";
import { Application } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1";

const label = process.argv[2] ?? "stdin";
const models = {
  "source.toolkit.fluxcd.io/v1 GitRepository": [GitRepository, "@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1", "IGitRepository"],
  "source.toolkit.fluxcd.io/v1 HelmRepository": [HelmRepository, "@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1", "IHelmRepository"],
  "helm.toolkit.fluxcd.io/v2 HelmRelease": [HelmRelease, "@kubernetes-models/flux-cd/helm.toolkit.fluxcd.io/v2", "IHelmRelease"],
  "kustomize.toolkit.fluxcd.io/v1 Kustomization": [Kustomization, "@kubernetes-models/flux-cd/kustomize.toolkit.fluxcd.io/v1", "IKustomization"],
  "argoproj.io/v1alpha1 Application": [Application, "@kubernetes-models/argo-cd/argoproj.io/v1alpha1", "IApplication"],
};

let failed = false;
const fail = (msg) => {
  console.error(`FAIL ${label}: ${msg}`);
  failed = true;
};

const docs = parseAllDocuments(readFileSync(0, "utf8"));
const typed = [];
const passthrough = [];
for (const doc of docs) {
  if (doc.errors.length) {
    fail(`YAML: ${doc.errors.map(String).join("; ")}`);
    continue;
  }
  const obj = doc.toJS();
  if (obj === null) continue;
  const key = `${obj.apiVersion} ${obj.kind}`;
  const what = `${key} ${obj.metadata?.namespace}/${obj.metadata?.name}`;
  const model = models[key];
  if (!model) {
    if (/fluxcd\.io|argoproj\.io/.test(obj.apiVersion ?? "")) fail(`${what}: no schema for this kind here`);
    else passthrough.push(obj);
    continue;
  }
  try {
    new model[0](obj).validate();
    console.error(`ok   ${what} (CRD schema)`);
  } catch (e) {
    fail(`${what}: ${e.message}`);
  }
  typed.push({ what, obj, module: model[1], iface: model[2] });
}

if (typed.length) {
  // Write one .ts file beside node_modules so module resolution finds the
  // packages; remove it afterwards.
  const here = fileURLToPath(new URL(".", import.meta.url));
  const dir = mkdtempSync(join(here, ".check-"));
  try {
    const lines = [];
    typed.forEach((t, i) => {
      lines.push(`import type { ${t.iface} as T${i} } from "${t.module}";`);
      lines.push(`// ${t.what}\nexport const o${i}: T${i} = ${JSON.stringify(t.obj, null, 2)};`);
    });
    const file = join(dir, "objects.ts");
    writeFileSync(file, lines.join("\n") + "\n");
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
    });
    const diags = ts.getPreEmitDiagnostics(program);
    for (const d of diags) {
      const msg = ts.flattenDiagnosticMessageText(d.messageText, "\n");
      let where = "";
      if (d.file && d.start !== undefined) {
        const { line } = d.file.getLineAndCharacterOfPosition(d.start);
        const src = d.file.text.split("\n");
        // The nearest "// <object>" comment above names the object.
        for (let l = line; l >= 0; l--) if (src[l].startsWith("// ")) { where = src[l].slice(3) + ": "; break; }
        where += `line ${line + 1}: ${src[line].trim()} -- `;
      }
      fail(`${where}${msg}`);
    }
    if (!diags.length) console.error(`ok   ${typed.length} object(s): no unknown fields (TypeScript excess-property check)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const obj of passthrough) process.stdout.write(`---\n${stringify(obj)}`);
process.exit(failed ? 1 : 0);
