#!/usr/bin/env python3
"""Stand-ins for the CLIs the README's database step calls: terraform, aws,
gcloud, az, kubectl (symlinks to this file; argv[0] picks the tool).

They act on a fake cloud whose state lives in $DBCHECK_STATE (written by
check.py): Terraform outputs, the cloud's secret store, the cluster's
namespaces and secrets. The only real effects are the ones that matter:
`kubectl run` really executes the pod's command (from --overrides) with the
pod's env and this process's stdin, so the README's psql really talks to the
test PostgreSQL; `gcloud sql users set-password` really sets the password.
Every call is logged with its exit code, so check.py can tell which steps
failed. Anything the README might call that is not modelled fails loudly
(exit 99) rather than pretending.
"""
import json
import os
import subprocess
import sys
import uuid

STATE = os.environ["DBCHECK_STATE"]
TOOL = os.path.basename(sys.argv[0])
ARGS = sys.argv[1:]


def path(*parts):
    return os.path.join(STATE, *parts)


def load(name, default):
    try:
        with open(path(name)) as f:
            return json.load(f)
    except FileNotFoundError:
        return default


def save(name, value):
    tmp = path(name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(value, f, indent=1, sort_keys=True)
    os.replace(tmp, path(name))


def log_call(rc):
    with open(path("calls.jsonl"), "a") as f:
        f.write(json.dumps({"tool": TOOL, "args": ARGS, "rc": rc}) + "\n")


def finish(rc, out="", err=""):
    if out:
        sys.stdout.write(out)
    if err:
        sys.stderr.write(err)
    sys.stdout.flush()
    log_call(rc)
    sys.exit(rc)


def unsupported():
    finish(99, err=f"{TOOL} (db-check stand-in): not modelled: {' '.join(ARGS)}\n")


def read_stdin_bytes():
    return sys.stdin.buffer.read()


def read_line_unbuffered():
    """One line from stdin, byte by byte, as a terminal would hand it over
    (never reads past the newline, so a later `read` in the script gets the
    next line)."""
    buf = b""
    while True:
        c = os.read(0, 1)
        if not c or c == b"\n":
            return buf.decode(), bool(c) or bool(buf)
        buf += c


def flag(name, args):
    """Value of --name=V or --name V (None when absent)."""
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a[len(name) + 1:]
    return None


def positional(args, takes_value):
    """Arguments that are not flags (flags in takes_value consume the next
    argument when not written as --flag=value)."""
    out, i = [], 0
    while i < len(args):
        a = args[i]
        if a.startswith("-"):
            if a in takes_value:
                i += 1
        else:
            out.append(a)
        i += 1
    return out


def fail_writes():
    return os.environ.get("DBCHECK_FAIL_WRITES") == "1"


# ---------------------------------------------------------------- terraform
def terraform():
    chdir = [a.split("=", 1)[1] for a in ARGS if a.startswith("-chdir=")]
    if chdir and not os.path.isdir(chdir[0]):
        finish(1, err=f"Error: Invalid -chdir option: chdir {chdir[0]}: no such file or directory\n")
    args = [a for a in ARGS if not a.startswith("-chdir=")]
    if args[:2] == ["output", "-raw"] and len(args) == 3:
        outputs = load("tf_outputs.json", {})
        name = args[2]
        if name not in outputs:
            finish(1, err=f'\nError: Output "{name}" not found\n\nThe output variable requested could not be found in the state file.\n')
        finish(0, out=outputs[name])
    unsupported()


# ---------------------------------------------------------------- aws
def aws():
    if not ARGS or ARGS[0] != "secretsmanager":
        unsupported()
    op = ARGS[1] if len(ARGS) > 1 else ""
    rest = ARGS[2:]
    store = load("cloud_secrets.json", {})
    master = load("aws_master.json", None)

    def not_found(call):
        finish(254, err=f"\nAn error occurred (ResourceNotFoundException) when calling the {call} operation: Secrets Manager can't find the specified secret.\n")

    def secret_string():
        src = flag("--secret-string", rest)
        if src is None:
            unsupported()
        if src.startswith("file://"):
            with open(src[len("file://"):], "rb") as f:
                return f.read().decode()
        return src

    if op == "get-secret-value":
        sid = flag("--secret-id", rest)
        if flag("--query", rest) != "SecretString" or flag("--output", rest) != "text":
            unsupported()
        if master and sid == master["arn"]:
            finish(0, out=master["secret_string"] + "\n")
        if sid in store:
            finish(0, out=store[sid] + "\n")
        not_found("GetSecretValue")
    if op == "describe-secret":
        sid = flag("--secret-id", rest)
        if sid in store or (master and sid == master["arn"]):
            finish(0, out=json.dumps({"Name": sid}) + "\n")
        not_found("DescribeSecret")
    if op == "create-secret":
        name = flag("--name", rest)
        value = secret_string()
        if fail_writes():
            finish(255, err="\nCould not connect to the endpoint URL: \"https://secretsmanager.example.amazonaws.com/\"\n")
        if name in store:
            finish(254, err=f"\nAn error occurred (ResourceExistsException) when calling the CreateSecret operation: The operation failed because the secret {name} already exists.\n")
        store[name] = value
        save("cloud_secrets.json", store)
        finish(0, out=json.dumps({"ARN": f"arn:aws:secretsmanager:eu-west-1:000000000000:secret:{name}", "Name": name, "VersionId": str(uuid.uuid4())}, indent=4) + "\n")
    if op == "put-secret-value":
        name = flag("--secret-id", rest)
        value = secret_string()
        if fail_writes():
            finish(255, err="\nCould not connect to the endpoint URL: \"https://secretsmanager.example.amazonaws.com/\"\n")
        if name not in store:
            not_found("PutSecretValue")
        store[name] = value
        save("cloud_secrets.json", store)
        finish(0, out=json.dumps({"Name": name, "VersionId": str(uuid.uuid4())}, indent=4) + "\n")
    unsupported()


# ---------------------------------------------------------------- gcloud
def gcloud():
    if ARGS[:3] == ["sql", "users", "set-password"]:
        rest = ARGS[3:]
        pos = positional(rest, {"--instance", "--host", "--password", "--project"})
        instance = flag("--instance", rest)
        if len(pos) != 1 or "--prompt-for-password" not in rest:
            unsupported()
        want = load("gcp.json", {}).get("instance")
        if instance != want:
            finish(1, err=f"ERROR: (gcloud.sql.users.set-password) HTTPError 404: The Cloud SQL instance does not exist. (got {instance!r}, the tree's instance is {want!r})\n")
        # getpass without a terminal: warns, prompts on stderr, reads stdin.
        sys.stderr.write("Warning: Password input may be echoed.\nNew Password: ")
        sys.stderr.flush()
        password, got = read_line_unbuffered()
        if not got:
            finish(1, err="\nERROR: (gcloud.sql.users.set-password) EOF when reading a line\n")
        env = dict(os.environ, PGPASSWORD=os.environ["DBCHECK_SUPER_PASSWORD"])
        # Like Cloud SQL's API: the password is set by the service, not by SQL
        # the operator writes.
        r = subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", os.environ["DBCHECK_SUPER_CONNINFO"],
             "-v", f"u={pos[0]}", "-v", f"p={password}"],
            input="ALTER ROLE :\"u\" PASSWORD :'p';\n", env=env, capture_output=True, text=True)
        if r.returncode != 0:
            finish(1, err=f"ERROR: (gcloud.sql.users.set-password) {r.stderr}")
        finish(0, err="Updating Cloud SQL user...done.\n")
    if ARGS[:2] == ["secrets", "describe"]:
        rest = ARGS[2:]
        pos = positional(rest, {"--format", "--project"})
        if len(pos) != 1:
            unsupported()
        if pos[0] in load("cloud_secrets.json", {}):
            finish(0, out=f"projects/p/secrets/{pos[0]}\n")
        finish(1, err=f"ERROR: (gcloud.secrets.describe) NOT_FOUND: Secret [projects/p/secrets/{pos[0]}] not found or has no versions.\n")
    if ARGS[:2] == ["secrets", "create"]:
        rest = ARGS[2:]
        pos = positional(rest, {"--data-file", "--replication-policy", "--project"})
        if len(pos) != 1 or flag("--data-file", rest) != "-":
            unsupported()
        store = load("cloud_secrets.json", {})
        value = read_stdin_bytes().decode()
        if fail_writes():
            finish(1, err="ERROR: (gcloud.secrets.create) There was a problem refreshing your current auth tokens\n")
        if pos[0] in store:
            finish(1, err=f"ERROR: (gcloud.secrets.create) Resource in projects [p] is the subject of a conflict: Secret [{pos[0]}] already exists.\n")
        store[pos[0]] = value
        save("cloud_secrets.json", store)
        finish(0, err=f"Created version [1] of the secret [{pos[0]}].\n")
    unsupported()


# ---------------------------------------------------------------- az
def az():
    if ARGS[:3] == ["keyvault", "secret", "set"]:
        rest = ARGS[3:]
        name, vault, src = flag("--name", rest), flag("--vault-name", rest), flag("--file", rest)
        if not name or not vault or src != "/dev/stdin":
            unsupported()
        value = read_stdin_bytes().decode()
        if fail_writes():
            finish(1, err="ERROR: Please run 'az login' to setup account.\n")
        store = load("cloud_secrets.json", {})
        store[name] = value  # `set` creates or adds a new version
        save("cloud_secrets.json", store)
        finish(0, out=json.dumps({"name": name}) + "\n")
    if ARGS[:3] == ["keyvault", "secret", "show"]:
        rest = ARGS[3:]
        name, vault, query = flag("--name", rest), flag("--vault-name", rest), flag("--query", rest)
        if not name or not vault or query not in ("value", "id") or flag("--output", rest) != "tsv":
            unsupported()
        store = load("cloud_secrets.json", {})
        if name not in store:
            finish(3, err=f"ERROR: (SecretNotFound) A secret with (name/id) {name} was not found in this key vault.\n")
        value = store[name] if query == "value" else f"https://{vault}.vault.azure.net/secrets/{name}/0"
        finish(0, out=value + "\n")
    unsupported()


# ---------------------------------------------------------------- kubectl
def kubectl():
    args = list(ARGS)
    ns = "default"
    rest = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-n", "--namespace") and i + 1 < len(args):
            ns = args[i + 1]
            i += 2
            continue
        if a.startswith("--namespace="):
            ns = a.split("=", 1)[1]
        else:
            rest.append(a)
        i += 1
    cluster = load("cluster.json", {"namespaces": [], "secrets": {}})

    def ns_missing():
        finish(1, err=f'Error from server (NotFound): namespaces "{ns}" not found\n')

    if rest[:1] == ["run"]:
        return kubectl_run(rest[1:], ns, cluster)
    if rest[:3] == ["create", "secret", "generic"]:
        r = rest[3:]
        pos = positional(r, set())
        files = [a.split("=", 1)[1] for a in r if a.startswith("--from-file=")]
        unknown = [a for a in r if a.startswith("-") and not a.startswith("--from-file=")]
        if len(pos) != 1 or unknown or len(files) != 1 or "=" not in files[0]:
            unsupported()
        key, src = files[0].split("=", 1)
        if src != "/dev/stdin":
            unsupported()
        value = read_stdin_bytes().decode()
        if fail_writes():
            finish(1, err="error: failed to create secret Post \"https://cluster.example:443/api/v1/namespaces/%s/secrets\": dial tcp: i/o timeout\n" % ns)
        if ns not in cluster["namespaces"]:
            ns_missing()
        sid = f"{ns}/{pos[0]}"
        if sid in cluster["secrets"]:
            finish(1, err=f'error: failed to create secret secrets "{pos[0]}" already exists\n')
        cluster["secrets"][sid] = {key: value}
        save("cluster.json", cluster)
        finish(0, out=f"secret/{pos[0]} created\n")
    if rest[:2] == ["create", "namespace"] and len(rest) == 3:
        name = rest[2]
        if name in cluster["namespaces"]:
            finish(1, err=f'Error from server (AlreadyExists): namespaces "{name}" already exists\n')
        cluster["namespaces"].append(name)
        save("cluster.json", cluster)
        finish(0, out=f"namespace/{name} created\n")
    if rest[:1] == ["get"] and len(rest) >= 3 and rest[1] in ("secret", "namespace", "ns"):
        kind, name = ("namespace" if rest[1] in ("namespace", "ns") else "secret"), rest[2]
        opts = rest[3:]
        ignore = "--ignore-not-found" in opts
        as_name = flag("-o", opts) == "name" or "-oname" in opts
        if any(o not in ("--ignore-not-found", "-o", "name", "-oname") for o in opts):
            unsupported()
        if kind == "namespace":
            exists = name in cluster["namespaces"]
        else:
            if ns not in cluster["namespaces"] and not ignore:
                ns_missing()
            exists = f"{ns}/{name}" in cluster["secrets"]
        plural = kind + "s"
        if not exists:
            if ignore:
                finish(0)
            finish(1, err=f'Error from server (NotFound): {plural} "{name}" not found\n')
        finish(0, out=(f"{kind}/{name}\n" if as_name else f"NAME\n{name}\n"))
    unsupported()


def kubectl_run(r, ns, cluster):
    pos = positional(r, {"--image", "--restart", "--overrides"})
    overrides = flag("--overrides", r)
    image = flag("--image", r)
    attach = "-i" in r or "--stdin" in r or "-it" in r
    if len(pos) != 1 or overrides is None or image is None or flag("--restart", r) != "Never" or not attach:
        unsupported()
    name = pos[0]
    if ns not in cluster["namespaces"]:
        finish(1, err=f'Error from server (NotFound): namespaces "{ns}" not found\n')
    try:
        pod = json.loads(overrides)
        c = pod["spec"]["containers"][0]
    except (ValueError, KeyError, IndexError) as e:
        finish(1, err=f"error: --overrides is not a pod spec: {e}\n")
    if c.get("image") != image:
        finish(1, err=f"db-check: the overrides' image {c.get('image')!r} differs from --image {image!r}\n")
    if not c.get("stdin"):
        finish(1, err="db-check: the container has no stdin: the piped lines would never reach it\n")
    # The pod's environment: the container's env and a plain PATH, nothing
    # from the operator's shell (no PG* variables, no HOME/.psqlrc).
    home = path("podhome")
    os.makedirs(home, exist_ok=True)
    env = {"PATH": os.environ["DBCHECK_POD_PATH"], "HOME": home}
    for e in c.get("env", []):
        if "value" not in e:
            finish(1, err=f"db-check: env {e.get('name')} is not a plain value\n")
        env[e["name"]] = e["value"]
    rc = subprocess.run(c["command"] + c.get("args", []), env=env, cwd=home).returncode
    out = f'pod "{name}" deleted\n' if "--rm" in r else ""
    if rc != 0:
        finish(rc, out=out, err=f"error: pod {ns}/{name} terminated (Error)\n")
    finish(0, out=out)


if __name__ == "__main__":
    {"terraform": terraform, "aws": aws, "gcloud": gcloud, "az": az, "kubectl": kubectl}.get(TOOL, unsupported)()
