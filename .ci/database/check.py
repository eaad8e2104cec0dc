#!/usr/bin/env python3
"""The README's database step, run as written against a real PostgreSQL 16.

For each tree: the fenced ```sh block of the "Database roles ..." step is
taken verbatim from README.md and run with `bash` (no terminal, its own
session, stdin a pipe carrying what the operator would type), with stand-ins
for terraform/aws/gcloud/az/kubectl first on PATH (shims/shim.py). The
database is a PostgreSQL 16 server on a loopback address, port 5432, TLS on,
scram passwords, only `hostssl` connections, shaped like the tree's cloud: the
admin is not a superuser but what the cloud gives (see shape_sql), and the
`coder` database belongs to whom the cloud's Terraform resource makes it
belong.

Scenarios per tree, each from a fresh copy of the cluster:
  first     the step once: exit 0, every write succeeded, and what the
            consumers read (coderd's CODER_PG_CONNECTION_URL secret, the
            exporters' PGPASSWORD secret; through the ExternalSecret objects
            where the tree has them) really logs in over TLS: Coder's role can
            CREATE TABLE in public and is not the admin, the exporter role can
            read the pg_monitor views and cannot write; no password reaches the
            server's statement log; nothing is left in the tree or $HOME.
  rerun     the step again on that state: either it succeeds and every secret
            still logs in, or it fails before writing anything (stores and
            role passwords unchanged). A zero exit with a failed write fails.
  bad-admin the admin password is wrong: non-zero exit, no secret written, no
            role created.
  recover   the secret store refuses writes: non-zero exit; then the store
            works again and the step, run again, must succeed and log in.
"""
import argparse
import glob
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
# libyaml's loader where PyYAML has it: parsing the trees is most of the
# harness's own time.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SHIMS = os.path.join(HERE, "shims")
STEP_TITLE = "Database roles and the database URL secret"
CLOUDS = ("aws", "gcp", "azure")
# Tools whose failure must make the step fail (queries such as `kubectl get`
# or `aws secretsmanager describe-secret` may fail by design).
WRITES = {
    ("kubectl", "run"), ("kubectl", "create"), ("aws", "create-secret"), ("aws", "put-secret-value"),
    ("gcloud", "set-password"), ("gcloud", "create"), ("az", "set"),
}


def die(msg):
    sys.exit(f"check-database: {msg}")


# ------------------------------------------------------------------ server
class Server:
    """One PostgreSQL 16 cluster, initialised once; every scenario starts
    from a copy of the pristine data directory."""

    def __init__(self, pg_bin, work):
        self.bin = pg_bin
        self.work = work
        self.password = secrets.token_hex(16)
        self.host = None
        self.log = os.path.join(work, "server.log")
        self.pristine = os.path.join(work, "pristine")
        self.data = os.path.join(work, "data")
        self.as_nobody = os.geteuid() == 0  # postgres refuses to run as root
        v = subprocess.run([os.path.join(pg_bin, "postgres"), "-V"], capture_output=True, text=True).stdout
        m = re.search(r"\(PostgreSQL\) (\d+)", v)
        if not m:
            die(f"{pg_bin}/postgres -V: {v!r}")
        self.major = int(m.group(1))

    def _run(self, argv, **kw):
        if self.as_nobody:
            argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + argv
        return subprocess.run(argv, **kw)

    def _own(self, p):
        if self.as_nobody:
            shutil.chown(p, "nobody", "nogroup")

    def init(self):
        os.chmod(self.work, 0o755)
        os.makedirs(self.pristine)
        self._own(self.pristine)
        pwfile = os.path.join(self.work, "pw")
        with open(pwfile, "w") as f:
            f.write(self.password + "\n")
        self._own(pwfile)
        r = self._run([os.path.join(self.bin, "initdb"), "-D", self.pristine, "-U", "pgsuper", "--pwfile", pwfile,
                       "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "-N"],
                      capture_output=True, text=True)
        os.unlink(pwfile)
        if r.returncode != 0:
            die(f"initdb failed:\n{r.stdout}{r.stderr}")
        key, crt = os.path.join(self.pristine, "server.key"), os.path.join(self.pristine, "server.crt")
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                            "-subj", "/CN=coder-gen-db-check", "-days", "2"], capture_output=True, text=True)
        if r.returncode != 0:
            die(f"openssl failed: {r.stderr}")
        for p in (key, crt):
            self._own(p)
        os.chmod(key, 0o600)
        with open(os.path.join(self.pristine, "postgresql.conf"), "a") as f:
            f.write("\n# coder-gen db-check: like the managed services (TLS only, scram), logging every statement\n"
                    "listen_addresses = '@HOST@'\nport = 5432\nunix_socket_directories = ''\n"
                    "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
                    "password_encryption = 'scram-sha-256'\nlog_statement = 'all'\n"
                    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 50\n")
        # TLS only, as rds.force_ssl / ENCRYPTED_ONLY / require_secure_transport.
        with open(os.path.join(self.pristine, "pg_hba.conf"), "w") as f:
            f.write("hostssl all all 127.0.0.0/8 scram-sha-256\n")
        log = open(self.log, "a")
        log.close()
        self._own(self.log)

    def start(self):
        """Fresh cluster from the pristine copy, on 127.0.0.N:5432 (the
        README's URL and psql use port 5432; a loopback address of its own
        avoids any other server on 127.0.0.1:5432)."""
        self.stop()
        if os.path.exists(self.data):
            shutil.rmtree(self.data)
        subprocess.run(["cp", "-a", self.pristine, self.data], check=True)
        conf = os.path.join(self.data, "postgresql.conf")
        text = open(conf).read()
        candidates = self._hosts()
        for host in candidates:
            with open(conf, "w") as f:
                f.write(re.sub(r"listen_addresses = '[^']*'", f"listen_addresses = '{host}'", text.replace("@HOST@", host)))
            r = self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l", self.log, "-w", "-t", "30", "start"],
                          capture_output=True, text=True)
            if r.returncode == 0:
                self.host = host
                return
        die(f"the server did not start on any of {candidates}:\n{r.stdout}{r.stderr}\n{self.log_tail()}")

    def _hosts(self):
        if self.host:
            return [self.host] + [f"127.0.0.{n}" for n in random.sample(range(2, 250), 3)]
        return [f"127.0.0.{n}" for n in random.sample(range(2, 250), 4)]

    def stop(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w", "stop"],
                      capture_output=True, text=True)

    def log_tail(self, n=20):
        try:
            return "".join(open(self.log, errors="replace").readlines()[-n:])
        except OSError:
            return ""

    def log_size(self):
        return os.path.getsize(self.log)

    def log_since(self, offset):
        with open(self.log, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def conninfo(self, user="pgsuper", db="postgres"):
        return f"host={self.host} port=5432 user={user} dbname={db} sslmode=require"

    def sql(self, sql, db="postgres", check=True):
        r = psql(self.conninfo(db=db), self.password, sql)
        if check and r.returncode != 0:
            die(f"superuser SQL failed: {sql}\n{r.stderr}")
        return r.stdout


def psql(conninfo, password, sql, timeout=30):
    env = {"PATH": os.environ["PATH"], "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "10", "LANG": "C.UTF-8"}
    return subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo], input=sql,
                          env=env, capture_output=True, text=True, timeout=timeout)


# ------------------------------------------------------------------ clouds
# What each cloud's admin is (docs cited in .ci/check-database.sh.pending):
#   gcp   Cloud SQL's `postgres`: LOGIN CREATEROLE CREATEDB, member of
#         cloudsqlsuperuser (itself CREATEROLE CREATEDB, member of
#         pg_monitor); no password until `gcloud sql users set-password`.
#         google_sql_database creates the database owned by cloudsqlsuperuser.
#   aws   the master user (aws_db_instance.username): LOGIN CREATEROLE
#         CREATEDB, member of rds_superuser, which RDS lets grant pg_monitor.
#         db_name creates the database owned by the master user.
#   azure administrator_login: LOGIN CREATEROLE CREATEDB REPLICATION, member
#         of azure_pg_admin and pg_monitor (Azure's "improved control for
#         azure_pg_admin" lets it grant pg_monitor on PostgreSQL 16+).
#         azurerm_postgresql_flexible_server_database is owned by the admin.
# With strict=True no admin holds ADMIN OPTION on pg_monitor: stock
# PostgreSQL 16 then refuses `GRANT pg_monitor` to a CREATEROLE non-superuser.
def shape_sql(cloud, admin, admin_password, db, strict):
    adm = "" if strict else " WITH ADMIN OPTION"
    a = '"' + admin.replace('"', '""') + '"'
    pw = "PASSWORD '" + admin_password.replace("'", "''") + "'" if admin_password else ""
    if cloud == "gcp":
        return (f"CREATE ROLE cloudsqlsuperuser NOLOGIN CREATEROLE CREATEDB;\n"
                f"GRANT pg_monitor TO cloudsqlsuperuser{adm};\n"
                f"CREATE ROLE {a} LOGIN CREATEROLE CREATEDB IN ROLE cloudsqlsuperuser;\n"
                f"CREATE DATABASE \"{db}\" OWNER cloudsqlsuperuser;\n")
    if cloud == "aws":
        return (f"CREATE ROLE rds_superuser NOLOGIN;\n"
                f"GRANT pg_monitor, pg_signal_backend TO rds_superuser{adm};\n"
                f"CREATE ROLE {a} LOGIN CREATEROLE CREATEDB {pw} IN ROLE rds_superuser;\n"
                f"CREATE DATABASE \"{db}\" OWNER {a};\n")
    if cloud == "azure":
        return (f"CREATE ROLE azure_pg_admin NOLOGIN REPLICATION;\n"
                f"GRANT pg_monitor TO azure_pg_admin{adm};\n"
                f"CREATE ROLE {a} LOGIN CREATEROLE CREATEDB REPLICATION {pw} IN ROLE azure_pg_admin;\n"
                f"GRANT pg_monitor TO {a};\n"
                f"CREATE DATABASE \"{db}\" OWNER {a};\n")
    raise ValueError(cloud)


ADMIN_GROUP = {"gcp": "cloudsqlsuperuser", "aws": "rds_superuser", "azure": "azure_pg_admin"}
AZURE_VAULT = "dbcheck-kv"
KINDS = [(c, e, m) for c in CLOUDS for e in ("no-exporter", "exporter") for m in ("kubectl", "external-secrets")]


# ------------------------------------------------------------------ trees
def extract_block(readme):
    """The ```sh block right after the database step's title, verbatim
    (less the list item's 3-space indent)."""
    lines = readme.split("\n")
    start = next((i for i, l in enumerate(lines) if STEP_TITLE in l), None)
    if start is None:
        return None
    i = start + 1
    while i < len(lines) and lines[i].strip() != "```sh":
        if re.match(r"^\d+\. ", lines[i]):
            die("the database step has no ```sh block")
        i += 1
    indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
    body = []
    for l in lines[i + 1:]:
        if l.strip() == "```":
            return "\n".join(body) + "\n"
        body.append(l[len(indent):] if l.startswith(indent) else l)
    die("the database step's ```sh block is not closed")


def yaml_docs(pattern):
    for p in sorted(glob.glob(pattern, recursive=True)):
        with open(p) as f:
            for d in yaml.load_all(f, Loader=LOADER):
                if isinstance(d, dict):
                    yield p, d


def tf_text(d):
    return "\n".join(open(p).read() for p in sorted(glob.glob(os.path.join(d, "*.tf"))))


def resource_attr(text, rtype, attr):
    m = re.search(r'resource "' + rtype + r'" "[^"]+" \{(.*?)\n\}', text, re.S)
    if not m:
        return None
    a = re.search(r'^\s*' + attr + r'\s*=\s*"([^"]+)"', m.group(1), re.M)
    return a.group(1) if a else None


def covers(kind, scenario):
    """With one tree per kind, which kinds run which scenario: every kind the
    first run and the rerun; the wrong admin password once per cloud (it
    depends on the cloud's admin only); the failed store once per cloud and
    store, on the tree that writes two secrets."""
    _, exporter, _ = kind
    if scenario == "bad-admin":
        return kind[1:] == ("no-exporter", "kubectl")
    if scenario == "recover":
        return exporter == "exporter"
    return True


def tree_kind(path):
    """Tree.kind() from a look at the files, without parsing them (the
    selection must stay cheap; Tree checks it once parsed)."""
    cloud = next((c for c in CLOUDS if os.path.isdir(os.path.join(path, "terraform", c))), None)
    exporter = os.path.exists(os.path.join(path, "helm", "coder-observability", "values.yaml"))
    external = any("kind: ExternalSecret" in open(f).read()
                   for f in glob.glob(os.path.join(path, "kustomize", "**", "*.yaml"), recursive=True))
    return (cloud, "exporter" if exporter else "no-exporter", "external-secrets" if external else "kubectl")


class Tree:
    def __init__(self, path):
        self.path = os.path.abspath(path)
        self.name = os.path.basename(self.path.rstrip("/"))
        readme = open(os.path.join(self.path, "README.md")).read()
        self.block = extract_block(readme)
        clouds = [c for c in CLOUDS if os.path.isdir(os.path.join(self.path, "terraform", c))]
        if len(clouds) != 1:
            die(f"{self.name}: expected one of terraform/{{{','.join(CLOUDS)}}}, found {clouds}")
        self.cloud = clouds[0]
        tf = tf_text(os.path.join(self.path, "terraform", self.cloud))
        self.outputs = re.findall(r'^output "([^"]+)"', tf, re.M)
        if self.cloud == "aws":
            self.admin = resource_attr(tf, "aws_db_instance", "username")
            self.db = resource_attr(tf, "aws_db_instance", "db_name")
            self.instance = resource_attr(tf, "aws_db_instance", "identifier")
        elif self.cloud == "gcp":
            self.admin = "postgres"  # Cloud SQL's built-in admin
            self.db = resource_attr(tf, "google_sql_database", "name")
            self.instance = resource_attr(tf, "google_sql_database_instance", "name")
        else:
            m = re.search(r'variable "administrator_login" \{.*?default\s*=\s*"([^"]+)"', tf, re.S)
            self.admin = m.group(1) if m else None
            m = re.search(r'variable "database_admin_secret_name" \{.*?default\s*=\s*"([^"]+)"', tf, re.S)
            self.admin_secret = m.group(1) if m else None
            if not self.admin_secret:
                die(f"{self.name}: no default for variable database_admin_secret_name in terraform/azure")
            self.db = resource_attr(tf, "azurerm_postgresql_flexible_server_database", "name")
            self.instance = resource_attr(tf, "azurerm_postgresql_flexible_server", "name")
        m = re.search(r'^\s*(?:engine_version|database_version|version)\s*=\s*"(?:POSTGRES_)?(\d+)"', tf, re.M)
        self.pg_major = int(m.group(1)) if m else None
        if not (self.admin and self.db and self.instance):
            die(f"{self.name}: could not read admin/database/instance from terraform/{self.cloud}")
        # Namespaces the earlier `kubectl apply -k kustomize` step created.
        self.namespaces = sorted({d["metadata"]["name"] for _, d in yaml_docs(os.path.join(self.path, "kustomize", "**", "*.yaml"))
                                  if d.get("kind") == "Namespace"})
        # ExternalSecret objects: (namespace, target secret) -> {key: remote key}.
        self.external = {}
        for _, d in yaml_docs(os.path.join(self.path, "kustomize", "**", "*.yaml")):
            if d.get("kind") != "ExternalSecret":
                continue
            target = (d["spec"].get("target") or {}).get("name") or d["metadata"]["name"]
            self.external[(d["metadata"].get("namespace", "default"), target)] = {
                x["secretKey"]: x["remoteRef"]["key"] for x in d["spec"].get("data", [])}

        def helm_ns(release):
            m = re.search(r"helm upgrade --install " + re.escape(release) + r" \S+ --namespace (\S+)", readme)
            return m.group(1) if m else None

        # What coderd reads: CODER_PG_CONNECTION_URL from a secret.
        values = yaml.load(open(os.path.join(self.path, "helm", "coder", "values.yaml")), Loader=LOADER)
        ref = next(e["valueFrom"]["secretKeyRef"] for e in values["coder"]["env"] if e["name"] == "CODER_PG_CONNECTION_URL")
        self.coderd = {"namespace": helm_ns("coder"), "secret": ref["name"], "key": ref["key"]}
        # What the Postgres exporters read (coder-observability chart).
        self.exporter = None
        obs = os.path.join(self.path, "helm", "coder-observability", "values.yaml")
        if os.path.exists(obs):
            g = yaml.load(open(obs), Loader=LOADER)["global"]["postgres"]
            self.exporter = {"namespace": helm_ns("coder-observability"), "secret": g["mountSecret"], "key": "PGPASSWORD",
                             "username": g["username"], "database": g["database"], "sslmode": g["sslmode"],
                             "port": int(g.get("port", 5432))}

    def kind(self):
        """What changes the step's shape: the cloud, the exporter role, the store."""
        return (self.cloud, "exporter" if self.exporter else "no-exporter", "external-secrets" if self.external else "kubectl")

    def listing(self):
        out = []
        for root, _, files in os.walk(self.path):
            out += [os.path.join(root, f) for f in files]
        return sorted(out)


# ------------------------------------------------------------------ runs
class Run:
    def __init__(self, rc, output, calls):
        self.rc, self.output, self.calls = rc, output, calls

    def failed_writes(self):
        bad = []
        for c in self.calls:
            verb = next((a for a in c["args"] if a in {w[1] for w in WRITES if w[0] == c["tool"]}), None)
            if verb and (c["tool"], verb) in WRITES and c["rc"] != 0:
                bad.append(f"{c['tool']} {verb} (exit {c['rc']})")
        return bad


class Cloud:
    """The fake cloud and cluster of one scenario: server shaped like the
    tree's cloud, Terraform outputs, stores, namespaces."""

    def __init__(self, server, tree, work, strict):
        self.server, self.tree = server, tree
        self.state = tempfile.mkdtemp(prefix="state-", dir=work)
        self.home = os.path.join(self.state, "home")
        os.makedirs(self.home)
        self.admin_password = secrets.token_hex(20)
        server.start()
        server.sql(shape_sql(tree.cloud, tree.admin, None if tree.cloud == "gcp" else self.admin_password, tree.db, strict))
        outputs = {}
        for name in tree.outputs:
            outputs[name] = f"db-check-unused-output-{name}"
        host_output = {"aws": "database_address", "gcp": "database_private_ip", "azure": "database_fqdn"}[tree.cloud]
        outputs[host_output] = server.host
        if tree.cloud == "aws":
            outputs["database_master_user_secret_arn"] = f"arn:aws:secretsmanager:eu-west-1:000000000000:secret:rds!db-{tree.instance}"
            self.write("aws_master.json", {"arn": outputs["database_master_user_secret_arn"],
                                           "secret_string": json.dumps({"username": tree.admin, "password": self.admin_password})})
        if tree.cloud == "gcp":
            outputs["database_instance"] = tree.instance
            self.write("gcp.json", {"instance": tree.instance})
        secrets_store = {}
        if tree.cloud == "azure":
            outputs["database_administrator_login"] = tree.admin
            # The administrator password in Key Vault, where Terraform reads it.
            outputs["database_admin_key_vault_name"] = AZURE_VAULT
            outputs["database_admin_secret_name"] = tree.admin_secret
            secrets_store[tree.admin_secret] = self.admin_password
        self.write("tf_outputs.json", {k: v for k, v in outputs.items() if k in tree.outputs})
        self.write("cluster.json", {"namespaces": list(tree.namespaces), "secrets": {}})
        self.write("cloud_secrets.json", secrets_store)

    def write(self, name, value):
        with open(os.path.join(self.state, name), "w") as f:
            json.dump(value, f)

    def read(self, name):
        with open(os.path.join(self.state, name)) as f:
            return json.load(f)

    def stores(self):
        return {"cluster": self.read("cluster.json"), "cloud": self.read("cloud_secrets.json")}

    def roles(self):
        """Roles and their password hashes, less the admin's (setting the
        admin's password, as the GCP step does with gcloud, writes nothing
        anyone keeps)."""
        return self.server.sql("SELECT rolname || ' ' || coalesce(rolpassword, '-') FROM pg_authid "
                               f"WHERE rolname !~ '^pg_' AND rolname NOT IN ('pgsuper', '{self.tree.admin}') ORDER BY 1;")

    def typed(self, wrong=False):
        """What the operator types at the step's prompts."""
        if self.tree.cloud == "gcp":  # the new admin password, then again at `read`
            return f"{self.admin_password}\n{'not-the-password' if wrong else self.admin_password}\n"
        if self.tree.cloud == "azure":  # read from Key Vault: nothing typed
            if wrong:
                store = self.read("cloud_secrets.json")
                store[self.tree.admin_secret] = "not-the-password"
                self.write("cloud_secrets.json", store)
            return ""
        if wrong:
            m = self.read("aws_master.json")
            m["secret_string"] = json.dumps({"username": self.tree.admin, "password": "not-the-password"})
            self.write("aws_master.json", m)
        return ""

    def run(self, block, stdin, fail_writes=False):
        path = os.path.join(self.state, "block.sh")
        with open(path, "w") as f:
            f.write(block)
        calls = os.path.join(self.state, "calls.jsonl")
        if os.path.exists(calls):
            os.unlink(calls)
        psql_dir = os.path.dirname(shutil.which("psql"))
        base_path = os.environ["PATH"]
        env = {
            # The stand-ins run on this Python (a pyenv shim would cost
            # 0.3 s a call); the step's own commands come from PATH.
            "PATH": SHIMS + os.pathsep + os.path.dirname(sys.executable) + os.pathsep + base_path,
            "HOME": self.home,
            "LANG": "C.UTF-8",
            "DBCHECK_STATE": self.state,
            "DBCHECK_POD_PATH": psql_dir + ":/usr/bin:/bin",
            "DBCHECK_SUPER_PASSWORD": self.server.password,
            "DBCHECK_SUPER_CONNINFO": self.server.conninfo(),
            # The operator's Key Vault for the External Secrets store (the
            # README's `$KEY_VAULT`).
            "KEY_VAULT": AZURE_VAULT,
        }
        if fail_writes:
            env["DBCHECK_FAIL_WRITES"] = "1"
        # Own session: no controlling terminal, so psql's \password and the
        # prompts read stdin as they would in a pod without a TTY.
        p = subprocess.Popen(["bash", path], cwd=self.tree.path, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            out, _ = p.communicate(stdin, timeout=120)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)  # the step and its pod's psql
            out, _ = p.communicate()
            rc, out = 124, out + "\n[timed out after 120 s]"
        log = []
        if os.path.exists(calls):
            log = [json.loads(l) for l in open(calls)]
        return Run(rc, out, log)

    def secret(self, consumer):
        """The value the consumer reads: through its ExternalSecret from the
        cloud's store, or the Kubernetes secret."""
        ns, name, key = consumer["namespace"], consumer["secret"], consumer["key"]
        es = self.tree.external.get((ns, name))
        if es is not None:
            remote = es.get(key)
            if remote is None:
                return None, f"ExternalSecret {ns}/{name} has no key {key}"
            v = self.read("cloud_secrets.json").get(remote)
            return v, f"{self.tree.cloud} secret {remote} (ExternalSecret {ns}/{name})"
        v = self.read("cluster.json")["secrets"].get(f"{ns}/{name}", {}).get(key)
        return v, f"secret {ns}/{name} key {key}"


# ------------------------------------------------------------------ checks
def check_consumers(cloud, problems, leak_from=None):
    """What coderd and the exporters read logs in and can do their job."""
    tree, server = cloud.tree, cloud.server
    url, where = cloud.secret(tree.coderd)
    passwords = []
    if url is None:
        problems.append(f"coderd's database URL is missing ({where})")
    else:
        u = urllib.parse.urlsplit(url)
        q = urllib.parse.parse_qs(u.query)
        user, pw = urllib.parse.unquote(u.username or ""), urllib.parse.unquote(u.password or "")
        passwords.append(pw)
        if u.scheme not in ("postgres", "postgresql") or u.hostname != server.host or (u.port or 5432) != 5432 \
                or u.path.lstrip("/") != tree.db or q.get("sslmode") != ["require"]:
            problems.append(f"coderd's URL ({where}) is not postgres://USER:PASSWORD@{server.host}:5432/{tree.db}?sslmode=require")
        r = psql(f"host={u.hostname} port={u.port or 5432} user={user} dbname={u.path.lstrip('/')} sslmode=require", pw,
                 "SELECT current_user, (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), "
                 "rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls, "
                 f"pg_has_role(current_user, '{ADMIN_GROUP[tree.cloud]}', 'MEMBER') "
                 "FROM pg_roles WHERE rolname = current_user;\n"
                 "CREATE TABLE public.db_check_probe (id bigint PRIMARY KEY);\n"
                 "INSERT INTO public.db_check_probe VALUES (1);\nDROP TABLE public.db_check_probe;\n")
        if r.returncode != 0:
            problems.append(f"coderd's URL ({where}) does not log in / cannot CREATE TABLE in public: {r.stderr.strip()}")
        else:
            who, ssl, powers, admin_group = r.stdout.strip().split("\n")[0].split("|")
            if who == tree.admin or powers == "t" or admin_group == "t":
                problems.append(f"coderd logs in as {who}, the admin or a role with admin rights (must be a role of its own)")
            if ssl != "t":
                problems.append("coderd's connection is not TLS")
    if tree.exporter:
        e = tree.exporter
        pw, where = cloud.secret(e)
        if pw is None:
            problems.append(f"the exporters' password is missing ({where})")
        else:
            passwords.append(pw)
            # Another client's query must be visible (pg_read_all_stats, in
            # pg_monitor): keep one running while the exporter looks.
            env = {"PATH": os.environ["PATH"], "PGPASSWORD": server.password}
            bg = subprocess.Popen(["psql", "-X", "-q", "-d", server.conninfo(), "-c", "SELECT pg_sleep(10) /* db-check-busy */"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(50):
                if server.sql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%db-check-busy */%' "
                              "AND pid <> pg_backend_pid();").strip() == "1":
                    break
                time.sleep(0.1)
            r = psql(f"host={server.host} port={e['port']} user={e['username']} dbname={e['database']} sslmode={e['sslmode']}", pw,
                     "SELECT pg_has_role(current_user, 'pg_monitor', 'USAGE'), "
                     "(SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%db-check-busy */%' AND pid <> pg_backend_pid()), "
                     "(SELECT count(*) >= 0 FROM pg_ls_waldir()), "
                     "(SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user);\n")
            server.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%db-check-busy */%' "
                       "AND pid <> pg_backend_pid();")
            bg.wait()
            if r.returncode != 0:
                problems.append(f"the exporter role {e['username']} ({where}) does not log in / read the pg_monitor views: {r.stderr.strip()}")
            else:
                monitor, seen, _, limit = r.stdout.strip().split("|")
                if monitor != "t" or int(seen) < 1:
                    problems.append(f"the exporter role {e['username']} is not in pg_monitor (cannot see other sessions' queries)")
                if int(limit) < 0:
                    problems.append(f"the exporter role {e['username']} has no connection limit")
                w = psql(f"host={server.host} port={e['port']} user={e['username']} dbname={e['database']} sslmode={e['sslmode']}", pw,
                         "CREATE TABLE public.db_check_exporter_write (id int);\n")
                if w.returncode == 0:
                    problems.append(f"the exporter role {e['username']} can CREATE TABLE in public (it should be read-only)")
    if leak_from is not None:
        log = server.log_since(leak_from)
        for p in passwords:
            if p and p in log:
                problems.append("a generated password appears in the server's statement log")
    return passwords


def state_files_clean(cloud, before, problems):
    after = cloud.tree.listing()
    if after != before:
        problems.append(f"the step left files in the tree: {sorted(set(after) - set(before))}")
    left = os.listdir(cloud.home)
    if left:
        problems.append(f"the step left files in $HOME: {left}")


def tail(text, n=12):
    """The error lines first (psql's, the CLIs'), then the last lines."""
    lines = [l for l in text.rstrip("\n").split("\n") if l.strip()]
    errors = [l for l in lines if re.search(r"ERROR|FATAL|DETAIL|[Ee]rror|refused|exists", l)]
    shown = errors[:8] + ["..."] + lines[-n:] if errors and len(lines) > n else lines[-n:]
    return "\n".join("      | " + l for l in shown)


def scenario_first(cloud, block, listing):
    problems = []
    offset = cloud.server.log_size()
    stores, roles = cloud.stores(), cloud.roles()
    r = cloud.run(block, cloud.typed())
    if r.rc != 0:
        wrote = [w for w, same in (("secrets", cloud.stores()["cloud"] == stores["cloud"] and
                                    cloud.stores()["cluster"]["secrets"] == stores["cluster"]["secrets"]),
                                   ("database roles", cloud.roles() == roles)) if not same]
        problems.append(f"exit {r.rc} ({'wrote ' + ' and '.join(wrote) if wrote else 'nothing written'})")
    bad = r.failed_writes()
    if bad:
        problems.append("failed: " + ", ".join(bad))
    check_consumers(cloud, problems, leak_from=offset)
    state_files_clean(cloud, listing, problems)
    return problems, r


def scenario_rerun(cloud, block, listing):
    problems = []
    stores, roles = cloud.stores(), cloud.roles()
    r = cloud.run(block, cloud.typed())
    verdict = ""
    if r.rc == 0:
        bad = r.failed_writes()
        if bad:
            problems.append(f"exit 0 although these failed: {', '.join(bad)}")
        verdict = "succeeded (exit 0)"
    else:
        changed = []
        if cloud.stores() != stores:
            changed.append("secrets")
        if cloud.roles() != roles:
            changed.append("database roles/passwords")
        if changed:
            problems.append(f"exit {r.rc} after writing ({' and '.join(changed)} changed)")
        verdict = f"refused before writing anything (exit {r.rc})"
    check_consumers(cloud, problems)
    state_files_clean(cloud, listing, problems)
    return problems, r, verdict


def scenario_bad_admin(cloud, block, listing):
    problems = []
    typed = cloud.typed(wrong=True)  # (Azure: puts the wrong password in Key Vault first)
    stores, roles = cloud.stores(), cloud.roles()
    r = cloud.run(block, typed)
    if r.rc == 0:
        problems.append("exit 0 with a wrong admin password")
    s = cloud.stores()
    if s["cloud"] != stores["cloud"] or s["cluster"]["secrets"] != stores["cluster"]["secrets"]:
        problems.append("a secret was written although psql failed")
    if cloud.roles() != roles:
        problems.append("database roles changed")
    state_files_clean(cloud, listing, problems)
    return problems, r


def scenario_recover(cloud, block, listing):
    problems = []
    r1 = cloud.run(block, cloud.typed(), fail_writes=True)
    if r1.rc == 0:
        problems.append("exit 0 although the secret store refused the write")
    r2 = cloud.run(block, cloud.typed())
    if r2.rc != 0:
        problems.append(f"the run after the failed one: exit {r2.rc}")
    bad = r2.failed_writes()
    if bad:
        problems.append("the run after the failed one: failed: " + ", ".join(bad))
    check_consumers(cloud, problems)
    state_files_clean(cloud, listing, problems)
    return problems, Run(r2.rc, f"--- run with the store refusing writes (exit {r1.rc}):\n{r1.output}--- run again (exit {r2.rc}):\n{r2.output}", r2.calls)


SCENARIOS = ("first", "rerun", "bad-admin", "recover")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg-bin", required=True, help="PostgreSQL 16 server bin/ (initdb, pg_ctl, postgres)")
    ap.add_argument("--block", action="append", default=[], metavar="TREE=FILE",
                    help="run FILE instead of TREE's README block (to prove a corrected block)")
    ap.add_argument("--strict-pg-monitor", action="store_true",
                    help="no admin holds ADMIN OPTION on pg_monitor (stock PostgreSQL 16 rules)")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--any-version", action="store_true",
                    help="run trees that pin another PostgreSQL major than the server's (exploration only)")
    ap.add_argument("--report", help="write a JSON report here")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the step's output for passing scenarios too")
    ap.add_argument("--one-per-kind", action="store_true",
                    help="run the first tree of each kind (cloud x exporter role or not x kubectl or External Secrets) "
                         "and fail if a kind has no tree")
    ap.add_argument("trees", nargs="+")
    a = ap.parse_args()
    # Stop the server (finally below) when CI or a person stops us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for tool in ("psql", "openssl", "jq", "bash", "setpriv"):
        if not shutil.which(tool):
            die(f"`{tool}` is not on PATH")
    overrides = dict(x.split("=", 1) for x in a.block)
    wanted = a.scenarios.split(",")
    # Memory-backed when possible: every scenario copies the data directory.
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    work = tempfile.mkdtemp(prefix="coder-gen-db-check-", dir=shm)
    server = Server(a.pg_bin, work)
    report, failed, passed = [], 0, 0
    t0 = time.time()
    paths = a.trees
    if a.one_per_kind:
        chosen = {}
        for p in paths:
            chosen.setdefault(tree_kind(p), p)
        missing = [k for k in KINDS if k not in chosen]
        if missing:
            die("no tree of kind " + ", ".join("/".join(k) for k in missing) + " (add one to tests/data/database-variants/)")
        paths = [chosen[k] for k in KINDS]
    trees = [Tree(p) for p in paths]
    if a.one_per_kind:
        for t, k in zip(trees, KINDS):
            if t.kind() != k:
                die(f"{t.name}: its kind is {'/'.join(t.kind())}, not {'/'.join(k)} as its files suggested")
        print("-- one tree per kind: " + ", ".join(f"{t.name} ({'/'.join(t.kind())})" for t in trees))
    try:
        server.init()
        for tree in trees:
            if tree.block is None:
                print(f"-- {tree.name}: no database step (skipped: nothing to run)")
                continue
            block = tree.block
            source = "README.md"
            if tree.name in overrides:
                block = open(overrides[tree.name]).read()
                source = overrides[tree.name]
            listing = tree.listing()
            if tree.pg_major != server.major and not a.any_version:
                failed += 1
                print(f"-- {tree.name}: FAIL the tree pins PostgreSQL {tree.pg_major}, the server is {server.major}: "
                      f"run it against a {tree.pg_major} server (--pg-bin)")
                continue
            print(f"-- {tree.name} ({tree.cloud}, admin {tree.admin}, block from {source}){' [strict pg_monitor]' if a.strict_pg_monitor else ''}")
            t = time.time()
            cloud = None
            for name in wanted:
                if a.one_per_kind and not covers(tree.kind(), name):
                    continue
                if name in ("first", "bad-admin", "recover") or cloud is None:
                    cloud = Cloud(server, tree, work, a.strict_pg_monitor)
                    if name == "rerun":
                        scenario_first(cloud, block, listing)
                verdict = ""
                if name == "first":
                    problems, r = scenario_first(cloud, block, listing)
                elif name == "rerun":
                    problems, r, verdict = scenario_rerun(cloud, block, listing)
                elif name == "bad-admin":
                    problems, r = scenario_bad_admin(cloud, block, listing)
                elif name == "recover":
                    problems, r = scenario_recover(cloud, block, listing)
                else:
                    die(f"unknown scenario {name}")
                ok = not problems
                passed += ok
                failed += not ok
                label = f"   {'ok  ' if ok else 'FAIL'} {name}" + (f": {verdict}" if verdict else "")
                print(label + ("" if ok else ": " + "; ".join(problems)))
                if not ok or a.verbose:
                    print(tail(r.output, 40 if a.verbose else 12))
                report.append({"tree": tree.name, "cloud": tree.cloud, "scenario": name, "ok": ok, "problems": problems,
                               "verdict": verdict, "exit": r.rc, "output": r.output})
            print(f"   ({time.time() - t:.1f} s)")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    if a.report:
        with open(a.report, "w") as f:
            json.dump(report, f, indent=1)
    print(f"check-database: {passed} passed, {failed} failed ({time.time() - t0:.0f} s)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
