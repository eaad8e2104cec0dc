// Validates CRD objects (JSON files given as arguments, one object each)
// against the CRDs' OpenAPI schemas from @kubernetes-models (required
// properties, types, enums). The models do not reject unknown fields:
// check_charts.py checks the Certificate's spec keys by hand.
import fs from "node:fs";
import { Certificate } from "@kubernetes-models/cert-manager/cert-manager.io/v1";
import { Gateway, HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1";

const MODELS = {
  "cert-manager.io/v1 Certificate": Certificate,
  "gateway.networking.k8s.io/v1 Gateway": Gateway,
  "gateway.networking.k8s.io/v1 HTTPRoute": HTTPRoute,
};
let bad = 0;
for (const file of process.argv.slice(2)) {
  // check_charts.py passes each object as JSON (no YAML parser here).
  const obj = JSON.parse(fs.readFileSync(file, "utf8"));
  const model = MODELS[`${obj.apiVersion} ${obj.kind}`];
  if (!model) {
    console.log(`FAIL ${file}: no schema for ${obj.apiVersion} ${obj.kind}`);
    bad++;
    continue;
  }
  try {
    new model(obj).validate();
  } catch (e) {
    console.log(`FAIL ${file}: ${e.message}`);
    bad++;
  }
}
process.exit(bad ? 1 : 0);
