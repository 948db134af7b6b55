//! ConfigMaps and Secrets changed in place during a rollout, end to end: real git repositories
//! in temp dirs (v1 tagged, the change in the working tree), the built binary, every format.

use crate::common::{check_only, findings, git, gonogo, project, run, write};

const SECRET_OLD: &str = "s3cr3t-old-value";
const SECRET_OLD_B64: &str = "czNjcjN0LW9sZC12YWx1ZQ==";
const SECRET_NEW: &str = "s3cr3t-new-value";

/// Deployed: `api-config` (`log_level`, `timeout`) read by env key and as a volume, `api-secret`
/// read by env key, and `api-config-v1` read by the worker.
fn deployed(image: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: api-config
data:
  log_level: info
  timeout: 30s
---
apiVersion: v1
kind: Secret
metadata:
  name: api-secret
data:
  password: {SECRET_OLD_B64}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: worker-config-v1
data:
  queue: orders
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 3
  selector:
    matchLabels: {{app: api}}
  template:
    metadata:
      labels: {{app: api}}
    spec:
      containers:
        - name: api
          image: {image}
          env:
            - name: LOG_LEVEL
              valueFrom: {{configMapKeyRef: {{name: api-config, key: log_level}}}}
            - name: DB_PASSWORD
              valueFrom: {{secretKeyRef: {{name: api-secret, key: password}}}}
          volumeMounts:
            - {{name: conf, mountPath: /etc/api}}
      volumes:
        - name: conf
          configMap: {{name: api-config}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  replicas: 2
  selector:
    matchLabels: {{app: worker}}
  template:
    metadata:
      labels: {{app: worker}}
    spec:
      containers:
        - name: worker
          image: worker:1
          envFrom:
            - configMapRef: {{name: worker-config-v1}}
"#
    )
}

/// This deploy: `log_level` renamed to `logLevel` (and the env reference with it), `timeout`
/// changed, the Secret's value changed through `stringData`, the worker's config renamed to
/// `-v2` with the reference updated and `-v1` dropped.
fn changed() -> String {
    deployed("api:2")
        .replace(
            "  log_level: info\n  timeout: 30s",
            "  logLevel: info\n  timeout: 45s",
        )
        .replace("key: log_level", "key: logLevel")
        .replace(
            &format!("data:\n  password: {SECRET_OLD_B64}"),
            &format!("stringData:\n  password: {SECRET_NEW}"),
        )
        .replace("worker-config-v1", "worker-config-v2")
}

/// A repository whose project (with its gonogo.yaml) is `services/api`, v1 tagged.
fn repo_with_v1(manifests: &str) -> tempfile::TempDir {
    let dir = project(&[
        (
            "services/api/gonogo.yaml",
            "checks:\n  kubernetes:\n    manifests: [\"deploy/\"]\n",
        ),
        ("services/api/deploy/app.yaml", manifests),
        ("README.md", "monorepo\n"),
    ]);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "v1"]);
    git(dir.path(), &["tag", "v1"]);
    dir
}

fn messages(check: &serde_json::Value, rule: &str) -> Vec<String> {
    findings(check, rule)
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn config_changed_in_place_is_judged_against_the_tagged_version() {
    let repo = repo_with_v1(&deployed("api:1"));
    let root = repo.path().join("services/api");
    write(&root, "deploy/app.yaml", &changed());
    let (out, rollout) = check_only(&root, "rollout", &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_eq!(rollout["status"], "fail", "{rollout}");

    let removed = messages(&rollout, "rollout/config-key-removed");
    assert_eq!(removed.len(), 1, "{rollout}");
    assert!(
        removed[0].contains("ConfigMap/api-config loses `log_level` since v1")
            && removed[0].contains("Deployment/api")
            && removed[0].contains("container api: env LOG_LEVEL (key log_level)")
            && removed[0].contains("looks renamed to `logLevel`"),
        "{}",
        removed[0]
    );
    let location = &findings(&rollout, "rollout/config-key-removed")[0]["location"];
    assert_eq!(location["path"], "deploy/app.yaml", "{location}");

    let in_place = messages(&rollout, "rollout/config-changed-in-place");
    assert_eq!(in_place.len(), 2, "{rollout}");
    let config = in_place
        .iter()
        .find(|m| m.starts_with("ConfigMap/api-config "))
        .unwrap();
    assert!(
        config.contains("volume at /etc/api") && config.contains("`timeout`"),
        "{config}"
    );
    let secret = in_place
        .iter()
        .find(|m| m.starts_with("Secret/api-secret "))
        .unwrap();
    assert!(
        secret.contains("key `password`") && secret.contains("env DB_PASSWORD"),
        "{secret}"
    );

    let dropped = messages(&rollout, "rollout/config-deleted-while-referenced");
    assert_eq!(dropped.len(), 1, "{rollout}");
    assert!(
        dropped[0].contains("ConfigMap/worker-config-v1")
            && dropped[0].contains("Deployment/worker")
            && dropped[0].contains("envFrom"),
        "{}",
        dropped[0]
    );
    // The renamed worker config with its reference updated is the safe pattern: nothing else
    // about it.
    assert!(
        !rollout.to_string().contains("worker-config-v2"),
        "{rollout}"
    );
}

#[test]
fn secret_values_never_reach_any_format() {
    let repo = repo_with_v1(&deployed("api:1"));
    let root = repo.path().join("services/api");
    write(&root, "deploy/app.yaml", &changed());
    for format in ["table", "json", "markdown", "github", "junit", "sarif"] {
        let out = run(gonogo()
            .arg("check")
            .arg(&root)
            .args(["--only", "rollout", "--format", format]));
        assert_eq!(out.code, 1, "{format}: {}", out.stderr);
        assert!(
            out.stdout.contains("api-secret"),
            "{format} names the Secret: {}",
            out.stdout
        );
        for value in [SECRET_OLD, SECRET_OLD_B64, SECRET_NEW] {
            assert!(
                !out.stdout.contains(value) && !out.stderr.contains(value),
                "{format} prints a Secret value: {}",
                out.stdout
            );
        }
    }
}

#[test]
fn without_a_deployed_version_the_comparison_says_it_did_not_run() {
    // A repository without tags: no base is known.
    let dir = project(&[
        (
            "gonogo.yaml",
            "checks:\n  kubernetes:\n    manifests: [\"deploy/\"]\n",
        ),
        ("deploy/app.yaml", &deployed("api:1")),
    ]);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "first"]);
    let (out, rollout) = check_only(dir.path(), "rollout", &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let note = messages(&rollout, "rollout/config-not-compared");
    assert_eq!(note.len(), 1, "{rollout}");
    assert!(
        note[0].contains("not compared with the deployed version (3 objects)")
            && note[0].contains("--base"),
        "{}",
        note[0]
    );
    assert_eq!(
        findings(&rollout, "rollout/config-not-compared")[0]["severity"],
        "info"
    );

    // Not a git repository at all.
    let plain = project(&[
        (
            "gonogo.yaml",
            "checks:\n  kubernetes:\n    manifests: [\"deploy/\"]\n",
        ),
        ("deploy/app.yaml", &deployed("api:1")),
    ]);
    let (_, rollout) = check_only(plain.path(), "rollout", &[]);
    let note = messages(&rollout, "rollout/config-not-compared");
    assert!(
        note.len() == 1 && note[0].contains("is not inside a git repository"),
        "{rollout}"
    );
}

#[test]
fn a_manifest_that_did_not_parse_at_the_base_is_named_and_the_rest_compared() {
    let repo = repo_with_v1(&deployed("api:1"));
    let root = repo.path().join("services/api");
    // v2 adds a broken file and tags it; the working tree fixes it and changes the config.
    write(
        &root,
        "deploy/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\ndata: [\n",
    );
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "v2"]);
    git(repo.path(), &["tag", "v2"]);
    write(
        &root,
        "deploy/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\ndata: {a: b}\n",
    );
    write(&root, "deploy/app.yaml", &changed());
    let (_, rollout) = check_only(&root, "rollout", &["--base", "v2"]);
    let notes = messages(&rollout, "rollout/config-not-compared");
    assert!(
        notes.len() == 1
            && notes[0].starts_with("deploy/extra.yaml:3:")
            && notes[0].contains("(at v2): left out of the comparison"),
        "{rollout}"
    );
    assert_eq!(findings(&rollout, "rollout/config-key-removed").len(), 1);
}

/// `kustomize build` output committed as the manifests (discovered under `deploy/`, no
/// config): the generators' hash-suffixed names change with the data and the references
/// follow, so nothing is changed in place.
#[test]
fn kustomize_generator_output_is_quiet() {
    let rendered = |config_suffix: &str, secret_suffix: &str, timeout: &str, password: &str| {
        format!(
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: api-config-{config_suffix}
data:
  timeout: {timeout}
---
apiVersion: v1
kind: Secret
metadata:
  name: api-secret-{secret_suffix}
data:
  password: {password}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 3
  selector:
    matchLabels: {{app: api}}
  template:
    metadata:
      labels: {{app: api}}
    spec:
      containers:
        - name: api
          image: api:1
          env:
            - name: DB_PASSWORD
              valueFrom: {{secretKeyRef: {{name: api-secret-{secret_suffix}, key: password}}}}
          volumeMounts:
            - {{name: conf, mountPath: /etc/api}}
      volumes:
        - name: conf
          configMap: {{name: api-config-{config_suffix}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: api
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {{app: api}}
"#
        )
    };
    let dir = project(&[(
        "deploy/rendered.yaml",
        &rendered("5g2dhk7b8f", "t2fmb8d6h4", "30s", SECRET_OLD_B64),
    )]);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "v1"]);
    git(dir.path(), &["tag", "v1"]);
    write(
        dir.path(),
        "deploy/rendered.yaml",
        &rendered("mk8c2f9b6t", "g7b5k4m2dh", "45s", "bmV3LXZhbHVl"),
    );
    let (out, rollout) = check_only(dir.path(), "rollout", &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(rollout["status"], "pass", "{rollout}");
    let dropped = findings(&rollout, "rollout/config-deleted-while-referenced");
    assert_eq!(dropped.len(), 2, "{rollout}");
    assert!(dropped.iter().all(|f| f["severity"] == "info"), "{rollout}");
}

/// A rendered Helm chart: with a `checksum/config` annotation the change rolls the pods (quiet);
/// without it, the pods are not restarted (warn).
#[test]
fn helm_checksum_annotation_decides_whether_the_pods_roll() {
    let chart = |timeout: &str, checksum: Option<&str>| {
        let annotations = checksum
            .map(|c| format!("      annotations:\n        checksum/config: {c}\n"))
            .unwrap_or_default();
        format!(
            r#"---
# Source: api/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: api
  labels: {{app.kubernetes.io/managed-by: Helm, helm.sh/chart: api-1.0.0}}
data:
  config.yaml: |
    timeout: {timeout}
---
# Source: api/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 3
  selector:
    matchLabels: {{app: api}}
  template:
    metadata:
      labels: {{app: api}}
{annotations}    spec:
      containers:
        - name: api
          image: api:1
          volumeMounts:
            - {{name: conf, mountPath: /etc/api}}
      volumes:
        - name: conf
          configMap: {{name: api}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: api
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {{app: api}}
"#
        )
    };
    let cases = [(Some(("a1b2c3", "d4e5f6")), "pass", 0), (None, "warn", 0)];
    for (checksums, status, code) in cases {
        let dir = project(&[
            (
                "gonogo.yaml",
                "checks:\n  kubernetes:\n    manifests: [\"rendered/*.yaml\"]\n",
            ),
            ("rendered/api.yaml", &chart("30s", checksums.map(|c| c.0))),
        ]);
        git(dir.path(), &["init", "-q"]);
        git(dir.path(), &["add", "-A"]);
        git(dir.path(), &["commit", "-qm", "v1"]);
        git(dir.path(), &["tag", "v1"]);
        write(
            dir.path(),
            "rendered/api.yaml",
            &chart("45s", checksums.map(|c| c.1)),
        );
        let (out, rollout) = check_only(dir.path(), "rollout", &[]);
        assert_eq!(out.code, code, "{}", out.stdout);
        assert_eq!(rollout["status"], status, "{rollout}");
        let not_rolled = findings(&rollout, "rollout/config-change-not-rolled");
        assert_eq!(
            not_rolled.len(),
            usize::from(checksums.is_none()),
            "{rollout}"
        );
        if checksums.is_some() {
            let info = findings(&rollout, "rollout/config-changed-in-place");
            assert!(
                info.len() == 1 && info[0]["severity"] == "info",
                "{rollout}"
            );
        }
    }
}

#[test]
fn immutable_config_changed_in_place_fails_the_deploy() {
    let manifest = |value: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags-v3\nimmutable: true\ndata:\n  new_checkout: \"{value}\"\n"
        )
    };
    let dir = project(&[
        (
            "gonogo.yaml",
            "checks:\n  kubernetes:\n    manifests: [\"k8s/flags.yaml\"]\n",
        ),
        ("k8s/flags.yaml", &manifest("off")),
    ]);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "v1"]);
    git(dir.path(), &["tag", "v1"]);
    write(dir.path(), "k8s/flags.yaml", &manifest("on"));
    let (out, rollout) = check_only(dir.path(), "rollout", &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let failed = findings(&rollout, "rollout/config-immutable-changed");
    assert_eq!(failed.len(), 1, "{rollout}");
    assert_eq!(failed[0]["location"]["line"], 5);
    assert!(
        failed[0]["message"]
            .as_str()
            .unwrap()
            .contains("the API server rejects the update"),
        "{rollout}"
    );
}

/// One bundle as a project that ships several (`install.yaml`, `ha/install.yaml`) writes it:
/// `ConfigMap/app-config` and the Deployment that mounts it.
fn bundle(mode: &str, image: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  mode: {mode}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 3
  selector:
    matchLabels: {{app: app}}
  template:
    metadata:
      labels: {{app: app}}
    spec:
      containers:
        - name: app
          image: {image}
          volumeMounts:
            - {{name: conf, mountPath: /etc/app}}
      volumes:
        - name: conf
          configMap: {{name: app-config}}
"#
    )
}

/// A repository whose manifests are under `deploy/` (discovered), v1 tagged.
fn bundles_at_v1(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = project(files);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "v1"]);
    git(dir.path(), &["tag", "v1"]);
    dir
}

fn config_findings(rollout: &serde_json::Value) -> Vec<String> {
    rollout["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("rollout/config-"))
        .map(|f| format!("{}: {}", f["rule"], f["message"]))
        .collect()
}

/// Argo CD's layout (field test, master against v2.7.7): `install-with-hydrator.yaml` is new
/// and copies the objects of `install.yaml`; its ConfigMap was paired with the same-name one
/// of another bundle (`ha/install.yaml`, whose value differs) and reported as changed in place.
#[test]
fn a_new_bundle_file_is_not_a_change_of_another_bundles_object() {
    let repo = bundles_at_v1(&[
        ("deploy/install.yaml", &bundle("standard", "app:1")),
        ("deploy/ha/install.yaml", &bundle("ha", "app:1")),
    ]);
    write(
        repo.path(),
        "deploy/install-with-extras.yaml",
        &bundle("standard", "app:2"),
    );
    let (out, rollout) = check_only(repo.path(), "rollout", &[]);
    assert_eq!(
        config_findings(&rollout),
        Vec::<String>::new(),
        "{}",
        out.stdout
    );

    // The same value change inside one bundle is still this bundle's change.
    write(
        repo.path(),
        "deploy/ha/install.yaml",
        &bundle("ha-v2", "app:2"),
    );
    let (_, rollout) = check_only(repo.path(), "rollout", &[]);
    let found = config_findings(&rollout);
    assert!(
        found.len() == 1
            && found[0].contains("rollout/config-changed-in-place")
            && found[0].contains("ConfigMap/app-config changes in place since v1 (key `mode`)"),
        "{found:?}"
    );
    assert_eq!(
        findings(&rollout, "rollout/config-changed-in-place")[0]["location"]["path"],
        "deploy/ha/install.yaml"
    );
}

/// A bundle that drops its copy of an object another bundle still holds drops it for the
/// pods it deploys: the other bundle's copy is not this one.
#[test]
fn an_object_dropped_from_one_bundle_is_dropped_even_if_another_keeps_it() {
    let repo = bundles_at_v1(&[
        ("deploy/install.yaml", &bundle("standard", "app:1")),
        ("deploy/ha/install.yaml", &bundle("ha", "app:1")),
    ]);
    let renamed = bundle("standard", "app:2").replace("app-config", "app-config-v2");
    write(repo.path(), "deploy/install.yaml", &renamed);
    let (_, rollout) = check_only(repo.path(), "rollout", &[]);
    let dropped = messages(&rollout, "rollout/config-deleted-while-referenced");
    assert!(
        dropped.len() == 1
            && dropped[0].starts_with(
                "ConfigMap/app-config (deploy/install.yaml in v1) is not in this version, and the deployed Deployment/app reads it"
            ),
        "{rollout}"
    );
}

/// An object moved to another file in the same change is the same object: its change is
/// still reported.
#[test]
fn an_object_moved_to_another_file_is_compared_with_where_it_was() {
    let (config, workload) = bundle("one", "app:1")
        .split_once("---\n")
        .map(|(c, w)| (c.to_string(), w.to_string()))
        .unwrap();
    let repo = bundles_at_v1(&[
        ("deploy/a.yaml", &format!("{config}---\n{workload}")),
        (
            "deploy/b.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {x: y}\n",
        ),
    ]);
    write(
        repo.path(),
        "deploy/a.yaml",
        &workload.replace("app:1", "app:2"),
    );
    write(
        repo.path(),
        "deploy/b.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: other}}\ndata: {{x: y}}\n---\n{}",
            config.replace("mode: one", "mode: two")
        ),
    );
    let (_, rollout) = check_only(repo.path(), "rollout", &[]);
    let changed = messages(&rollout, "rollout/config-changed-in-place");
    assert!(
        changed.len() == 1
            && changed[0].contains("ConfigMap/app-config changes in place since v1 (key `mode`)")
            && changed[0].contains("Deployment/app"),
        "{rollout}"
    );
    assert!(
        findings(&rollout, "rollout/config-deleted-while-referenced").is_empty(),
        "{rollout}"
    );
}

/// A file renamed with `git mv` and changed: its objects are the renamed file's.
#[test]
fn a_renamed_file_is_compared_with_its_old_name() {
    let repo = bundles_at_v1(&[("deploy/app.yaml", &bundle("one", "app:1"))]);
    git(
        repo.path(),
        &["mv", "deploy/app.yaml", "deploy/install.yaml"],
    );
    write(repo.path(), "deploy/install.yaml", &bundle("two", "app:2"));
    let (_, rollout) = check_only(repo.path(), "rollout", &[]);
    let changed = messages(&rollout, "rollout/config-changed-in-place");
    assert!(
        changed.len() == 1
            && changed[0].contains("ConfigMap/app-config changes in place since v1 (key `mode`)")
            && changed[0].contains("Deployment/app: its running old pods see the new data"),
        "{rollout}"
    );
    assert_eq!(config_findings(&rollout).len(), 1, "{rollout}");
}

/// A workload that reads a key through several variables, or is written in two files (a base
/// and a copy), is named once, its reads grouped per container.
#[test]
fn a_workload_is_named_once_with_its_reads_grouped_by_container() {
    let config = |mode: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  mode: {mode}\n  level: {mode}\n"
        )
    };
    let workload = |image: &str, variable: &str| {
        format!(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector:
    matchLabels: {{app: app}}
  template:
    metadata:
      labels: {{app: app}}
    spec:
      containers:
        - name: app
          image: {image}
          env:
            - {{name: MODE, valueFrom: {{configMapKeyRef: {{name: app-config, key: mode}}}}}}
            - {{name: {variable}, valueFrom: {{configMapKeyRef: {{name: app-config, key: mode}}}}}}
          volumeMounts:
            - {{name: conf, mountPath: /etc/app}}
        - name: sidecar
          image: {image}
          env:
            - {{name: LEVEL, valueFrom: {{configMapKeyRef: {{name: app-config, key: level}}}}}}
      volumes:
        - name: conf
          configMap: {{name: app-config}}
"#
        )
    };
    let repo = bundles_at_v1(&[
        ("deploy/config.yaml", &config("a")),
        ("deploy/app.yaml", &workload("app:1", "APP_MODE")),
        ("deploy/app-copy.yaml", &workload("app:1", "COPY_MODE")),
    ]);
    write(repo.path(), "deploy/config.yaml", &config("b"));
    write(
        repo.path(),
        "deploy/app.yaml",
        &workload("app:2", "APP_MODE"),
    );
    write(
        repo.path(),
        "deploy/app-copy.yaml",
        &workload("app:2", "COPY_MODE"),
    );
    let (_, rollout) = check_only(repo.path(), "rollout", &[]);
    let changed = messages(&rollout, "rollout/config-changed-in-place");
    assert_eq!(changed.len(), 1, "{rollout}");
    assert_eq!(
        changed[0],
        "ConfigMap/app-config changes in place since v1 (keys `level`, `mode`) while the deployed pods read it. \
         Deployment/app: its running old pods see the new data within about a minute, before they are replaced \
         (container app: volume at /etc/app); an old pod that restarts mid-rollout, and a `kubectl rollout undo`, \
         starts with the new values (container app: env MODE, COPY_MODE, APP_MODE (key mode); container sidecar: env LEVEL (key level))"
    );
}

/// kube-prometheus's Grafana (field test, v0.13.0 → v0.14.0): the pod template carries
/// `checksum/grafana-config` and `checksum/grafana-datasources`, one per object they hash, and
/// none for the dashboard ConfigMaps. A changed dashboard is not covered by those: it was
/// reported as `info` ("the checksum annotation changes with it, the intended pattern").
#[test]
fn a_checksum_annotation_that_names_another_object_does_not_cover_this_one() {
    let manifests = |version: &str| {
        format!(
            r#"apiVersion: v1
kind: Secret
metadata: {{name: grafana-config}}
stringData: {{grafana.ini: "v{version}"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: grafana-dashboard-nodes}}
data: {{nodes.json: "v{version}"}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: grafana}}
spec:
  selector:
    matchLabels: {{app: grafana}}
  template:
    metadata:
      labels: {{app: grafana}}
      annotations:
        checksum/grafana-config: "hash-{version}"
    spec:
      containers:
        - name: grafana
          image: grafana:{version}
          volumeMounts:
            - {{name: config, mountPath: /etc/grafana}}
            - {{name: nodes, mountPath: /dashboards/nodes}}
      volumes:
        - {{name: config, secret: {{secretName: grafana-config}}}}
        - {{name: nodes, configMap: {{name: grafana-dashboard-nodes}}}}
"#
        )
    };
    let repo = bundles_at_v1(&[("deploy/grafana.yaml", &manifests("1"))]);
    write(repo.path(), "deploy/grafana.yaml", &manifests("2"));
    let (_, rollout) = check_only(repo.path(), "rollout", &[]);
    let changed = findings(&rollout, "rollout/config-changed-in-place");
    assert_eq!(changed.len(), 2, "{rollout}");
    let of = |object: &str| {
        changed
            .iter()
            .find(|f| f["message"].as_str().unwrap().starts_with(object))
            .unwrap_or_else(|| panic!("{object}: {rollout}"))
    };
    let config = of("Secret/grafana-config");
    assert_eq!(config["severity"], "info", "{config}");
    assert!(
        config["message"]
            .as_str()
            .unwrap()
            .contains("the pod template's `checksum/grafana-config` annotation changes with it"),
        "{config}"
    );
    let dashboard = of("ConfigMap/grafana-dashboard-nodes");
    assert_eq!(dashboard["severity"], "warn", "{dashboard}");
    assert!(
        !dashboard["message"].as_str().unwrap().contains("checksum"),
        "{dashboard}"
    );
}

/// Argo CD's `manifests/base` (field test, v2.7.7 → v2.7.8): the Deployment file names
/// `image: …:latest` in both versions and `kustomization.yaml` sets the release tag with
/// `images:`, so the built pod template changes although the file does not. The changed
/// ConfigMap was reported as `config-change-not-rolled` ("restarts none of its pods").
#[test]
fn a_pod_template_that_a_kustomization_rewrites_is_not_called_unrolled() {
    let (config, workload) = bundle("one", "app:latest")
        .split_once("---\n")
        .map(|(c, w)| (c.to_string(), w.to_string()))
        .unwrap();
    let kustomization = |tag: &str| {
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [config.yaml, app.yaml]\nimages:\n  - name: app\n    newTag: \"{tag}\"\n"
        )
    };
    let repo = bundles_at_v1(&[
        ("deploy/base/config.yaml", &config),
        ("deploy/base/app.yaml", &workload),
        ("deploy/base/kustomization.yaml", &kustomization("1.0")),
        ("deploy/plain/config.yaml", &config),
        ("deploy/plain/app.yaml", &workload),
    ]);
    let changed_config = config.replace("mode: one", "mode: two");
    write(repo.path(), "deploy/base/config.yaml", &changed_config);
    write(
        repo.path(),
        "deploy/base/kustomization.yaml",
        &kustomization("1.1"),
    );
    write(repo.path(), "deploy/plain/config.yaml", &changed_config);
    let (_, rollout) = check_only(repo.path(), "rollout", &[]);
    let not_rolled = findings(&rollout, "rollout/config-change-not-rolled");
    assert!(
        not_rolled.len() == 1 && not_rolled[0]["location"]["path"] == "deploy/plain/app.yaml",
        "only the plain copy, which nothing rewrites, is unrolled: {rollout}"
    );
    let in_place = findings(&rollout, "rollout/config-changed-in-place");
    assert!(
        in_place.len() == 1 && in_place[0]["location"]["path"] == "deploy/base/config.yaml",
        "{rollout}"
    );
}
